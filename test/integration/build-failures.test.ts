import { afterEach, describe, expect, it } from 'vitest';
import { registryDigest } from '../../src/build/registry.js';
import { api } from '../../src/cli/client.js';
import type { AppRecord, BuildRecord } from '../../src/store/records.js';
import { testEnv } from '../support/env.js';
import {
  finishedBuild,
  startFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';

const SPEC = (app: string) => `app: ${app}\nrun:\n  port: 8080\n`;
const DOCKERFILE = (run: string) =>
  `FROM gantry.local/busybox:1\nRUN ${run}\nCMD ["httpd", "-f", "-p", "8080"]\n`;

describe('failed builds say what is wrong and where, and deploy nothing', () => {
  let f: Fixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('an invalid gantry.yaml fails that commit with file, line and column', async () => {
    f = await startFixture();
    await f.wt.write('gantry.yaml', 'app: hello\nrun:\n  port: 8080\n  replicas: three\n');
    const sha = await f.push('github', 'Break the spec');
    const build = await finishedBuild(f, 'hello', sha);
    expect(build.status).toBe('failed');
    expect(build.failure?.code).toBe('GANTRY_ERR_SPEC_INVALID');
    expect(build.failure?.message).toMatch(/gantry\.yaml:4:13: .*replicas/);
    expect(await registryDigest(testEnv().registry, 'hello', sha.slice(0, 12))).toBeUndefined();
    const { app } = await api<{ app: AppRecord }>(f.client, '/api/apps/hello');
    expect(app.specError?.sha).toBe(sha);
  });

  it('duplicate keys and a Dockerfile path outside the repo are refused the same way', async () => {
    f = await startFixture();
    await f.wt.write('gantry.yaml', 'app: hello\nbuild:\n  dockerfile: ../../etc/passwd\n');
    const escape = await f.push('gitea', 'Escape the repo');
    const b1 = await finishedBuild(f, 'hello', escape);
    expect(b1.failure?.message).toMatch(/gantry\.yaml:3:\d+: .*dockerfile/);

    await f.wt.write('gantry.yaml', 'app: hello\napp: other\n');
    const dup = await f.push('gitlab', 'Duplicate key');
    const b2 = await finishedBuild(f, 'hello', dup);
    expect(b2.failure?.message).toMatch(/gantry\.yaml:2:1: .*[Dd]uplicate/);
  });

  it('a failing Dockerfile fails the build with the log tail; nothing is pushed', async () => {
    f = await startFixture();
    await f.wt.write(
      'Dockerfile',
      DOCKERFILE('echo compiling && echo "error: missing semicolon" && exit 3'),
    );
    const sha = await f.push('github', 'Break the build');
    const build = await finishedBuild(f, 'hello', sha);
    expect(build.status).toBe('failed');
    expect(build.failure?.code).toBe('GANTRY_ERR_BUILD_FAILED');
    expect(build.failure?.message).toMatch(/returned a non-zero code: 3/);
    expect(build.failure?.logTail.join('\n')).toContain('error: missing semicolon');
    // Stalled, not transient: a broken Dockerfile is not retried.
    expect(build.attempts).toBe(1);
    expect(await registryDigest(testEnv().registry, 'hello', sha.slice(0, 12))).toBeUndefined();
  });

  it('a build past its timeout is stopped and recorded as such', async () => {
    f = await startFixture({ config: ['build: { timeoutSeconds: 3, debounceMs: 0 }'] });
    await f.wt.write('Dockerfile', DOCKERFILE('echo waiting && sleep 60'));
    const sha = await f.push('github', 'Slow build');
    const build = await finishedBuild(f, 'hello', sha, 60_000);
    expect(build.status).toBe('failed');
    expect(build.failure?.code).toBe('GANTRY_ERR_BUILD_TIMEOUT');
  });

  it('logs are readable while the build runs', async () => {
    f = await startFixture({ config: ['build: { debounceMs: 0 }'] });
    // A nonce defeats the layer cache; lines are matched whole, since the step line echoes the command.
    await f.wt.write(
      'Dockerfile',
      DOCKERFILE(`echo ${Date.now()} && echo step-one-done && sleep 4 && echo step-two-done`),
    );
    const sha = await f.push('github', 'Slow but fine');
    const partial = await waitFor('log lines of a running build', async () => {
      const { builds } = await api<{ builds: BuildRecord[] }>(f!.client, '/api/apps/hello/builds');
      const b = builds.find((x) => x.sha === sha && x.status === 'running');
      if (!b) return undefined;
      const log = await api<{ lines: string[]; finished: boolean }>(
        f!.client,
        `/api/builds/${b.id}/log`,
      );
      return log.lines.some((l) => l.trim() === 'step-one-done') ? log : undefined;
    });
    expect(partial.finished).toBe(false);
    expect(partial.lines.map((l) => l.trim())).not.toContain('step-two-done');
    const done = await finishedBuild(f, 'hello', sha);
    expect(done.status).toBe('succeeded');
  });

  it('an unreachable registry is retried with backoff, then recorded as failed', async () => {
    f = await startFixture({
      registry: '127.0.0.1:9',
      config: ['build: { attempts: 2, debounceMs: 0 }'],
    });
    const sha = await f.push('github', 'Registry is down');
    const build = await finishedBuild(f, 'hello', sha, 60_000);
    expect(build.status).toBe('failed');
    expect(build.failure?.code).toBe('GANTRY_ERR_REGISTRY_UNAVAILABLE');
    expect(build.attempts).toBe(2);
  });

  it('a symlink escaping the build context fails the build', async () => {
    f = await startFixture();
    const { symlink } = await import('node:fs/promises');
    await symlink('/etc/passwd', `${f.wt.dir}/www/passwd`);
    const sha = await f.push('github', 'Sneak a symlink');
    const build = await finishedBuild(f, 'hello', sha);
    expect(build.status).toBe('failed');
    expect(build.failure?.code).toBe('GANTRY_ERR_PATH_ESCAPE');
    expect(build.failure?.message).toContain('www/passwd');
  });

  it('one bad app never stops the others in the same repo', async () => {
    f = await startFixture({ seed: false, repo: ['apps: [api, web]'] });
    for (const app of ['api', 'web']) {
      await f.wt.write(`${app}/gantry.yaml`, SPEC(app));
      await f.wt.write(`${app}/Dockerfile`, DOCKERFILE(`echo building ${app}`));
    }
    await f.wt.write('web/gantry.yaml', 'app: web\nrun: { port: "eighty" }\n');
    const sha = await f.push('github', 'Two apps, one broken');
    const api1 = await finishedBuild(f, 'api', sha);
    const web = await finishedBuild(f, 'web', sha);
    expect(api1.status).toBe('succeeded');
    expect(web.status).toBe('failed');
    expect(web.failure?.message).toMatch(/web\/gantry\.yaml:2:\d+/);
  });
});
