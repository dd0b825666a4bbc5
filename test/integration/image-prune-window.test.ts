/**
 * Image pruning after a rollout, against real Redis and the real Docker engine: what stays on the
 * host is the rollback window (what each environment runs and its last `keepImages` successes,
 * not counting the rollout that just settled) and the revision an environment moves to next,
 * whose build may be done and whose rollout may be starting while the prune runs.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneImages, type PruneDeps } from '../../src/deploy/prune-images.js';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';
import { LABEL } from '../../src/runtime/docker/labels.js';
import type { RolloutRecord } from '../../src/store/records.js';
import { RolloutStore } from '../../src/store/rollouts.js';
import { Store } from '../../src/store/store.js';
import { testEnv, uniqueName } from '../support/env.js';

const run = promisify(execFile);
const BASE = 'gantry.local/busybox:1';
const ENV = 'production';

describe('image pruning after a rollout (real Redis, real Docker)', () => {
  const app = uniqueName('prunewin').replace(/-/g, '');
  const tag = (n: number): string => `gantry-test/${app}:r${n}`;
  let redis: Redis;
  let deps: PruneDeps;

  /** A distinct image per revision, labelled for the app as the builder labels them. */
  async function build(n: number): Promise<void> {
    const dockerfile = `FROM ${BASE}\nLABEL ${LABEL.app}=${app} revision=r${n}\n`;
    const child = execFile('docker', ['build', '-q', '-t', tag(n), '-']);
    child.stdin?.end(dockerfile);
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`build ${code}`))));
    });
  }

  async function present(): Promise<string[]> {
    const { stdout } = await run('docker', [
      'images',
      '--filter',
      `label=${LABEL.app}=${app}`,
      '--format',
      '{{.Tag}}',
    ]);
    return stdout.split('\n').filter(Boolean).sort();
  }

  /** A succeeded rollout to revision `n`, created `n` seconds after the epoch of this test. */
  async function succeeded(n: number): Promise<RolloutRecord> {
    const rec = {
      id: uniqueName('r'),
      app,
      env: ENV,
      kind: 'deploy',
      trigger: { kind: 'manual', actor: 'test' },
      from: null,
      to: { sha: `sha${n}`, image: tag(n) },
      createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
      outcome: 'succeeded',
    } as RolloutRecord;
    await deps.rollouts.put(rec);
    return rec;
  }

  beforeAll(async () => {
    redis = new Redis(testEnv().redisUrl);
    const store = new Store(redis, uniqueName('prune'));
    deps = {
      store,
      rollouts: new RolloutStore(redis, store.keys),
      runtime: new DockerRuntime({
        hosts: [{ name: 'local', endpoint: 'unix:///var/run/docker.sock' }],
      }),
      log: pino({ level: 'silent' }),
      keepImages: 1,
    };
    for (const n of [1, 2, 3, 4]) await build(n);
  }, 120_000);

  afterAll(async () => {
    for (const n of [1, 2, 3, 4]) await run('docker', ['rmi', tag(n)]).catch(() => undefined);
    redis?.disconnect();
  });

  it('keeps what runs, the window before the settled rollout, and the next revision', async () => {
    await deps.store.putApp({
      name: app,
      repo: 'test',
      path: '.',
      branches: ['main'],
      environments: { [ENV]: { branch: 'main', target: 'local' } },
      updatedAt: new Date().toISOString(),
    });
    await succeeded(2);
    const settled = await succeeded(3);
    await deps.rollouts.updateEnv(app, ENV, {
      current: { sha: 'sha3', image: tag(3), rolloutId: settled.id, since: settled.createdAt },
    });
    // Revision 4 is built and queued: the environment's desired revision.
    await deps.store.addRevision({
      app,
      sha: 'sha4',
      repo: 'test',
      branch: 'main',
      commit: { sha: 'sha4', message: 'four', author: { name: 't', email: 't@t', timestamp: 0 } },
      firstSeenAt: new Date().toISOString(),
    });
    await deps.store.setRevisionImage(
      app,
      'sha4',
      { tag: tag(4), digest: 'sha256:0', pinned: tag(4) },
      'b-4',
    );
    await deps.rollouts.setDesired(app, ENV, 'sha4');

    // Revision 1 is outside everything; revision 2 is the window of one before revision 3.
    await pruneImages(deps, app, settled.id);
    expect(await present()).toEqual(['r2', 'r3', 'r4']);

    // Counting the settled rollout, the window of one is revision 3 itself.
    await pruneImages(deps, app);
    expect(await present()).toEqual(['r3', 'r4']);
  }, 60_000);
});
