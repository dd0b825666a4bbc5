import type { Logger } from 'pino';
import { parseAppSpec, type AppSpec } from '../config/app-spec.js';
import type { KnownTargets } from '../config/spec-targets.js';
import { DEFAULT_SPEC_LIMITS, checkSpecLimits, type SpecLimits } from '../config/spec-limits.js';
import { DEFAULT_MAX_BYTES } from '../config/yaml-source.js';
import { GantryError, errorMessage, isGantryError } from '../errors.js';
import type { BuildJob, SyncJob } from '../queue/jobs.js';
import { buildJobId } from '../queue/names.js';
import type { Queues } from '../queue/queues.js';
import type { BuildRecord, CommitMeta, Revision } from '../store/records.js';
import type { Store } from '../store/store.js';
import { prNumberFromMessage } from './commit-meta.js';
import { appOwnedError, claimApp } from './ownership.js';
import { pushChange, rangeBases, type PushChange } from './push-range.js';
import type { RepoRegistry, TrackedRepo } from './repos.js';
import { appVerdict, watchedPaths, watchesEverything } from './watch-paths.js';

export interface SyncDeps {
  store: Store;
  queues: Queues;
  repos: RepoRegistry;
  log: Logger;
  /** A build following another push of its branch within this long waits this long (see buildDelay). */
  buildDebounceMs: number;
  /** The most replicas and surge a spec may ask for (deploy.maxReplicas/maxSurge; default 200/50). */
  specLimits?: SpecLimits;
  /** The controller's targets: a gantry.yaml naming another is refused at the push. */
  targets?: KnownTargets | undefined;
}

export type SyncOutcome =
  | { kind: 'untracked' }
  | { kind: 'coalesced'; into: string }
  | { kind: 'synced'; sha: string; builds: string[]; failed: string[]; skipped: string[] };

/**
 * Revisions looked through for an app's previous one on the branch. Past them (an app busy on
 * other branches) it counts as having none there, which only ever builds more, never less.
 */
const RECENT_REVISIONS = 10;

/**
 * How long a new build waits (leading-edge debounce): not at all when the branch was quiet for
 * `debounceMs` before this sync (a lone push goes live without waiting), else `debounceMs`, so the
 * rest of a burst coalesces into its last commit. `lastSyncAt`: when the sync that recorded the
 * branch's previous head started.
 */
export function buildDelay(
  debounceMs: number,
  lastSyncAt: number | undefined,
  now: number,
): number {
  return lastSyncAt !== undefined && now - lastSyncAt < debounceMs ? debounceMs : 0;
}

/** Where an app's spec lives in the repo. */
export function specPath(appPath: string): string {
  return appPath === '.' ? 'gantry.yaml' : `${appPath.replace(/\/+$/, '')}/gantry.yaml`;
}

