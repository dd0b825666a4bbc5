/**
 * Prometheus metrics, fed by the controller's event stream rather than by calls sprinkled through
 * the code: builds and rollouts by outcome with their durations, instance health verdicts, the
 * reconciler's repairs and drift; and, read at scrape time, queue depths from BullMQ and where
 * each environment stands from its status record (env-gauges.ts). Each controller has its own
 * registry, so several in one process (tests) do not mix their counts.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StoredEvent } from '../events/bus.js';
import { healEvent, healthEvidence, outcomeData } from '../events/event-data.js';
import { FINISHED_BUILD_STATUSES, type BuildStatus } from '../store/records.js';
import { registerEnvGauges, type EnvStatuses } from './env-gauges.js';
import { METRIC } from './names.js';

/** What the metrics need to know beyond an event: the records it refers to. */
export interface MetricLookups {
  build(
    id: string,
  ): Promise<{ startedAt?: string | undefined; finishedAt?: string | undefined } | undefined>;
  rollout(id: string): Promise<
    | {
        kind: string;
        createdAt: string;
        finishedAt?: string | undefined;
        outcome?: string | undefined;
      }
    | undefined
  >;
}

/** Job counts by state, per queue, read when Prometheus scrapes. */
export type QueueCounts = () => Promise<Record<string, Record<string, number>>>;

/** What is read when Prometheus scrapes, rather than counted from events. */
export interface ScrapeSources {
  queueCounts?: QueueCounts | undefined;
  envStatuses?: EnvStatuses | undefined;
}

const DURATION_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 1800];

export class Metrics {
  readonly registry = new Registry();
  readonly builds: Counter<'app' | 'outcome'>;
  readonly buildDuration: Histogram<'outcome'>;
  readonly rollouts: Counter<'app' | 'env' | 'kind' | 'outcome'>;
  readonly rolloutDuration: Histogram<'kind' | 'outcome'>;
  readonly health: Counter<'app' | 'env' | 'status'>;
  readonly events: Counter<'type'>;
  readonly selfHeal: Counter<'app' | 'env' | 'action'>;
  readonly drift: Counter<'app' | 'env'>;

  constructor(scrape: ScrapeSources = {}) {
    const { queueCounts, envStatuses } = scrape;
    const registers = [this.registry];
    this.builds = new Counter({
      name: METRIC.buildsTotal,
      help: 'Builds that ended, by outcome (succeeded, failed, superseded, reused, skipped)',
      labelNames: ['app', 'outcome'],
      registers,
    });
    this.buildDuration = new Histogram({
      name: METRIC.buildDuration,
      help: 'Time from a build starting to its end, for builds that ran',
      labelNames: ['outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.rollouts = new Counter({
      name: METRIC.rolloutsTotal,
      help: 'Rollouts that ended, by kind (deploy, rollback, auto-rollback) and outcome',
      labelNames: ['app', 'env', 'kind', 'outcome'],
      registers,
    });
    this.rolloutDuration = new Histogram({
      name: METRIC.rolloutDuration,
      help: 'Time from a rollout being created to its end',
      labelNames: ['kind', 'outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.health = new Counter({
      name: METRIC.healthVerdicts,
      help: 'Health verdicts on instances during rollouts (a verdict changes after consecutive probe results), by status',
      labelNames: ['app', 'env', 'status'],
      registers,
    });
    this.events = new Counter({
      name: METRIC.events,
      help: 'Events read from the controller event stream, by type',
      labelNames: ['type'],
      registers,
    });
    this.selfHeal = new Counter({
      name: METRIC.selfHeal,
      help: 'Repairs the reconciler made between rollouts, by action (replaced, started, unrouted, routed, …)',
      labelNames: ['app', 'env', 'action'],
      registers,
    });
    this.drift = new Counter({
      name: METRIC.driftEvents,
      help: 'Drift the reconciler saw and left alone (self-heal off), counted once when first seen',
      labelNames: ['app', 'env'],
      registers,
    });
    if (envStatuses) registerEnvGauges(this.registry, envStatuses);
    if (queueCounts) {
      new Gauge({
        name: METRIC.queueJobs,
        help: 'Jobs in each queue by state (read from BullMQ at scrape)',
        labelNames: ['queue', 'state'],
        registers,
        async collect() {
          const counts = await queueCounts();
          this.reset();
          for (const [queue, byState] of Object.entries(counts)) {
            for (const [state, n] of Object.entries(byState)) this.set({ queue, state }, n);
          }
        },
      });
    }
  }

  /** Counts one event of the stream. */
  async observe(e: StoredEvent, lookups: MetricLookups): Promise<void> {
    this.events.inc({ type: e.type });
    if (e.type === 'build') {
      if (!FINISHED_BUILD_STATUSES.includes(e.status as BuildStatus)) return;
      this.builds.inc({ app: e.app, outcome: e.status });
      const b = await lookups.build(e.buildId);
      const seconds = spanSeconds(b?.startedAt, b?.finishedAt);
      if (seconds !== undefined) this.buildDuration.observe({ outcome: e.status }, seconds);
      return;
    }
    if (e.type === 'env') {
      if (e.kind === 'self-heal') {
        const action = healEvent(e.data)?.kind ?? 'unknown';
        this.selfHeal.inc({ app: e.app, env: e.env, action });
      } else if (e.kind === 'drift') {
        this.drift.inc({ app: e.app, env: e.env });
      }
      return;
    }
    if (e.type !== 'rollout') return;
    if (e.kind === 'instance-health') {
      // The text is read only for lines written by older versions, which carried no data.
      const status = healthEvidence(e.data)?.status ?? healthStatusOf(e.text);
      if (status) this.health.inc({ app: e.app, env: e.env, status });
      return;
    }
    if (e.kind !== 'outcome') return;
    const rec = await lookups.rollout(e.rolloutId);
    // Record and text: for outcome lines written by older versions, which carried no data.
    const outcome =
      outcomeData(e.data)?.outcome ?? rec?.outcome ?? e.text.split(':')[0] ?? 'unknown';
    const kind = rec?.kind ?? 'unknown';
    this.rollouts.inc({ app: e.app, env: e.env, kind, outcome });
    const seconds = spanSeconds(rec?.createdAt, rec?.finishedAt);
    if (seconds !== undefined) this.rolloutDuration.observe({ kind, outcome }, seconds);
  }
}

/**
 * The status word of an `instance-health` event's text (`<slot> <status>[: detail]`): for lines
 * written by older versions, which carried no `data`.
 */
export function healthStatusOf(text: string): string | undefined {
  const word = text.split(' ')[1]?.replace(/:$/, '');
  return word && /^[a-z-]+$/.test(word) ? word : undefined;
}

function spanSeconds(from: string | undefined, to: string | undefined): number | undefined {
  if (!from || !to) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms >= 0 ? ms / 1000 : undefined;
}
