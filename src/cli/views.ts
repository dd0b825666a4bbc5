/**
 * The API's answers as the CLI reads them. Fields other parts add later are optional here, so
 * the CLI works against a controller that does not send them yet.
 */

export interface CommitSummary {
  sha: string;
  message: string;
  author?: string | { name: string } | undefined;
  prNumber?: number | undefined;
  prTitle?: string | undefined;
  prUrl?: string | undefined;
}

export type TriggerView =
  | { kind: 'webhook'; provider: string; actor?: string | undefined }
  | { kind: 'poll' }
  | { kind: 'manual'; actor: string; via?: string | undefined };

export interface InstanceView {
  slot: string;
  role?: string;
  revision: string;
  host: string;
  runtime?: string | null;
  routed?: boolean;
  /** The core's health tally (status, and why while unhealthy). */
  health?: { status: string; detail?: string | null } | string | null;
  retiring?: string | null;
}

/** GET /api/rollouts/:id → rollout; GET /api/apps/:app/rollouts → rollouts[]. */
export interface RolloutView {
  id: string;
  app: string;
  env: string;
  kind: string;
  trigger?: TriggerView | undefined;
  to: { sha: string; image: string; release?: number | undefined };
  from: { sha: string; image: string } | null;
  outcome?: string | undefined;
  reason?: string | undefined;
  phase: string;
  instances?: InstanceView[] | undefined;
  failureLogs?: { slot: string; lines: string[] } | undefined;
  createdAt: string;
  finishedAt?: string | undefined;
  commit?: { message: string; prNumber?: number | undefined } | undefined;
  pr?: { number: number; title?: string | undefined; url?: string | undefined } | undefined;
}

/** GET /api/history → rollouts[]. */
export type HistoryEntry = RolloutView & {
  commit?: CommitSummary | undefined;
  running: boolean;
  durationMs?: number | undefined;
};

export interface EnvView {
  app: string;
  env: string;
  current: { sha: string; image: string; rolloutId: string; since: string } | null;
  desired?: string | null;
  route?: { url: string } | null;
  lock?: { reason: string; by: string; at: string; until?: string | undefined } | null;
  pin?: { sha: string; reason: string; by: string; at: string; rolloutId: string } | null;
  /** The reconciler's status (absent from controllers that do not send it). */
  status?: EnvStatusView | undefined;
}

/** One instance as the reconciler judged it. */
export interface InstanceStatusView {
  slot: string;
  id?: string;
  host: string;
  revision: string;
  state: string;
  verdict: string;
  routed: boolean;
  /** Its process type; absent from controllers before process types. */
  process?: string | undefined;
  detail?: string | undefined;
}

/** GET /api/apps/:app/rollouts → environments[].status (sync `unknown` before the first pass). */
export interface EnvStatusView {
  sync: { status: string; reasons: { reason: string; detail: string }[] };
  health: { status: string; detail: string };
  desired?: { sha: string; replicas: number } | null;
  /** Instances wanted and ready per process type (absent from controllers before process types). */
  processes?: { name: string; desired: number; ready: number }[] | undefined;
  instances: InstanceStatusView[];
  route?: { id: string; url: string; upstreams: string[] } | null;
  selfHeal: boolean;
  orphaned: { why: string } | null;
  observedAt: string;
}

/** GET /api/apps/:app/timeline → events[] (newest first). */
export interface TimelineEvent {
  at: number;
  kind: string;
  text: string;
}

/** GET /api/apps → apps[].status. */
export interface AppStatusSummaryView {
  health: string;
  sync: string;
  orphaned: string[];
}

export interface RolloutEvent {
  at: number;
  kind: string;
  text: string;
}

/** GET /api/apps/:app/logs */
export interface InstanceLogs {
  env?: string;
  slot: string;
  revision: string;
  host: string;
  state?: string;
  lines: string[];
}
