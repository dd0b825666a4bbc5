import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/process/daemon.js';
import { finishedBuild, startFixture, type Fixture } from '../support/controller-fixture.js';
import { testEnv, uniqueName } from '../support/env.js';
import { gantry } from './cli-process.js';

// A controller without deploys: what the CLI does with tokens, config files and errors.
describe('gantry CLI against a controller (no deploys)', () => {
  let f: Fixture;
  let sha: string;

  beforeAll(async () => {
    f = await startFixture();
    sha = await f.push('github', 'Add greeting (#42)');
    await finishedBuild(f, 'hello', sha);
  });
  afterAll(async () => {
    await f?.close();
  });

  it('lists apps as a table and as JSON', async () => {
    const table = await gantry(['apps'], { client: f.client });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(
      /^APP\s+REPO\s+ENVIRONMENTS\s+LATEST COMMIT\s+BUILD\s+WHEN$/,
    );
    expect(table.stdout).toContain(sha.slice(0, 12));
    const json = await gantry(['apps', '--json'], { client: f.client });
    expect(json.code).toBe(0);
    const apps = JSON.parse(json.stdout) as { name: string }[];
    expect(apps.map((a) => a.name)).toContain('hello');
  });

  it('takes URL and token from the config file when neither flag nor environment gives them', async () => {
    const dir = path.join(testEnv().runDir, uniqueName('cli'));
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, 'cli.yaml');
    await writeFile(file, `url: ${f.controller.url}\ntokenCommand: echo ${f.token}\n`);
    await chmod(file, 0o600);
    const res = await gantry(['status', 'hello'], { env: { GANTRY_CLI_CONFIG: file } });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^app hello /);
    expect(res.stdout).toMatch(/environments\nENV\s+BRANCH\s+CURRENT/);
    expect(res.stdout).toContain('Add greeting (#42)');
    // A flag beats the file: a wrong token from the command line is used, and refused.
    const flagged = await gantry(['status', 'hello', '--token', 'wrong-token'], {
      env: { GANTRY_CLI_CONFIG: file },
    });
    expect(flagged.code).toBe(1);
    expect(flagged.stderr).toMatch(/GANTRY_ERR_UNAUTHORIZED/);
  });

  it('a bad token: one line, a hint, exit 1, and the token is never printed', async () => {
    const res = await gantry(['apps'], {
      client: { url: f.controller.url, token: 'not-a-real-token-123' },
    });
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(
      /^error: a valid bearer token is required \(GANTRY_ERR_UNAUTHORIZED\) — pass --token/,
    );
    expect(res.stderr + res.stdout).not.toContain('not-a-real-token-123');
  });

  it('a viewer may not roll back: 403 in one line, exit 1, nothing enqueued', async () => {
    const res = await gantry(['rollback', 'hello'], { client: f.client });
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toMatch(
      /^error: this needs the deployer role; tester is a viewer \(GANTRY_ERR_FORBIDDEN\)$/,
    );
    expect(await f.controller.rollouts.list('hello', 'production')).toHaveLength(0);
  });

  it('unknown app: the API error and its code', async () => {
    const res = await gantry(['status', 'nope'], { client: f.client });
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe('error: app nope is not known (GANTRY_ERR_NOT_FOUND)');
  });

  it('logs: 503 with a clear reason when the controller runs no deploys', async () => {
    const res = await gantry(['logs', 'hello'], { client: f.client });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/runs no deploys.*\(GANTRY_ERR_DEPLOY_DISABLED\)/);
  });

  it('an unreachable controller: one line, exit 1', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const res = await gantry(['apps'], { client: { url, token: f.token } });
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toMatch(new RegExp(`^error: cannot reach the controller at ${url}`));
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('bad usage exits 2 without calling anyone', async () => {
    const res = await gantry(['history', 'hello', '--pr', 'forty-two']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--pr must be a whole number/);
  });
});
