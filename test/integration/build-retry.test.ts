/**
 * Transient failures are retried for long enough (issue 14, item 13): a private registry stopped
 * for ~30 s while a push builds. The build's push fails, is retried with the configured backoff
 * (2 s doubling to 8 s here; 5 s to 2 min by default), succeeds once the registry is back, and
 * the push deploys. The record says where the retries stand at every step.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { api } from '../../src/cli/client.js';
import { startRegistry, type RegistryServer } from '../../src/demo/registry-server.js';
import type { BuildRecord } from '../../src/store/records.js';
import {
  appName,
  closeWithInstances,
  fastSpec,
  finishedRollout,
  startFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';
import { testEnv, uniqueName } from '../support/env.js';

describe('a registry down for ~30 s during a build', () => {
  const app = appName('retry');
  let f: Fixture | undefined;
  let registry: RegistryServer | undefined;
  const dir = path.join(testEnv().runDir, uniqueName('registry'));

  afterAll(async () => {
    await closeWithInstances(f, app);
    await registry?.stop();
  });

  it('is waited out: the build retries with backoff, then pushes, and the push deploys', async () => {
    registry = await startRegistry({ dir });
    const port = Number(registry.address.split(':')[1]);
    f = await startFixture({
      deploy: true,
      registry: registry.address,
      config: ['build: { retry: { attempts: 8, baseDelay: 2s, maxDelay: 8s } }'],
    });
    await f.wt.write('gantry.yaml', fastSpec(app));

    await registry.stop();
    const downAt = Date.now();
    const sha = await f.push('github', 'Push while the registry is down');

    // What the record says while the registry is away: queued, attempt n of 8, next try at T.
    const seen: BuildRecord[] = [];
    const buildOf = async () => {
      const { builds } = await api<{ builds: BuildRecord[] }>(f!.client, `/api/apps/${app}/builds`);
      return builds.find((b) => b.sha === sha);
    };
    const waiting = await waitFor(
      'a failed attempt waiting for its retry',
      async () => {
        const b = await buildOf();
        if (b) seen.push(b);
        if (b && ['failed', 'succeeded'].includes(b.status)) throw new Error(JSON.stringify(b));
        return b?.status === 'queued' && b.retry?.nextAt ? b : undefined;
      },
      120_000,
    );
    expect(waiting.retry).toMatchObject({
      of: 8,
      lastError: { code: 'GANTRY_ERR_REGISTRY_UNAVAILABLE' },
    });
    expect(Date.parse(waiting.retry!.nextAt!)).toBeGreaterThan(
      Date.parse(waiting.retry!.lastError!.at),
    );
    expect(waiting.note).toMatch(/^attempt \d of 8 failed \(.*\); next try at /);

    // Back after ~30 s, on the same port and storage.
    await sleep(Math.max(0, 30_000 - (Date.now() - downAt)));
    registry = await startRegistry({ dir, port });

    const build = await waitFor(
      'the build to finish',
      async () => {
        const b = await buildOf();
        if (b) seen.push(b);
        return b && ['succeeded', 'failed'].includes(b.status) ? b : undefined;
      },
      180_000,
    );
    expect(build.status, build.failure?.message).toBe('succeeded');
    expect(build.retry?.attempt).toBeGreaterThanOrEqual(2);
    expect(build.retry?.lastError?.code).toBe('GANTRY_ERR_REGISTRY_UNAVAILABLE');
    expect(build.retry?.nextAt).toBeUndefined();
    expect(build.image?.pinned).toMatch(/@sha256:/);

    // The attempts are in the log, each failure with its next try; the CLI and UI show this log.
    const { lines } = await api<{ lines: string[] }>(f.client, `/api/builds/${build.id}/log`);
    const failures = lines.filter((l) => /^attempt \d+ of 8 failed; attempt \d+ at /.test(l));
    expect(failures.length).toBe(build.retry!.attempt - 1);
    expect(lines).toContain(`attempt ${build.retry!.attempt} of 8`);
    // The waits grew: 2 s, 4 s, 8 s, 8 s…
    const waits = failures.map((l) => Number(/\(in (\d+)s\)/.exec(l)?.[1]));
    expect(waits.slice(0, 3)).toEqual([2, 4, 8].slice(0, waits.length));
    console.log(
      `registry down ${Math.round((Date.now() - downAt) / 1000)}s; attempts ${build.retry?.attempt}; waits ${waits.join(', ')} s; states seen: ${[...new Set(seen.map((b) => `${b.status}${b.retry ? ` ${b.retry.attempt}/${b.retry.of}` : ''}`))].join(' → ')}`,
    );

    // The accepted push deploys.
    const rollout = await finishedRollout(f, app, sha);
    expect(rollout.outcome, rollout.reason).toBe('succeeded');
  }, 420_000);
});