/** The `app:` a broken spec still states plainly on a line of its own, if any. */
const APP_LINE = /^app:[ \t]*["']?([a-z][a-z0-9-]{0,62})["']?[ \t]*(?:#.*)?$/m;

/**
 * An app's name when its spec is invalid: the last one seen at that path, else the name the
 * broken file states, else one made from the path, so the failure is filed where users look.
 */
async function fallbackAppName(
  deps: SyncDeps,
  repo: TrackedRepo,
  appPath: string,
  text: string | undefined,
) {
  const known = await deps.store.appAtPath(repo.config.name, appPath);
  if (known) return known;
  const stated = text === undefined ? undefined : APP_LINE.exec(text)?.[1];
  if (stated) return stated;
  const base = appPath === '.' ? repo.config.name : appPath.split('/').pop()!;
  return base.toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

/**
 * Fetches a branch and turns its head into builds, one per app in the repo:
 * 1. skip if a newer sync of this branch is already queued (it will fetch anyway);
 * 2. fetch: the head the repo reports is the truth, the webhook's SHA only a hint;
 * 3. per app, read and validate gantry.yaml at that exact commit;
 * 4. path filters: unless the app watches the whole repository, diff the trees since the earlier
 *    head(s) (once per sync; everything counts as changed when they are unknown);
 * 5. record the revision and enqueue its build (or record why it cannot be built, or why the
 *    push does not concern the app: skipped);
 * 6. record the head last, so a build that sees a newer head knows that head's build is queued.
 */
export async function syncBranch(
  deps: SyncDeps,
  job: SyncJob,
  jobId: string,
): Promise<SyncOutcome> {
  const repo = deps.repos.get(job.repo);
  if (!repo.config.branches.includes(job.branch)) return { kind: 'untracked' };

  const latest = await deps.store.latestSync(job.repo, job.branch);
  if (latest && latest !== jobId) {
    const state = await deps.queues.sources.getJobState(latest);
    if (state === 'waiting' || state === 'delayed' || state === 'prioritized') {
      return { kind: 'coalesced', into: latest };
    }
  }

  // Read before this sync records its own head: the last one a sync of this branch looked at.
  const last = await deps.store.latestHeadAt(job.repo, job.branch);
  const lastHead = last?.sha;
  const fetchStartedAt = Date.now();
  const delay = buildDelay(deps.buildDebounceMs, last?.at, fetchStartedAt);
  const sha = await repo.cache.fetch(job.branch);
  const info = await repo.cache.commitInfo(sha);
  const commit: CommitMeta = {
    sha,
    message: info.message,
    author: info.author,
    prNumber: prNumberFromMessage(info.message) ?? (job.hintSha === sha ? job.prNumber : undefined),
  };

  // Diffed once, and only if an app needs it: one watching the whole repository never does.
  const range = rangeBases(job.before, lastHead);
  let diffed: Promise<PushChange> | undefined;
  const change = () =>
    (diffed ??=
      range.kind === 'all'
        ? Promise.resolve(range)
        : repo.cache.changesSince(range.bases, sha).then((found) => pushChange(range, sha, found)));

  const builds: string[] = [];
  const failed: string[] = [];
  const skipped: string[] = [];
  for (const appPath of repo.config.apps) {
    const outcome = await syncApp(deps, repo, job, appPath, commit, change, {
      delay,
      syncedAt: fetchStartedAt,
    });
    if (outcome.ok) builds.push(outcome.buildId);
    else if (outcome.skipped) skipped.push(outcome.skipped);
    else if (outcome.buildId) failed.push(outcome.buildId);
  }
  await deps.store.recordHead(job.repo, job.branch, sha, fetchStartedAt);
  deps.log.info(
    { repo: job.repo, branch: job.branch, sha, builds, failed, skipped },
    'branch synced',
  );
  return { kind: 'synced', sha, builds, failed, skipped };
}

type AppOutcome =
  | { ok: true; buildId: string }
  | { ok: false; buildId?: string | undefined; skipped?: string | undefined };

/**
 * One app of one commit: validate its spec, then enqueue its build once — unless the push
 * changed none of the paths it watches.
 */
async function syncApp(
  deps: SyncDeps,
  repo: TrackedRepo,
  job: SyncJob,
  appPath: string,
  commit: CommitMeta,
  change: () => Promise<PushChange>,
  /** How long the build waits (buildDelay), and when this sync began (BuildJob.syncedAt). */
  timing: { delay: number; syncedAt: number },
): Promise<AppOutcome> {
  const file = specPath(appPath);
  let spec: AppSpec;
  let text: Buffer | null = null;
  try {
    // The parser refuses a larger file anyway: refuse it before it is read into memory.
    text = await repo.cache.readFile(commit.sha, file, { maxBytes: DEFAULT_MAX_BYTES });
    if (text === null) {
      throw new GantryError(
        'GANTRY_ERR_SPEC_MISSING',
        `${file}: not found at commit ${commit.sha.slice(0, 12)}`,
      );
    }
    spec = parseAppSpec(text.toString('utf8'), file, { targets: deps.targets });
    // Refused at the push, on the build record, rather than when its rollout starts.
    checkSpecLimits(spec, deps.specLimits ?? DEFAULT_SPEC_LIMITS);
  } catch (e: unknown) {
    if (!isGantryError(e) || e.disposition === 'transient') throw e;
    const app = await fallbackAppName(deps, repo, appPath, text?.toString('utf8'));
    return recordSpecFailure(deps, repo, job, appPath, app, commit, e);
  }

  // Before anything of the app is written: a name owned by another repo folder is refused whole.
  const claimant = { repo: repo.config.name, path: appPath };
  const ownership = await claimApp(deps.store, deps.repos, spec.app, claimant);
  if (!ownership.ok) {
    const error = appOwnedError(spec.app, ownership.owner, claimant);
    return recordRefusal(deps, repo, job, appPath, spec.app, commit, error);
  }

  // gantry.yaml is always watched, so a skipped app's record and spec are those of its last build.
  // A commit already recorded for the app (a redelivery, a poll after the webhook) is not skipped:
  // it was decided once, below. An app without a revision on the branch yet always builds.
  const previous = (await deps.store.listRevisions(spec.app, RECENT_REVISIONS)).find(
    (r) => r.branch === job.branch,
  );
  const watched = watchedPaths(spec, appPath);
  if (
    previous !== undefined &&
    !watchesEverything(watched) &&
    !(await deps.store.getRevision(spec.app, commit.sha))
  ) {
    const verdict = appVerdict(watched, await change(), true);
    if (!verdict.build) return recordSkip(deps, repo, job, spec.app, commit, verdict.reason);
  }

  const now = new Date().toISOString();
  await deps.store.putApp({
    name: spec.app,
    repo: repo.config.name,
    path: appPath,
    branches: [...new Set(Object.values(spec.environments).map((e) => e.branch))],
    environments: spec.environments,
    updatedAt: now,
  });
  const created = await deps.store.addRevision(revisionOf(spec.app, repo, job, commit, now));
  if (!created) {
    // Seen before (redelivery, poll after webhook, or a branch moved back): the commit's
    // earlier build stands; a commit is never rebuilt automatically.
    return { ok: false };
  }
  const buildId = await deps.store.nextId('b');
  const record: BuildRecord = {
    id: buildId,
    app: spec.app,
    sha: commit.sha,
    repo: repo.config.name,
    branch: job.branch,
    trigger: job.trigger,
    status: 'queued',
    createdAt: now,
    attempts: 0,
    ...(previous && previous.sha !== commit.sha ? { since: previous.sha } : {}),
  };
  await deps.store.putBuild(record);
  const data: BuildJob = {
    buildId,
    app: spec.app,
    appPath,
    repo: repo.config.name,
    branch: job.branch,
    sha: commit.sha,
    force: false,
    syncedAt: timing.syncedAt,
  };
  await deps.queues.builds.add('build', data, {
    jobId: buildJobId(spec.app, commit.sha),
    delay: timing.delay,
  });
  return { ok: true, buildId };
}

function revisionOf(
  app: string,
  repo: TrackedRepo,
  job: SyncJob,
  commit: CommitMeta,
  now: string,
): Revision {
  return {
    app,
    sha: commit.sha,
    repo: repo.config.name,
    branch: job.branch,
    commit,
    firstSeenAt: now,
  };
}

/**
 * A push that changed none of the app's watched paths: a build record with status `skipped` and
 * the reason as its note (where people look for "why did my app not build?"), once per commit.
 * No revision is recorded: nothing was built, so nothing of that commit can be deployed for it.
 */
async function recordSkip(
  deps: SyncDeps,
  repo: TrackedRepo,
  job: SyncJob,
  app: string,
  commit: CommitMeta,
  reason: string,
): Promise<AppOutcome> {
  if (!(await deps.store.markSkipped(app, commit.sha))) return { ok: false };
  const now = new Date().toISOString();
  const buildId = await putEndedBuild(deps, repo, job, app, commit, now, {
    status: 'skipped',
    note: reason,
  });
  deps.log.info({ app, sha: commit.sha, reason }, 'push does not concern the app: skipped');
  return { ok: false, skipped: buildId };
}

/** A commit whose spec is missing or invalid: recorded as a failed build, nothing deployed. */
async function recordSpecFailure(
  deps: SyncDeps,
  repo: TrackedRepo,
  job: SyncJob,
  appPath: string,
  app: string,
  commit: CommitMeta,
  error: GantryError,
): Promise<AppOutcome> {
  // A broken spec naming another folder's app is filed as a refusal, never under its record.
  const claimant = { repo: repo.config.name, path: appPath };
  const ownership = await claimApp(deps.store, deps.repos, app, claimant);
  if (!ownership.ok) {
    const refusal = appOwnedError(app, ownership.owner, claimant);
    return recordRefusal(deps, repo, job, appPath, app, commit, refusal);
  }
  const now = new Date().toISOString();
  const created = await deps.store.addRevision(revisionOf(app, repo, job, commit, now));
  const existing = await deps.store.getApp(app);
  await deps.store.putApp({
    name: app,
    repo: repo.config.name,
    path: appPath,
    branches: existing?.branches ?? [job.branch],
    environments: existing?.environments ?? {},
    updatedAt: now,
    specError: { sha: commit.sha, message: error.message },
  });
  if (!created) return { ok: false };
  const buildId = await putFailedBuild(
    deps,
    repo,
    job,
    app,
    commit,
    now,
    error,
    error.message.split('\n'),
  );
  deps.log.warn({ app, sha: commit.sha, err: errorMessage(error) }, 'spec rejected');
  return { ok: false, buildId };
}

/**
 * A commit naming an app another repo folder owns: a failed build under that app's name (so its
 * owners see the attempt and the pusher finds the reason), recorded once per commit, and nothing
 * else — no revision, no app record, nothing that could reach the owner's environments.
 */
async function recordRefusal(
  deps: SyncDeps,
  repo: TrackedRepo,
  job: SyncJob,
  appPath: string,
  app: string,
  commit: CommitMeta,
  error: GantryError,
): Promise<AppOutcome> {
  const first = await deps.store.markClaimRefused(app, repo.config.name, appPath, commit.sha);
  if (!first) return { ok: false };
  const now = new Date().toISOString();
  const buildId = await putFailedBuild(deps, repo, job, app, commit, now, error, [error.message]);
  deps.log.warn(
    { app, repo: repo.config.name, path: appPath, sha: commit.sha, err: error.message },
    'app name owned elsewhere: push refused',
  );
  return { ok: false, buildId };
}

/** Writes a build record that ends as it is made (skipped, or failed before any build ran). */
async function putEndedBuild(
  deps: SyncDeps,
  repo: TrackedRepo,
  job: SyncJob,
  app: string,
  commit: CommitMeta,
  now: string,
  end: Pick<BuildRecord, 'status' | 'note' | 'failure'>,
): Promise<string> {
  const { status, ...rest } = end;
  const buildId = await deps.store.nextId('b');
  await deps.store.putBuild({
    id: buildId,
    app,
    sha: commit.sha,
    repo: repo.config.name,
    branch: job.branch,
    trigger: job.trigger,
    status,
    createdAt: now,
    finishedAt: now,
    attempts: 0,
    ...rest,
  });
  return buildId;
}

/** A failed build record whose log is `logTail`: what the pusher reads for why nothing deployed. */
async function putFailedBuild(
  deps: SyncDeps,
  repo: TrackedRepo,
  job: SyncJob,
  app: string,
  commit: CommitMeta,
  now: string,
  error: GantryError,
  logTail: string[],
): Promise<string> {
  const buildId = await putEndedBuild(deps, repo, job, app, commit, now, {
    status: 'failed',
    failure: { code: error.code, message: error.message, logTail },
  });
  await deps.store.appendBuildLog(buildId, logTail, 100);
  return buildId;
}
