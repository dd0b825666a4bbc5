/**
 * Fuzzes the API from its own contract: schemathesis (PyPI, installed into a cached venv by
 * scripts/fuzz-setup.sh) reads /docs/json of a running controller on the run's Redis and sends
 * what the document allows and what it does not, once without a token and once with each role's.
 * Expected: no 5xx, every answer matching its documented schema, and no state change from a
 * caller that may not change state (no token, a viewer). Loopback only: the base URL is given,
 * redirects are not followed and proxies are cleared.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/api/auth.js';
import { startApiController, type ApiController } from '../support/api-controller.js';
import { ROOT } from '../support/controller-fixture.js';
import { testEnv, uniqueName } from '../support/env.js';
import { seedHistory } from '../support/history-seed.js';
import { redisSnapshot, runSchemathesis, type FuzzRun, type Known } from './schemathesis.js';

const HAS_PYTHON = spawnSync('python3', ['--version']).status === 0;
if (!HAS_PYTHON) {
  console.warn('api-schemathesis: python3 is missing, so the API fuzz test is skipped');
}

describe.skipIf(!HAS_PYTHON)('the API fuzzed from its OpenAPI document (schemathesis)', () => {
  let api: ApiController;
  let venv: string;
  let known: Known;
  const admin = randomBytes(16).toString('hex');
  const reports = path.join(testEnv().runDir, uniqueName('fuzz'));

  beforeAll(async () => {
    // Idempotent and cached: a no-op once the pinned version is installed (scripts/setup.sh ran it).
    const setup = spawnSync('bash', [path.join(ROOT, 'scripts/fuzz-setup.sh')], {
      encoding: 'utf8',
    });
    expect(setup.status, setup.stderr).toBe(0);
    venv = setup.stdout.trim().split('\n').pop()!;
    expect(existsSync(path.join(venv, 'bin', 'schemathesis'))).toBe(true);
    mkdirSync(reports, { recursive: true });
    api = await startApiController({
      tokens: [`{ name: root, role: admin, hash: "${hashToken(admin)}" }`],
      // The fuzzer is one busy client: it is not what the rate limit is tested with.
      config: ['api: { rateLimit: { max: 1000000 } }'],
    });
    const seeded = await seedHistory(api.controller.store, api.controller.rollouts, {
      app: 'shop',
      envs: ['staging', 'production'],
      count: 6,
    });
    known = {
      apps: ['shop'],
      envs: ['staging', 'production'],
      rollouts: seeded.records.map((r) => r.id),
    };
  }, 600_000);
  afterAll(async () => {
    await api?.close();
  });

  const run = (name: string, token?: string): Promise<FuzzRun> =>
    runSchemathesis({
      venv,
      baseUrl: api.controller.url,
      token,
      reportDir: reports,
      name,
      known,
    });
  /** Fails with schemathesis's own words: the operation, the check and the reproduction. */
  const expectClean = (r: FuzzRun) => {
    expect(r.failures, r.output).toEqual([]);
    expect(r.testcases, r.output).toBeGreaterThan(10);
    expect(r.exitCode, r.output).toBe(0);
  };

  for (const who of ['anonymous', 'viewer'] as const) {
    it(`finds no 5xx and no answer off its schema, and changes no state, as ${who}`, async () => {
      const redis = api.controller.redis;
      const before = await redisSnapshot(redis, api.prefix);
      const r = await run(who, who === 'viewer' ? api.viewer : undefined);
      const after = await redisSnapshot(redis, api.prefix);
      expectClean(r);
      expect(after).toEqual(before);
    }, 180_000);
  }

  it('finds no 5xx and no answer off its schema as deployer, and leaves admin state alone', async () => {
    // Releasing an app name is an admin's: the deployer's run must leave the owner as it was.
    const owners = async () =>
      Object.entries(await redisSnapshot(api.controller.redis, api.prefix)).filter(([k]) =>
        k.includes(':app-owner:'),
      );
    await api.controller.store.claimApp('shop', { repo: 'app', path: '.' });
    const before = await owners();
    expect(before).toHaveLength(1);
    expectClean(await run('deployer', api.deployer));
    expect(await owners()).toEqual(before);
  }, 180_000);

  it('finds no 5xx and no answer off its schema as admin', async () => {
    expectClean(await run('admin', admin));
  }, 180_000);

  it('reads its verdicts from the junit report', () => {
    const report = readFileSync(path.join(reports, 'viewer.xml'), 'utf8');
    expect(report).toContain('<testsuite');
  });
});
