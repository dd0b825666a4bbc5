/**
 * Typed reads of an event's `data`, for the readers of the stream (metrics, history reporters).
 * `data` is JSON written by whichever controller version ran, so it is checked once here and
 * readers switch on types instead of parsing `text` back. Each read returns undefined when the
 * data is absent or not of that shape: a line written by an older version, which readers then
 * understand from its text as before.
 */
import type { HealEvent } from '../reconcile/events.js';
import type { Evidence, HealthStatus } from '../rollout/index.js';
import type { RolloutOutcome } from '../store/records.js';

/** The data of a rollout's `outcome` line (written by the runner, src/deploy/). */
export interface OutcomeData {
  readonly kind: 'outcome';
  readonly outcome: RolloutOutcome;
  readonly reason: string;
}

const OUTCOMES: Record<RolloutOutcome, true> = {
  succeeded: true,
  failed: true,
  aborted: true,
  superseded: true,
};

const HEALTH: Record<HealthStatus, true> = { starting: true, healthy: true, unhealthy: true };

// A Record over the union's kinds, so a kind added to HealEvent fails to compile until listed.
const HEAL_KINDS: Record<HealEvent['kind'], true> = {
  replaced: true,
  started: true,
  unrouted: true,
  routed: true,
  'upstreams-dropped': true,
  'route-restored': true,
  'stray-removed': true,
  'surplus-removed': true,
  drift: true,
  orphaned: true,
  pruned: true,
};

/** How a rollout ended, from its `outcome` line's data. */
export function outcomeData(data: unknown): OutcomeData | undefined {
  if (!isRecord(data) || data.kind !== 'outcome') return undefined;
  const { outcome, reason } = data;
  if (typeof outcome !== 'string' || !Object.hasOwn(OUTCOMES, outcome)) return undefined;
  return { kind: 'outcome', outcome: outcome as RolloutOutcome, reason: String(reason ?? '') };
}

/** The evidence of an `instance-health` line's data (the core's event, src/rollout/events.ts). */
export function healthEvidence(data: unknown): Evidence | undefined {
  if (!isRecord(data) || data.kind !== 'instance-health') return undefined;
  const { evidence } = data;
  if (!isRecord(evidence)) return undefined;
  const { status } = evidence;
  return typeof status === 'string' && Object.hasOwn(HEALTH, status)
    ? (evidence as unknown as Evidence)
    : undefined;
}

/** The reconciler's event carried by an `env` line (src/reconcile/events.ts). */
export function healEvent(data: unknown): HealEvent | undefined {
  if (!isRecord(data) || typeof data.kind !== 'string') return undefined;
  return Object.hasOwn(HEAL_KINDS, data.kind) ? (data as unknown as HealEvent) : undefined;
}

function isRecord(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
