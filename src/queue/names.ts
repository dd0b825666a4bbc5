/** The one owner of queue names and job ids (BullMQ's queue-keys habit). */
export const QUEUE = {
  /** Fetch a repo branch, read its specs, enqueue builds. Cheap; coalesced per branch. */
  sources: 'sources',
  /** Build and push one app at one commit. jobId = app:sha, so a commit is queued once. */
  builds: 'builds',
} as const;

/** BullMQ forbids ':' in custom job ids, so parts are joined with '.'. */
export function buildJobId(app: string, sha: string): string {
  return `build.${app}.${sha}`;
}

/** A sync job per accepted delivery or poll tick; the coalescing pointer skips stale ones. */
export function syncJobId(repo: string, branch: string, nonce: string): string {
  return `sync.${repo}.${Buffer.from(branch).toString('base64url')}.${nonce}`;
}
