import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  secondDockerUnavailable,
  startSecondDocker,
  type SecondDocker,
} from '../support/second-docker.js';
import { uniqueName } from '../support/env.js';
import {
  EXAMPLE,
  finishedBuild,
  startFixture,
  type Fixture,
  finishedRollout,
  closeWithInstances,
} from '../support/controller-fixture.js';

const unavailable = await secondDockerUnavailable();
if (unavailable) console.log(`multi-host rollout test skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('one environment on two Docker hosts', () => {
  let f: Fixture;
  let second: SecondDocker;
  const app = uniqueName('multi').replace(/-/g, '');

  beforeAll(async () => {
    second = await startSecondDocker();
    f = await startFixture({
      deploy: true,
      config: [
        'runtime:',
        '  hosts:',
        '    - { name: one, endpoint: "unix:///var/run/docker.sock" }',
        `    - { name: two, endpoint: "${second.endpoint}" }`,
      ],
    });
    const spec = await readFile(path.join(EXAMPLE, 'gantry.yaml'), 'utf8');
    await f.wt.write('gantry.yaml', spec.replace('app: hello', `app: ${app}`));
  });
  afterAll(async () => {
    await closeWithInstances(f, app);
    await second?.stop();
  });

  it('spreads replicas over both hosts and rolls a bad revision back on every host', async () => {
    const runtime = f.controller.runtime!;
    const good = await f.push('github', 'Good on both hosts');
    expect((await finishedBuild(f, app, good)).status).toBe('succeeded');
    expect((await finishedRollout(f, app, good)).outcome).toBe('succeeded');
    const hostsOf = async (sha: string) =>
      (await runtime.list({ app, env: 'production' }))
        .filter((i) => i.revision === sha && i.state === 'running')
        .map((i) => i.host)
        .sort();
    // The second engine had no image: the runtime pulled it by digest from the registry.
    expect(await hostsOf(good)).toEqual(['one', 'one', 'two']);

    await rm(path.join(f.wt.dir, 'www', 'healthz'));
    const bad = await f.push('github', 'Bad on both hosts');
    expect((await finishedBuild(f, app, bad)).status).toBe('succeeded');
    const rollout = await finishedRollout(f, app, bad);
    expect(rollout.outcome).toBe('failed');
    // No mixed fleet: only the good revision runs, on both hosts.
    expect(await hostsOf(bad)).toEqual([]);
    expect(await hostsOf(good)).toEqual(['one', 'one', 'two']);
    expect((await f.controller.rollouts.env(app, 'production')).current?.sha).toBe(good);
  });
});
