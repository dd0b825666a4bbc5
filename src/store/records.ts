/** What started a piece of work, kept with it for the history. */
export type Trigger =
  | { kind: 'webhook'; provider: string; deliveryId: string; actor?: string | undefined }
  | { kind: 'poll' }
  | {
      kind: 'manual';
      actor: string;
      /** Which operation a person asked for (absent on older records). */
      via?:
        | 'deploy'
        | 'rollback'
        | 'promote'
        | 'retry'
        | 'unpin'
        | 'config'
        | 'scale'
        | 'restart'
        | undefined;
    };

export interface CommitMeta {
  sha: string;
  message: string;
  author: { name: string; email: string; timestamp: number };
  prNumber?: number | undefined;
}

/** An image built from one commit: referenced by tag for humans, pinned by digest for machines. */
export interface ImageRef {
  /** `<registry>/<app>:<sha12>` */
  tag: string;
  /** `sha256:…` of the manifest in the registry. */
  digest: string;
  /** `<registry>/<app>@sha256:…`, what runtimes deploy. */
  pinned: string;
}

/** A commit of an app, and once built, its image. Never rebuilt, never retagged. */
export interface Revision {
  app: string;
  sha: string;
  repo: string;
  branch: string;
  commit: CommitMeta;
  firstSeenAt: string;
  image?: ImageRef | undefined;
  builtAt?: string | undefined;
  /** Build that produced the image. */
  buildId?: string | undefined;
}

/** `skipped`: the push changed none of the app's watched paths; nothing was built or deployed. */
export type BuildStatus =
  'queued' | 'running' | 'succeeded' | 'failed' | 'superseded' | 'reused' | 'skipped';

export const FINISHED_BUILD_STATUSES: readonly BuildStatus[] = [
  'succeeded',
  'failed',
  'superseded',
  'reused',
  'skipped',
];

export interface BuildFailure {
  code: string;
  message: string;
  /** Last lines of the build log, so the reason is visible without opening the whole log. */
  logTail: string[];
}

/**
 * A build's attempts as the queue runs them: kept true at every step, so the record never says
 * "retrying" when no retry will come.
 */
export interface BuildRetry {
  /** The attempt running now, or the one that failed last. */
  attempt: number;
  /** Attempts allowed in all (build.retry.attempts). */
  of: number;
  /** When the next attempt starts; present only while the build waits for it. */
  nextAt?: string | undefined;
  /** Why the last failed attempt failed. */
  lastError?: { code: string; message: string; at: string } | undefined;
}

export interface BuildRecord {
  id: string;
  app: string;
  sha: string;
  repo: string;
  branch: string;
  trigger: Trigger;
  status: BuildStatus;
  createdAt: string;
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
  attempts: number;
  image?: ImageRef | undefined;
  failure?: BuildFailure | undefined;
  /** Why a build was not run (superseded by, reused from, skipped because). */
  note?: string | undefined;
  /** Where the retries of transient failures stand (attempt n of m, next try at T). */
  retry?: BuildRetry | undefined;
  /**
   * The app's previous revision on the branch when this commit was synced: the build ships the
   * commits in `since..sha` (all of them, from git, whichever heads Gantry saw). Absent: the first.
   */
  since?: string | undefined;
}

export interface AppRecord {
  name: string;
  repo: string;
  path: string;
  /** Branches bound to environments in the last valid spec. */
  branches: string[];
  environments: Record<string, { branch: string; target: string; domain?: string | undefined }>;
  updatedAt: string;
  /** The last spec error for the newest commit, cleared when a valid spec arrives. */
  specError?: { sha: string; message: string } | undefined;
}

/** Who an app name belongs to: the repo and folder that claimed it first, or the config's say. */
export interface AppOwner {
  repo: string;
  path: string;
  /** When it was claimed (first sync, upgrade of an older record, or taken from the config). */
  at: string;
  /** `claim`: first sync to name it; `record`: the app record it had before ownership; `config`. */
  source: 'claim' | 'record' | 'config';
}

export interface DeliveryRecord {
  provider: string;
  deliveryId: string;
  at: string;
  outcome: 'accepted' | 'duplicate' | 'ignored' | 'rejected';
  detail: string;
  repo?: string | undefined;
  branch?: string | undefined;
  after?: string | undefined;
}

/** A pull/merge request a commit landed; title and link only when known. */
export interface PullRequestRef {
  number: number;
  title?: string | undefined;
  url?: string | undefined;
}

/** A revision as deployed: the commit and the pinned image it runs. */
export interface DeployedRevision {
  sha: string;
  image: string;
  /** The release (image + config, vN of the environment); absent on records from before releases. */
  release?: number | undefined;
  /** The release whose instances run this one (a scale-only release); see Revision.instancesOf. */
  instancesOf?: number | undefined;
}

/** Where one environment of an app stands now. */
export interface EnvState {
  app: string;
  env: string;
  /** What serves now (the last succeeded rollout, or what a failed one restored). */
  current: (DeployedRevision & { rolloutId: string; since: string }) | null;
  /** The newest revision a deploy was requested for; older queued deploys are superseded. */
  desired: string | null;
  /** The edge listener that serves this environment. */
  route: {
    id: string;
    host: string;
    port: number;
    domain?: string | undefined;
    /** Host names served over HTTPS, as last applied from gantry.yaml. */
    domains?: string[] | undefined;
    url: string;
  } | null;
  /** Deploy freeze: deploy rollouts wait while it holds (rollbacks pass). An expired lock reads as null. */
  lock: EnvLock | null;
  /** Set after a rollback: the environment stays on `sha`; automation never re-deploys `excluded`. */
  pin: EnvPin | null;
  /** The controller target its instances run on (src/deploy/targets.ts); absent: the default. */
  target?: string | undefined;
}

