import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance, Runtime } from '../../src/runtime/runtime.js';
import {
  appName,
  closeWithInstances,
  deployMainAndStaging,
  startFixture,
  type Fixture,
} from '../support/controller-fixture.js';

/**
 * Per-environment overrides end to end, against a real controller, Docker, Caddy and git: one
 * app, production on `main` and staging on `staging`, each running its own replica count and
 * env vars from one gantry.yaml.
 */
describe('environment overrides', () => {
  let f: Fixture;
  const app = appName('envov');

  beforeAll(async () => {
    // The controller builds only the branches a repo lists (default: main).
    f = await startFixture({ deploy: true, repo: ['branches: [main, staging]'] });
    await f.wt.write(
      'gantry.yaml',
      [
        `app: ${app}`,
        'run: { port: 8080, replicas: 1, env: { LOG_LEVEL: info, GREETING: hello } }',
        'health: { http: { path: /healthz }, interval: 1s, startPeriod: 2s, healthyThreshold: 2 }',
        'environments:',
        '  production: { branch: main, replicas: 2, env: { LOG_LEVEL: warn } }',
        '  staging: { branch: staging, env: { GREETING: hi-staging } }',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await closeWithInstances(f, app);
  });

  /** Each running instance's value of `name`, read from inside it. */
  async function envOf(runtime: Runtime, instances: Instance[], name: string): Promise<string[]> {
    return Promise.all(
      instances.map(async (i) => {
        const res = await runtime.exec(i, ['env'], 10_000);
        expect(res.exitCode).toBe(0);
        const line = res.output.split('\n').find((l) => l.startsWith(`${name}=`));
        return line === undefined ? '(unset)' : line.slice(name.length + 1).trim();
      }),
    );
  }

  it('runs each environment with its own replica count and env vars', async () => {
    const { prod: prodSha, staging: stagingSha } = await deployMainAndStaging(f, app);

    const runtime = f.controller.runtime;
    if (!runtime) throw new Error('the fixture deploys, so it has a runtime');
    const running = async (env: string) =>
      (await runtime.list({ app, env })).filter((i) => i.state === 'running');
    const production = await running('production');
    const staging = await running('staging');

    expect(production.map((i) => i.revision)).toEqual([prodSha, prodSha]);
    expect(staging.map((i) => i.revision)).toEqual([stagingSha]);
    expect(await envOf(runtime, production, 'LOG_LEVEL')).toEqual(['warn', 'warn']);
    expect(await envOf(runtime, production, 'GREETING')).toEqual(['hello', 'hello']);
    expect(await envOf(runtime, staging, 'LOG_LEVEL')).toEqual(['info']);
    expect(await envOf(runtime, staging, 'GREETING')).toEqual(['hi-staging']);
  }, 300_000);
});
