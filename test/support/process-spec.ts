/** The `gantry.yaml` of the process-type tests: a routed `web` and an unrouted `worker`. */
import type { EnvStatus } from '../../src/store/records.js';
import { waitFor, type Fixture } from './controller-fixture.js';

/** A worker that keeps running until it is stopped. */
export const WORKER_LOOP = 'while true; do sleep 1; done';

/**
 * `web` (the example's httpd on 8080, 2 replicas, checked on /healthz) and `worker` (1 replica)
 * running `sh -c <worker>`; `lines` are extra top-level lines (e.g. `rollout: …`).
 */
export function webAndWorkerSpec(app: string, worker = WORKER_LOOP, lines: string[] = []): string {
  return [
    `app: ${app}`,
    'run: { port: 8080 }',
    'health: { http: { path: /healthz }, interval: 1s, startPeriod: 2s, healthyThreshold: 2 }',
    ...lines,
    'processes:',
    '  web: { replicas: 2 }',
    '  worker:',
    `    command: [sh, -c, ${JSON.stringify(worker)}]`,
    '    replicas: 1',
  ].join('\n');
}

/** Waits until production's status is healthy with every process type ready; returns its processes. */
export async function readyProcesses(f: Fixture, app: string): Promise<EnvStatus['processes']> {
  const status = await waitFor('status with every process ready', async () => {
    const s = await f.controller.rollouts.status(app, 'production');
    const ready = s?.processes?.every((p) => p.ready === p.desired) ?? false;
    return s?.health.status === 'healthy' && ready ? s : undefined;
  });
  return status.processes;
}
