/**
 * How the API shows the reconciler's status: an environment's status as written, or — before the
 * first pass wrote one — a status that says so (health and sync `unknown`); and an app's summary,
 * derived from its environments' statuses (worst health wins), never stored.
 */
import type { EnvHealth, EnvStatus } from '../store/records.js';

/** Sync as clients read it: the reconciler's word, or `unknown` before its first pass. */
export type SyncView = EnvStatus['sync']['status'] | 'unknown';

export type EnvStatusView = Omit<EnvStatus, 'sync'> & {
  sync: { status: SyncView; reasons: EnvStatus['sync']['reasons'] };
};

/** The status the reconciler wrote, or one that says none was written yet. */
export function statusView(
  app: string,
  env: string,
  written: EnvStatus | undefined,
): EnvStatusView {
  if (written) return written;
  return {
    app,
    env,
    sync: { status: 'unknown', reasons: [] },
    health: { status: 'unknown', detail: 'not reconciled yet' },
    desired: null,
    instances: [],
    route: null,
    selfHeal: false,
    orphaned: null,
    observedAt: '',
  };
}

/**
 * Worst first when summarizing several environments. Degraded and missing need a person most;
 * unknown ranks above progressing and healthy because "we do not know" must not read as fine
 * (Argo CD ranks unknown worst of all; we rank a known failure above it, since it is actionable).
 */
const HEALTH_RANK: Record<EnvHealth, number> = {
  healthy: 0,
  progressing: 1,
  unknown: 2,
  missing: 3,
  degraded: 4,
};

/** The worst of some healths; `unknown` for none. */
export function worstHealth(healths: readonly EnvHealth[]): EnvHealth {
  let worst: EnvHealth | undefined;
  for (const h of healths)
    if (worst === undefined || HEALTH_RANK[h] > HEALTH_RANK[worst]) worst = h;
  return worst ?? 'unknown';
}

/** Per-app summary for `GET /api/apps`. */
export interface AppStatusSummary {
  health: EnvHealth;
  /** out-of-sync if any environment is; unknown if any is not reconciled yet and none is out. */
  sync: SyncView;
  /** Environments marked orphaned. */
  orphaned: string[];
  envs: Record<string, { health: EnvHealth; sync: SyncView; orphaned: boolean }>;
}

/** Summarizes an app's environment statuses. Pure. */
export function summarize(statuses: readonly EnvStatusView[]): AppStatusSummary {
  const syncs = statuses.map((s) => s.sync.status);
  const sync: SyncView = syncs.includes('out-of-sync')
    ? 'out-of-sync'
    : syncs.includes('unknown') || syncs.length === 0
      ? 'unknown'
      : 'synced';
  return {
    health: worstHealth(statuses.map((s) => s.health.status)),
    sync,
    orphaned: statuses.filter((s) => s.orphaned).map((s) => s.env),
    envs: Object.fromEntries(
      statuses.map((s) => [
        s.env,
        { health: s.health.status, sync: s.sync.status, orphaned: s.orphaned !== null },
      ]),
    ),
  };
}

const STR = { type: 'string' } as const;
const open = (properties: Record<string, unknown>, required?: string[]) =>
  ({
    type: 'object',
    additionalProperties: true,
    properties,
    ...(required ? { required } : {}),
  }) as const;
const HEALTH = {
  type: 'string',
  enum: ['healthy', 'progressing', 'degraded', 'missing', 'unknown'],
} as const;
const SYNC = { type: 'string', enum: ['synced', 'out-of-sync', 'unknown'] } as const;

/** EnvStatusView, for response schemas (open: new fields reach clients without a schema bump). */
export const envStatusSchema = open({
  app: STR,
  env: STR,
  sync: open({
    status: SYNC,
    reasons: { type: 'array', items: open({ reason: STR, detail: STR }) },
  }),
  health: open({ status: HEALTH, detail: STR }),
  desired: {
    ...open({ sha: STR, image: STR, replicas: { type: 'integer' }, rolloutId: STR }),
    nullable: true,
  },
  instances: {
    type: 'array',
    items: open({
      slot: STR,
      id: STR,
      host: STR,
      revision: STR,
      state: STR,
      verdict: STR,
      routed: { type: 'boolean' },
      detail: STR,
    }),
  },
  route: {
    ...open({ id: STR, url: STR, upstreams: { type: 'array', items: STR } }),
    nullable: true,
  },
  selfHeal: { type: 'boolean' },
  orphaned: { ...open({ why: STR }), nullable: true },
  observedAt: STR,
});

export const appStatusSummarySchema = open({
  health: HEALTH,
  sync: SYNC,
  orphaned: { type: 'array', items: STR },
  envs: {
    type: 'object',
    additionalProperties: open({ health: HEALTH, sync: SYNC, orphaned: { type: 'boolean' } }),
  },
});

/** One timeline line (EnvEventRecord). */
export const envEventSchema = open(
  {
    at: { type: 'integer' },
    kind: STR,
    text: STR,
    data: { type: 'object', additionalProperties: true },
  },
  ['at', 'kind', 'text'],
);
