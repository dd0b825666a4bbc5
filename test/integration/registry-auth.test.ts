/**
 * A registry that refuses anonymous pushes and pulls (`docker-registry` with htpasswd): Gantry's
 * build pushes with `registry.username` and the password from `registry.passwordEnv`, the runtime
 * pulls with them on a second engine that has no images, and the password is found in no output:
 * the controller's log, every Redis key (records, build logs, job data), API answers, errors.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../src/cli/client.js';
import type { RegistryServer } from '../../src/demo/registry-server.js';
import { errorMessage, isGantryError } from '../../src/errors.js';
import { DockerImageBuilder } from '../../src/runtime/docker/images.js';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';
import { CONTRACT_APP_FILES } from '../contract/runtime-contract.js';
import {
  appName,
  closeWithInstances,
  exampleSpec,
  finishedBuild,
  finishedRollout,
  startFixture,
  type Fixture,
} from '../support/controller-fixture.js';
import { testEnv, uniqueName } from '../support/env.js';
import { startAuthRegistry, type AuthRegistry } from '../support/htpasswd.js';
import { dumpRedis } from '../support/redis-dump.js';
import { trySecondDocker, type SecondDocker } from '../support/second-docker.js';

const run = promisify(execFile);
const USER = 'gantry-ci';

/** The password, and as Basic auth and X-Registry-Auth carry it: none may show up. */
function expectNoSecret(password: string, where: string, text: string): void {
  const encoded = [Buffer.from(`${USER}:${password}`), Buffer.from(password)];
  for (const secret of [password, ...encoded.map((b) => b.toString('base64'))]) {
    expect(text.includes(secret), `${where} holds the registry password`).toBe(false);
  }
}

describe('registry credentials against docker-registry with htpasswd', () => {
  const env = testEnv();
  const dir = join(env.runDir, uniqueName('registry-auth'));
  const app = appName('regauth');
  let auth: AuthRegistry;
  let registry: RegistryServer;
  let second: SecondDocker | undefined;
  let unavailable: string | undefined;
  let f: Fixture | undefined;
  let pinned = '';
  const expectNoPassword = (where: string, text: string) =>
    expectNoSecret(auth.password, where, text);

  beforeAll(async () => {
    auth = await startAuthRegistry(dir, USER);
    registry = auth.registry;
    ({ second, unavailable } = await trySecondDocker());
  }, 180_000);

  afterAll(async () => {
    await closeWithInstances(f, app);
    await second?.stop();
    await auth?.stop();
  }, 120_000);

  it('refuses an anonymous push, with an error that is not retried and names what to set', async () => {
    expect((await fetch(`${registry.url}/v2/`)).status).toBe(401);
    const ctx = join(dir, 'anon');
    for (const [path, [content, mode]] of Object.entries(CONTRACT_APP_FILES)) {
      await mkdir(dirname(join(ctx, path)), { recursive: true });
      await writeFile(join(ctx, path), content, { mode });
    }
    const tag = `${registry.address}/${uniqueName('anon')}:1`;
    await run('docker', ['build', '-q', '-t', tag, ctx], {
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
    });
    try {
      const anonymous = new DockerImageBuilder({ registry: { address: registry.address } });
      const lines: string[] = [];
      const pushed = anonymous.push({
        tag,
        signal: new AbortController().signal,
        onLog: (l) => lines.push(l),
      });
      const err: unknown = await pushed.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isGantryError(err, 'GANTRY_ERR_REGISTRY_AUTH')).toBe(true);
      expect(errorMessage(err)).toMatch(/registry\.passwordEnv/);
    } finally {
      await run('docker', ['image', 'rm', '--no-prune', tag]).catch(() => undefined);
    }
  });

  it('builds, pushes with the credentials and deploys on an engine that pulls with them', async (ctx) => {
    if (second === undefined) return ctx.skip(`second Docker engine unavailable: ${unavailable}`);
    const logFile = join(dir, 'controller.log');
    f = await startFixture({
      deploy: true,
      registry: registry.address,
      registryEntries: auth.entries,
      config: [`runtime: { hosts: [{ name: second, endpoint: "${second.endpoint}" }] }`],
      logFile,
    });
    await f.wt.write('gantry.yaml', await exampleSpec(app));
    const sha = await f.push('github', 'first');
    const build = await finishedBuild(f, app, sha);
    expect(build.status, JSON.stringify(build.failure ?? null)).toBe('succeeded');
    pinned = build.image!.pinned;
    expect(pinned.startsWith(`${registry.address}/${app}@sha256:`)).toBe(true);
    const rollout = await finishedRollout(f, app, sha);
    expect(rollout.outcome, rollout.reason ?? '').toBe('succeeded');
    // The second engine had no images: it pulled the app's from the registry, with credentials.
    const docker2 = new Docker({ socketPath: second.layout.socketPath });
    expect((await docker2.getImage(pinned).inspect()).Id).toMatch(/^sha256:/);

    // The admin may read the config: it says a password is set, never which.
    const config = await api<{ registry: unknown }>(f.admin, '/api/config');
    expect(config.registry).toMatchObject({
      address: registry.address,
      credentials: { username: USER, password: '(set)' },
    });
    const answers = await Promise.all(
      ['/api/config', `/api/apps/${app}`, `/api/apps/${app}/rollouts`].map((p) =>
        api<unknown>(f!.admin, p).then((body) => JSON.stringify(body)),
      ),
    );
    expectNoPassword('API answers', answers.join('\n'));
    expectNoPassword('Redis', await dumpRedis(f));
    expectNoPassword('the controller log', await readFile(logFile, 'utf8'));
  });

  it('pulls only with the credentials: without them the engine is refused', async (ctx) => {
    if (second === undefined || pinned === '') {
      return ctx.skip(`needs the deploy above: ${unavailable ?? 'it did not run'}`);
    }
    await closeWithInstances(f, app);
    f = undefined;
    const docker2 = new Docker({ socketPath: second.layout.socketPath });
    await docker2.getImage(pinned).remove({ force: true });
    const hosts = [{ name: 'second', endpoint: second.endpoint }];

    const anonymous = new DockerRuntime({ hosts, registry: { address: registry.address } });
    const err: unknown = await anonymous.ensureImage('second', pinned).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isGantryError(err, 'GANTRY_ERR_REGISTRY_AUTH')).toBe(true);
    expectNoPassword('the pull error', `${errorMessage(err)} ${JSON.stringify(err)}`);

    const credentials = { username: USER, password: auth.password };
    const runtime = new DockerRuntime({
      hosts,
      registry: { address: registry.address, credentials },
    });
    await runtime.ensureImage('second', pinned);
    expect((await docker2.getImage(pinned).inspect()).Id).toMatch(/^sha256:/);
  });
});
