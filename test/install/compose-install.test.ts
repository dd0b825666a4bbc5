/**
 * The compose install brought up for real, as the README's "Production on one host" runs it:
 * docker-compose.yml under its own project name, ports on 127.0.0.1 and volumes, on stand-in
 * images built without a pull (scripts/compose-images.sh). The example app is pushed to a git
 * server of the test and deployed by its signed webhook; it is rolled back through the API; the
 * controller is restarted, then upgraded to a new image, under load through the edge; the API is
 * reached over TLS (the `tls` profile); the install is taken down and up again, then restored
 * onto empty volumes from a backup taken while it ran (deploy/compose/backup.sh, restore.sh).
 * Each phase is timed and printed (never asserted).
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type ClientOptions } from '../../src/cli/client.js';
import { ForgeRepo } from '../../src/demo/forge.js';
import {
  createBareRepo,
  startGitHttpServer,
  type GitHttpServer,
} from '../../src/demo/git-http-server.js';
import { Worktree } from '../../src/demo/worktree.js';
import { freePort } from '../../src/process/daemon.js';
import type { RolloutRecord } from '../../src/store/records.js';
import { EXAMPLE, ROOT, waitFor } from '../support/controller-fixture.js';
import { testEnv } from '../support/env.js';
import { lookupAs, startFixedRate } from '../support/fixed-rate.js';
import { ComposeProject, composeCommand } from './compose-project.js';

const exec = promisify(execFile);
const MINUTE = 60_000;

/** Phase → seconds, printed at the end. */
const timings = new Map<string, number>();
async function timed<T>(phase: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const out = await work();
  timings.set(phase, (performance.now() - start) / 1000);
  return out;
}

