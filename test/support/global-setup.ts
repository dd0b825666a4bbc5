/**
 * Vitest global setup: one private Redis and registry for the whole run, under
 * `.gantry/test/<run>/`, on free ports. It installs and starts nothing else: `bash scripts/test.sh`
 * prepares the machine (Docker engine, binaries, base image) first.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { errorMessage } from '../../src/errors.js';
import { stopEdgesUnder } from '../../src/edge/supervisor/ensure-edge.js';
import {
  BASE_IMAGE,
  ensureDocker,
  hasImage,
  startLocalServices,
  type LocalServices,
} from '../../src/demo/services.js';
// The ProvidedContext keys are declared there.
import type {} from './env.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const testRoot = join(repoRoot, '.gantry', 'test');
const HINT = 'Run the tests with `bash scripts/test.sh`: it installs and starts what they need.';

let services: LocalServices | undefined;

export async function setup(project: TestProject): Promise<void> {
  try {
    await ensureDocker();
  } catch (e) {
    throw new Error(`${errorMessage(e)}\n${HINT}`, { cause: e });
  }
  if (!(await hasImage(BASE_IMAGE))) {
    throw new Error(`the base image ${BASE_IMAGE} is missing.\n${HINT}`);
  }

  await pruneOldRuns();
  const runDir = join(testRoot, `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
  await mkdir(runDir, { recursive: true });
  try {
    services = await startLocalServices({ root: runDir });
  } catch (e) {
    await rm(runDir, { recursive: true, force: true });
    throw new Error(`${errorMessage(e)}\n${HINT}`, { cause: e });
  }

  project.provide('redisUrl', services.redis.url);
  project.provide('registry', services.registry.address);
  project.provide('runDir', runDir);
}

/**
 * Instances this run's controllers started run images of its private registry. A test that
 * failed before its cleanup, or a reconciler that replaced an instance while a test removed it,
 * would leave them running; with their restart policy they come back after every reboot, holding
 * loopback ports the next run's engines hand out.
 */
async function removeRunContainers(registry: string): Promise<void> {
  const run = promisify(execFile);
  try {
    const { stdout } = await run('docker', ['ps', '-a', '--format', '{{.ID}} {{.Image}}']);
    const ids = stdout
      .split('\n')
      .map((line) => line.split(' '))
      .filter(([, image]) => image?.startsWith(`${registry}/`))
      .map(([id]) => id ?? '');
    if (ids.length > 0) console.warn(`removing ${ids.length} container(s) tests left behind`);
    for (let i = 0; i < ids.length; i += 50) {
      await run('docker', ['rm', '--force', '--volumes', ...ids.slice(i, i + 50)]).catch(
        () => undefined,
      );
    }
  } catch (e) {
    console.warn(`could not remove this run's containers: ${errorMessage(e)}`);
  }
}

/**
 * Every image this run built is tagged for its private registry (`127.0.0.1:<port>/…`); left
 * behind, they would pile up on the machine run after run. Best effort: a failure only logs.
 */
async function removeRunImages(registry: string): Promise<void> {
  const run = promisify(execFile);
  try {
    const { stdout } = await run('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}']);
    // --no-prune: parent layers are build cache other runs on this engine may be building on.
    const refs = stdout.split('\n').filter((r) => r.startsWith(`${registry}/`));
    for (let i = 0; i < refs.length; i += 50) {
      await run('docker', ['rmi', '--force', '--no-prune', ...refs.slice(i, i + 50)]).catch(
        () => undefined,
      );
    }
  } catch (e) {
    console.warn(`could not remove this run's images: ${errorMessage(e)}`);
  }
}

export async function teardown(): Promise<void> {
  if (!services) return;
  const { root } = services;
  // Controllers leave their managed edge serving by design; a test that failed before its
  // cleanup must not leave Caddy processes behind.
  const edges = await stopEdgesUnder(root);
  if (edges.length > 0) console.warn(`stopped ${edges.length} edge(s) tests left running`);
  await removeRunContainers(services.registry.address);
  await removeRunImages(services.registry.address);
  await services.stop();
  services = undefined;
  // GANTRY_KEEP_TEST_DATA=1 keeps the Redis AOF, registry blobs and logs for a post-mortem.
  if (process.env.GANTRY_KEEP_TEST_DATA !== '1') await rm(root, { recursive: true, force: true });
}

// Runs killed before their teardown leave directories behind; a day later they are garbage.
async function pruneOldRuns(): Promise<void> {
  const cutoff = Date.now() - 24 * 60 * 60 * 1000;
  const entries = await readdir(testRoot).catch(() => [] as string[]);
  for (const name of entries) {
    const dir = join(testRoot, name);
    const info = await stat(dir).catch(() => undefined);
    if (info && info.mtimeMs < cutoff) await rm(dir, { recursive: true, force: true });
  }
}
