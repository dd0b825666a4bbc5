/**
 * Where each environment stands, as gauges read from the reconciler's status records when
 * Prometheus scrapes (not from events: a gauge must say what holds now, also after a restart).
 * Every word of a label set is written, 1 for the current one and 0 for the others, so
 * `gantry_environment_health{status="degraded"} == 1` is an alert rule on its own.
 */
import { Gauge, type Registry } from 'prom-client';
import type { EnvHealth, EnvStatus, InstanceStatus } from '../store/records.js';
import { METRIC } from './names.js';

/** The status records of every environment, read when Prometheus scrapes. */
export type EnvStatuses = () => Promise<readonly EnvStatus[]>;

const HEALTH: readonly EnvHealth[] = ['healthy', 'progressing', 'degraded', 'missing', 'unknown'];
const SYNC: readonly EnvStatus['sync']['status'][] = ['synced', 'out-of-sync'];
const VERDICTS: readonly InstanceStatus['verdict'][] = [
  'healthy',
  'starting',
  'unhealthy',
  'stray',
  'surplus',
];

/** Registers the environment gauges; all of them share one read of the records per scrape. */
export function registerEnvGauges(registry: Registry, statuses: EnvStatuses): void {
  // prom-client collects every metric of a scrape at once: the first gauge starts the read, the
  // others join it, and the next scrape reads afresh.
  let reading: Promise<readonly EnvStatus[]> | undefined;
  const snapshot = () => (reading ??= statuses().finally(() => (reading = undefined)));
  const registers = [registry];

  oneHotGauge(registers, snapshot, METRIC.envHealth, HEALTH, (s) => s.health.status, {
    help: 'Health of each environment as the reconciler last saw it: 1 for the current status, 0 for the others',
  });
  oneHotGauge(registers, snapshot, METRIC.envSync, SYNC, (s) => s.sync.status, {
    help: 'Whether each environment runs what its record and branch say: 1 for the current status, 0 for the other',
  });
  new Gauge({
    name: METRIC.envInstances,
    help: "Instances of each environment by the reconciler's verdict (healthy, starting, unhealthy, stray, surplus)",
    labelNames: ['app', 'env', 'verdict'],
    registers,
    async collect() {
      const all = await snapshot();
      this.reset();
      for (const s of all) {
        for (const verdict of VERDICTS) {
          const n = s.instances.filter((i) => i.verdict === verdict).length;
          this.set({ app: s.app, env: s.env, verdict }, n);
        }
      }
    },
  });
  new Gauge({
    name: METRIC.envOrphaned,
    help: 'Environments that left the config or the repo and wait to be pruned (1), or not (0)',
    labelNames: ['app', 'env'],
    registers,
    async collect() {
      const all = await snapshot();
      this.reset();
      for (const s of all) this.set({ app: s.app, env: s.env }, s.orphaned ? 1 : 0);
    },
  });
}

/** A gauge per environment and status word: 1 for the status `current` reads, 0 for the others. */
function oneHotGauge<T extends string>(
  registers: Registry[],
  snapshot: () => Promise<readonly EnvStatus[]>,
  name: string,
  words: readonly T[],
  current: (s: EnvStatus) => T,
  { help }: { help: string },
): void {
  new Gauge({
    name,
    help,
    labelNames: ['app', 'env', 'status'],
    registers,
    async collect() {
      const all = await snapshot();
      this.reset();
      for (const s of all) {
        for (const status of words) {
          this.set({ app: s.app, env: s.env, status }, current(s) === status ? 1 : 0);
        }
      }
    },
  });
}