/** The stand-in images' variables (GANTRY_REDIS_IMAGE=…), built or found by the script. */
async function standInImages(): Promise<Record<string, string>> {
  const { stdout } = await exec('bash', ['scripts/compose-images.sh'], {
    cwd: ROOT,
    timeout: 20 * MINUTE,
  });
  return Object.fromEntries(
    stdout
      .split('\n')
      .map((l) => /^(GANTRY_[A-Z_]+)=(\S+)$/.exec(l.trim()))
      .filter((m) => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
}

/** GET `url` over TLS trusting only `ca`, its host name resolved to 127.0.0.1: status and body. */
function getTls(url: string, ca: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(
      url,
      { ca, lookup: lookupAs('127.0.0.1'), headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
  });
}

interface EnvState {
  route?: { url: string } | null;
}
interface RolloutsView {
  environments: EnvState[];
  rollouts: RolloutRecord[];
}

describe.skipIf(!composeCommand())('docker-compose.yml brought up for real', () => {
  const app = `compose${randomBytes(4).toString('hex')}`;
  const token = randomBytes(20).toString('hex');
  const secret = randomBytes(20).toString('hex');
  let project: ComposeProject;
  let git: GitHttpServer;
  let wt: Worktree;
  let forge: ForgeRepo;
  let client: ClientOptions;
  let registryPort: number;
  let backupDir: string;
  let edgeUrl = '';
  let tlsPort: number;

  const rollouts = () => api<RolloutsView>(client, `/api/apps/${app}/rollouts?env=production`);
  const history = async () =>
    (await rollouts()).rollouts.map((r) => `${r.id} ${r.kind} ${r.to.sha} ${r.outcome}`);
  /** The app's instances on the engine: the same ids after a restart mean no new deploy. */
  const instances = async () =>
    (
      await exec('docker', ['ps', '-q', '--no-trunc', '--filter', `label=dev.gantry.app=${app}`])
    ).stdout
      .split('\n')
      .filter(Boolean)
      .sort();
  /** The version the edge serves (the example's `<span id="version">`), or undefined. */
  const served = async (): Promise<string | undefined> => {
    const res = await fetch(edgeUrl, { signal: AbortSignal.timeout(3000) });
    return /<span id="version">([^<]+)</.exec(await res.text())?.[1];
  };
  const serving = (version: string) =>
    waitFor(`the edge to serve version ${version}`, async () =>
      (await served()) === version ? true : undefined,
    );
  const healthy = () =>
    waitFor(
      'the controller to turn healthy',
      async () => ((await project.health('gantry')) === 'healthy' ? true : undefined),
      3 * MINUTE,
    ).catch(async (e: Error) => {
      const logs = await project.run('logs', '--no-color', '--tail', '20', 'gantry');
      throw new Error(`${e.message}; its last log lines:\n${logs}`);
    });
  const succeeded = (match: (r: RolloutRecord) => boolean, what: string) =>
    waitFor(
      what,
      async () => {
        const r = (await rollouts()).rollouts.find(match);
        if (r?.outcome && r.outcome !== 'succeeded') throw new Error(`${what}: ${r.outcome}`);
        return r?.outcome ? r : undefined;
      },
      4 * MINUTE,
    );
  /** Commits what is staged, pushes it, and sends the signed push webhook a forge would. */
  const push = async (message: string) => {
    const sha = await wt.commit(message);
    await wt.push();
    await forge.accepted(client.url, 'github', sha, message);
    return sha;
  };

  beforeAll(async () => {
    const images = await timed('stand-in images (scripts/compose-images.sh)', standInImages);
    const dir = path.join(testEnv().runDir, app);
    backupDir = path.join(dir, 'backup');
    git = await startGitHttpServer({ root: path.join(dir, 'git') });
    await createBareRepo(path.join(dir, 'git'), 'hello.git', 'main');
    const repoUrl = git.repoUrl('hello.git');
    wt = await Worktree.clone(repoUrl, path.join(dir, 'clone'));
    await wt.copyFrom(EXAMPLE);
    // Its own app name: instances are found by label on the engine other tests share.
    const spec = path.join(wt.dir, 'gantry.yaml');
    await writeFile(spec, (await readFile(spec, 'utf8')).replace(/^app: hello$/m, `app: ${app}`));
    forge = new ForgeRepo({ repoUrl, fullName: 'acme/hello', secret });

    const port = await freePort();
    registryPort = await freePort();
    tlsPort = await freePort();
    const { stdout: gid } = await exec('stat', ['-c', '%g', '/var/run/docker.sock']);
    project = new ComposeProject(ROOT, `gantry-install-${app}`, {
      ...images,
      GANTRY_IMAGE: 'gantry.local/controller:compose-test',
      GANTRY_PORT: String(port),
      GANTRY_REDIS_PORT: String(await freePort()),
      GANTRY_REGISTRY_PORT: String(registryPort),
      GANTRY_EDGE_BASE_PORT: String(await freePort()),
      GANTRY_ADMIN_TOKEN_SHA256: createHash('sha256').update(token).digest('hex'),
      HELLO_WEBHOOK_SECRET: secret,
      HELLO_REPO_URL: repoUrl,
      DOCKER_GID: gid.trim(),
      // The API behind TLS (the api-tls service), plain HTTP on loopback only.
      COMPOSE_PROFILES: 'tls',
      GANTRY_HOST: '127.0.0.1',
      GANTRY_API_TLS_PORT: String(tlsPort),
    });
    client = { url: `http://127.0.0.1:${port}`, token };
    await timed('docker-compose build (controller image, layer cache)', () =>
      project.run('build', '-q'),
    );
  }, 30 * MINUTE);

  afterAll(async () => {
    await project?.remove();
    // What the controller started lives outside the project: its instances and its images.
    const ids = await instances().catch(() => []);
    if (ids.length > 0) await exec('docker', ['rm', '-f', ...ids]);
    const { stdout } = await exec('docker', [
      'images',
      '-q',
      '--filter',
      `reference=127.0.0.1:${registryPort}/*`,
    ]);
    const imageIds = [...new Set(stdout.split('\n').filter(Boolean))];
    if (imageIds.length > 0) await exec('docker', ['rmi', '-f', ...imageIds]).catch(() => {});
    // The upgrade's second tag of the same image (the first stays: the next run's layer cache).
    await exec('docker', ['rmi', 'gantry.local/controller:compose-test-next']).catch(() => {});
    await git?.close();
    console.log(
      `compose install timings (s):\n${[...timings]
        .map(([phase, s]) => `  ${s.toFixed(1).padStart(6)}  ${phase}`)
        .join('\n')}`,
    );
  }, 5 * MINUTE);

  it(
    'comes up from a clean state and turns healthy',
    async () => {
      await timed('docker-compose up -d', () => project.run('up', '-d'));
      await timed('up → controller healthy', healthy);
      expect(await project.health('redis')).toBe('healthy');
      expect(await api(client, '/healthz')).toMatchObject({ ok: true });
    },
    5 * MINUTE,
  );

  it(
    'serves the API over TLS through the api-tls service',
    async () => {
      // Caddy's internal CA makes its root and the certificate when it starts.
      const started = performance.now();
      const ca = await waitFor('the api-tls root certificate', async () =>
        project.run(
          'exec',
          '-T',
          'api-tls',
          'cat',
          '/var/lib/gantry/api-tls/pki/authorities/local/root.crt',
        ),
      );
      const url = `https://gantry.localhost:${tlsPort}`;
      const res = await waitFor('an HTTPS answer', () => getTls(`${url}/api/apps`, ca, token));
      timings.set(
        'controller healthy → API answers over TLS',
        (performance.now() - started) / 1000,
      );
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toHaveProperty('apps');
      // Without the root it is not trusted: the certificate is Caddy's, not a plain-text port.
      await expect(getTls(`${url}/healthz`, '', token)).rejects.toThrow(/certificate/i);
    },
    3 * MINUTE,
  );

  it(
    'deploys the example app from a push and its signed webhook, live through the compose edge',
    async () => {
      const sha = await timed('push → version 1 live through the edge', async () => {
        const sha = await push('Add the hello app');
        await succeeded((r) => r.to.sha === sha, 'the first rollout');
        const env = await waitFor(
          'a route',
          async () => (await rollouts()).environments[0]?.route ?? undefined,
        );
        edgeUrl = env.url.replace(/\/\/[^/:]+:/, '//127.0.0.1:');
        await serving('1');
        return sha;
      });
      const firstDeploy = [
        'docker-compose up -d',
        'up → controller healthy',
        'push → version 1 live through the edge',
      ];
      timings.set(
        'up → first deploy live (the three above)',
        firstDeploy.reduce((sum, p) => sum + (timings.get(p) ?? 0), 0),
      );
      expect((await rollouts()).rollouts.map((r) => r.to.sha)).toEqual([sha]);
    },
    6 * MINUTE,
  );

  it(
    'rolls back through the API',
    async () => {
      await wt.write(
        'www/index.html',
        (await readFile(path.join(EXAMPLE, 'www/index.html'), 'utf8')).replace(
          '<span id="version">1</span>',
          '<span id="version">2</span>',
        ),
      );
      const v2 = await push('Version 2');
      await timed('push → version 2 live', async () => {
        await succeeded((r) => r.to.sha === v2, 'the rollout of version 2');
        await serving('2');
      });
      await timed('rollback through the API → version 1 live', async () => {
        const { rolloutId } = await api<{ rolloutId: string }>(
          client,
          `/api/apps/${app}/rollback`,
          { method: 'POST', body: '{}' },
        );
        const r = await succeeded((x) => x.id === rolloutId, 'the rollback');
        expect(r.kind).toBe('rollback');
        await serving('1');
      });
    },
    8 * MINUTE,
  );

  /** Runs `change`, then checks that nothing was deployed: same history, same instances. */
  const nothingDeployed = async (change: () => Promise<void>) => {
    const [before, ids] = [await history(), await instances()];
    await change();
    expect(await history()).toEqual(before);
    expect(await instances()).toEqual(ids);
  };
  /** Runs `work`, timed as `phase`, under 20 GET/s through the edge: not one may fail. */
  const underLoad = async (phase: string, work: () => Promise<void>) => {
    const load = startFixedRate(edgeUrl, 20);
    await timed(phase, work);
    // The new controller's first reconcile passes while the load still runs.
    await new Promise((r) => setTimeout(r, 3000));
    const result = await load.stop();
    console.log(`${phase}: ${result.failed}/${result.total} requests failed`);
    expect(result.failures).toEqual([]);
    expect(result.total).toBeGreaterThan(50);
  };
  /** `up -d`, timed as `phase` until the edge serves version 1 again; then healthy. */
  const upAgain = async (phase: string) => {
    await timed(phase, async () => {
      await project.run('up', '-d');
      await serving('1');
    });
    await healthy();
  };

  it(
    'restarts the controller under load through the edge with 0 failed requests',
    () =>
      nothingDeployed(() =>
        underLoad('docker-compose restart gantry → healthy (under load)', async () => {
          await project.run('restart', 'gantry');
          await healthy();
        }),
      ),
    5 * MINUTE,
  );

  it(
    'upgrades the controller alone under load: the edge keeps serving, the history stays',
    async () => {
      const edges = () => Promise.all(['edge-front', 'edge-back'].map((s) => project.container(s)));
      const edgesBefore = await edges();
      // A new image, as a release would bring: the same build under a new tag.
      const next = 'gantry.local/controller:compose-test-next';
      await exec('docker', ['tag', project.env.GANTRY_IMAGE!, next]);
      project = project.with({ GANTRY_IMAGE: next });
      await nothingDeployed(() =>
        underLoad('upgrade: up -d --no-deps gantry → healthy (under load)', async () => {
          await project.run('up', '-d', '--no-deps', 'gantry');
          await healthy();
        }),
      );
      const id = (await project.container('gantry'))!;
      const image = await exec('docker', ['inspect', '-f', '{{.Config.Image}}', id]);
      expect(image.stdout.trim()).toBe(next);
      expect(await edges()).toEqual(edgesBefore);
    },
    5 * MINUTE,
  );

  it(
    'comes back after down and up from persisted state, with no new deploy',
    () =>
      nothingDeployed(async () => {
        // Taken while everything runs, as the README says: used by the restore below.
        await timed('backup while running (deploy/compose/backup.sh)', () =>
          project.script('backup.sh', backupDir),
        );
        await timed('docker-compose down', () => project.run('down', '-t', '10'));
        await upAgain('docker-compose up -d → version 1 served again');
      }),
    6 * MINUTE,
  );

  it(
    'is restored onto empty volumes from the backup: history and running apps all there',
    async () => {
      await nothingDeployed(async () => {
        // Everything stopped and every volume gone: what a lost disk leaves.
        await project.run('down', '-v', '-t', '10');
        await timed('restore (deploy/compose/restore.sh)', () =>
          project.script('restore.sh', backupDir),
        );
        await upAgain('up -d after restore → version 1 served');
      });
      // The registry's images came back too: a later scale-up or a new host can pull them.
      const tags = await fetch(`http://127.0.0.1:${registryPort}/v2/${app}/tags/list`);
      expect(((await tags.json()) as { tags: string[] }).tags.length).toBeGreaterThanOrEqual(2);
    },
    6 * MINUTE,
  );
});
