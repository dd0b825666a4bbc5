/** The one owner of queue names and job ids (BullMQ's queue-keys habit). */
export const QUEUE = {
  /** Fetch a repo branch, read its specs, enqueue builds. Cheap; coalesced per branch. */
  sources: 'sources',
  /** Build and push one app at one commit. jobId = app:sha, so a commit is queued once. */
  builds: 'builds',
  /** Move one app environment to one revision. One at a time per app+env (a Redis lease). */
  rollouts: 'rollouts',
} as const;

/** BullMQ priorities: lower runs first. Rollbacks jump the queue (DESIGN.md). */
export const PRIORITY = { rollback: 1, deploy: 10 } as const;

/** BullMQ forbids ':' in custom job ids, so parts are joined with '.'. */
export function buildJobId(app: string, sha: string): string {
  return `build.${app}.${sha}`;
}

/** A sync job per accepted delivery or poll tick; the coalescing pointer skips stale ones. */
export function syncJobId(repo: string, branch: string, nonce: string): string {
  return `sync.${repo}.${Buffer.from(branch).toString('base64url')}.${nonce}`;
}

/** One rollout job per app, env, revision and kind: a redelivered request is queued once. */
export function rolloutJobId(
  app: string,
  env: string,
  sha: string,
  kind: string,
  nonce: string,
): string {
  return `rollout.${app}.${env}.${sha.slice(0, 12)}.${kind}.${nonce}`;
}