/** A deploy freeze of one environment. */
export interface EnvLock {
  reason: string;
  by: string;
  at: string;
  /** ISO time the lock ends by itself; absent: until someone unlocks. */
  until?: string | undefined;
}

/** Why an environment stays on a revision after a rollback, and what it took out of production. */
export interface EnvPin {
  sha: string;
  reason: string;
  by: string;
  at: string;
  rolloutId: string;
  excluded: string[];
  /**
   * When the rollback was asked (a person's rollback only): automation holds every commit Gantry
   * first saw before then, as well as `excluded`. Absent after an automatic rollback.
   */
  askedAt?: string | undefined;
}

/** The newest rollback asked for an environment: the moment it overrides what was pushed before. */
export interface RollbackAsked {
  rolloutId: string;
  /** The revision it goes back to. */
  sha: string;
  /** Who asked. */
  by: string;
  at: string;
}

export type RolloutOutcome = 'succeeded' | 'failed' | 'aborted' | 'superseded';

/**
 * One rollout: what it moves from and to, why, and its working state. `plan` and `state` belong
 * to the pure core (src/rollout) and are stored as it returns them, after every step.
 */
export interface RolloutRecord {
  id: string;
  app: string;
  env: string;
  kind: 'deploy' | 'rollback' | 'auto-rollback';
  trigger: Trigger;
  from: DeployedRevision | null;
  to: DeployedRevision;
  createdAt: string;
  finishedAt?: string | undefined;
  outcome?: RolloutOutcome | undefined;
  /** Why it ended, in a line (the failure's detail, or what superseded it). */
  reason?: string | undefined;
  plan?: unknown;
  state?: unknown;
  /** The commit of `to`, copied at creation so history reads one record. */
  commit?: CommitMeta | undefined;
  /** The pull request that commit landed, when its message says so. */
  pr?: PullRequestRef | undefined;
  /** The last log lines of the instance whose failure decided the rollout (`release`: the release command's). */
  failureLogs?: { slot: string; lines: string[] } | undefined;
  /** How its release phase ended, once it has: a resumed attempt does not run a succeeded one again. */
  releasePhase?: ReleasePhaseResult | undefined;
  /** The controller target it deployed to (gantry.yaml's `target:` when it opened). */
  target?: string | undefined;
}

/** The release command's end, kept on the rollout record. */
export interface ReleasePhaseResult {
  exitCode: number;
  timedOut: boolean;
  durationMs: number;
  finishedAt: string;
}

/**
 * One line of a rollout's event stream, for history, SSE and CLI progress. `data` carries the
 * core's typed event (src/rollout/events.ts) when the line came from one, so readers (metrics,
 * reporters) switch on types instead of parsing `text` back.
 */
export interface RolloutEventRecord {
  at: number;
  kind: string;
  text: string;
  data?: unknown;
}

/** Health of an environment as the reconciler last saw it (Argo CD's health words). */
export type EnvHealth = 'healthy' | 'progressing' | 'degraded' | 'missing' | 'unknown';

/** Why an environment is not what its record says should run, or not what its branch says. */
export type OutOfSyncReason =
  | 'newer-head'
  | 'pinned'
  | 'frozen'
  | 'failed'
  | 'drift'
  | 'orphaned'
  | 'engine-unreachable'
  | 'edge-unreachable';

/** One instance as the reconciler judged it. */
export interface InstanceStatus {
  slot: string;
  id: string;
  host: string;
  revision: string;
  /** The runtime's word: running, exited… */
  state: string;
  /** healthy, starting, unhealthy; stray (belongs to no rollout); surplus (above replicas). */
  verdict: 'healthy' | 'starting' | 'unhealthy' | 'stray' | 'surplus';
  routed: boolean;
  /** Its process type (`web`, `worker`…). */
  process?: string | undefined;
  /** Why it is unhealthy, stray or surplus. */
  detail?: string | undefined;
}

/**
 * Where an environment stands between rollouts, written once per reconcile pass (Flux: status is
 * written once at the end). Sync compares what runs with the record and the branch; health
 * summarizes the instances. Both are derived (src/reconcile/status.ts), never edited by hand.
 */
export interface EnvStatus {
  app: string;
  env: string;
  sync: {
    status: 'synced' | 'out-of-sync';
    reasons: { reason: OutOfSyncReason; detail: string }[];
  };
  health: { status: EnvHealth; detail: string };
  /** What the record says should run. */
  desired: { sha: string; image: string; replicas: number; rolloutId: string } | null;
  instances: InstanceStatus[];
  /** Per process type: how many instances should run and how many are ready (healthy, and routed if it is the routed one). */
  processes?: { name: string; desired: number; ready: number; routed: boolean }[] | undefined;
  route: { id: string; url: string; upstreams: string[] } | null;
  /** Repairs are made (true) or only shown (false). */
  selfHeal: boolean;
  /** Set when the app or environment left the config or the repo: shown, never removed silently. */
  orphaned: { why: string } | null;
  /** ISO time of the pass that wrote this. */
  observedAt: string;
}

/** A change the reconciler made or saw outside a rollout, kept in the environment's timeline. */
export interface EnvEventRecord {
  at: number;
  /** self-heal (a repair), drift (seen, not repaired: self-heal off), prune, orphaned… */
  kind: string;
  text: string;
  /** The typed event (src/reconcile/events.ts). */
  data?: unknown;
}
