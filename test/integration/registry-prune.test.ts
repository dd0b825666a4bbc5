/**
 * Registry pruning against a real `docker-registry` (htpasswd, deletes enabled, its config file
 * given for garbage collection): after four deploys with a window of two, the two oldest images'
 * manifests are gone and their blobs collected, the two newest still pull, and a rollback to the
 * older one inside the window succeeds, pulling it again from the registry.
 */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../src/cli/client.js';
import type { RegistryServer } from '../../src/demo/registry-server.js';
import { basicAuthorization } from '../../src/registry/credentials.js';
import type { PruneReport } from '../../src/registry/registry-prune.js';
import {
  appName,
  closeWithInstances,
  exampleSpec,
  finishedRollout,
  pushPageDeployed,
  startFixture,
  type Fixture,
} from '../support/controller-fixture.js';
import { testEnv, uniqueName } from '../support/env.js';
import { startAuthRegistry, type AuthRegistry } from '../support/htpasswd.js';
import { gantry } from './cli-process.js';

const run = promisify(execFile);
const USER = 'pruner';

/** Blob files in the registry's storage: what garbage collection frees. */
async function blobCount(registryDir: string): Promise<number> {
  const root = join(registryDir, 'data', 'docker', 'registry', 'v2', 'blobs', 'sha256');
  let n = 0;
  for (const prefix of await readdir(root).catch(() => [])) {
    n += (await readdir(join(root, prefix))).length;
  }
  return n;
}

describe('registry pruning outside the rollback window (docker-registry)', () => {
  const env = testEnv();
  const dir = join(env.runDir, uniqueName('registry-prune'));
  const registryDir = join(dir, 'registry');
  const app = appName('prune');
  let auth: AuthRegistry;
  let registry: RegistryServer;
  let f: Fixture;
  const shas: string[] = [];
  const images: string[] = [];

  /** The status of the manifest `image` (`repo@sha256:…`) pins: 200 present, 404 gone. */
  async function manifestStatus(image: string): Promise<number> {
    const digest = image.slice(image.indexOf('@') + 1);
    const res = await fetch(`${registry.url}/v2/${app}/manifests/${digest}`, {
      method: 'HEAD',
      headers: {
        authorization: basicAuthorization({ username: USER, password: auth.password })!,
        accept: 'application/vnd.docker.distribution.manifest.v2+json',
      },
    });
    return res.status;
  }

  beforeAll(async () => {
    auth = await startAuthRegistry(dir, USER);
    registry = auth.registry;
    f = await startFixture({
      deploy: true,
      registry: registry.address,
      registryEntries: [
        ...auth.entries,
        // No timer and no grace: the test prunes on demand, right after the deploys.
        `prune: { interval: 0s, keepPerEnvironment: 2, grace: 0s, gcConfig: "${registry.configFile}" }`,
      ],
    });
    await f.wt.write('gantry.yaml', await exampleSpec(app));
    for (let v = 1; v <= 4; v++) {
      shas.push(await pushPageDeployed(f, app, `<h1>v${v}</h1>\n`, `v${v}`));
      images.push((await finishedRollout(f, app, shas.at(-1)!)).to.image);
    }
  }, 300_000);

  afterAll(async () => {
    await closeWithInstances(f, app);
    for (const image of images) {
      await run('docker', ['image', 'rm', '--no-prune', image]).catch(() => undefined);
    }
    await auth?.stop();
  }, 120_000);

  it('reports what it would delete with --dry-run, and deletes nothing', async () => {
    const res = await gantry(['registry:prune', '--dry-run'], { client: f.admin });
    console.log(`$ gantry registry:prune --dry-run\n${res.stdout}`);
    expect(res.code, res.stderr).toBe(0);
    const tags = shas.map((s) => s.slice(0, 12));
    // The two oldest, in whichever order the plan lists them.
    const listed = new RegExp(`${app}: would delete 2 \\(([0-9a-f]{12}), ([0-9a-f]{12})\\)`).exec(
      res.stdout,
    );
    expect(listed?.slice(1).sort()).toEqual([tags[0], tags[1]].sort());
    expect(res.stdout).toContain('garbage collection: skipped: dry run');
    for (const image of images) expect(await manifestStatus(image)).toBe(200);
  });

  it('deletes the manifests outside the window, collects their blobs, and keeps the window', async () => {
    const before = await blobCount(registryDir);
    const report = await api<PruneReport>(f.admin, '/api/registry/prune', {
      method: 'POST',
      body: JSON.stringify({}),
    });
    console.log(`POST /api/registry/prune → ${JSON.stringify(report)}`);
    const mine = report.apps.find((a) => a.app === app)!;
    expect(mine.error).toBeUndefined();
    expect(mine.deleted.map((d) => d.digest).sort()).toEqual(
      [images[0], images[1]].map((i) => i!.slice(i!.indexOf('@') + 1)).sort(),
    );
    expect(report.gc).toMatch(/^ran: /);
    expect(await manifestStatus(images[0]!)).toBe(404);
    expect(await manifestStatus(images[1]!)).toBe(404);
    expect(await manifestStatus(images[2]!)).toBe(200);
    expect(await manifestStatus(images[3]!)).toBe(200);
    const after = await blobCount(registryDir);
    console.log(`registry blobs: ${before} before, ${after} after garbage collection`);
    expect(after).toBeLessThan(before);
    // The pruned revisions' image records are gone: a deploy of one would build it again.
    expect((await f.controller.store.getRevision(app, shas[0]!))?.image).toBeUndefined();
    expect((await f.controller.store.getRevision(app, shas[2]!))?.image?.pinned).toBe(images[2]);
  });

  it('rolls back to the older image inside the window, pulling it from the registry', async () => {
    // Off the engine, so the rollback must pull it (with the credentials) after the GC.
    await run('docker', ['image', 'rm', '--no-prune', images[2]!]);
    const res = await gantry(['rollback', app, '--to', shas[2]!.slice(0, 12)], {
      client: f.deployer,
    });
    // The CLI follows the rollback to its outcome: 0 means it succeeded.
    expect(res.code, `${res.stdout}\n${res.stderr}`).toBe(0);
    expect((await f.controller.rollouts.env(app, 'production')).current?.sha).toBe(shas[2]);
  });
});
