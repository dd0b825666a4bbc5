/**
 * What a push can make the controller hold (issue 14, item 4): the pack one fetch downloads, the
 * time it may take, any one file read into memory (gantry.yaml included) and a build context.
 * Each cap fails with GANTRY_ERR_SOURCE_LIMIT naming the config key, and a build past one fails
 * alone, at once, without a retry. The large files are made with the git CLI: a 300 MiB file of
 * zeros (sparse on disk, ~300 KiB packed) against a 100 MiB blob cap, and 48 MiB of random bytes
 * (incompressible) against an 8 MiB pack cap. The controller's memory is read from
 * /proc/self/status around each: the blob is never inflated, the pack never collected whole.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { truncate, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { runBuild, type BuildDeps } from '../../src/build/build-runner.js';
import type { BuildJob } from '../../src/queue/jobs.js';
import type { ImageBuilder } from '../../src/runtime/image-builder.js';
import { buildContextTar } from '../../src/source/build-context.js';
import { RepoCache } from '../../src/source/repo-cache.js';
import { RepoRegistry } from '../../src/source/repos.js';
import type { SourceLimits } from '../../src/source/source-limits.js';
import { specAt } from '../../src/source/spec-at.js';
import { Store } from '../../src/store/store.js';
import { createGitFixture, type GitFixture } from '../support/git-fixtures.js';
import { testEnv, uniqueName } from '../support/env.js';

const MiB = 1024 * 1024;

/** Starts a new peak: VmHWM is reset to the current RSS (Linux ≥ 4.0; else the peak stays). */
function resetPeak(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // The assertions below then compare against an older, higher peak: still an upper bound.
  }
}

interface Memory {
  rss: number;
  peak: number;
}

/** VmRSS and VmHWM (the peak) of this process, in MiB. */
function memory(): Memory {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
}

/** A fetch the source limits must stop (stalled: a person must raise a limit), memory measured around it. */
async function refusedFetch(
  cache: RepoCache,
): Promise<{ message: string; before: Memory; after: Memory }> {
  resetPeak();
  const before = memory();
  const error = await cache.fetch('main').catch((e: unknown) => e);
  const after = memory();
  expect(error).toMatchObject({ code: 'GANTRY_ERR_SOURCE_LIMIT', disposition: 'stalled' });
  return { message: (error as Error).message, before, after };
}

const fixtures: GitFixture[] = [];
const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
  await Promise.all(fixtures.splice(0).map((f) => f.close()));
});

async function fixture(): Promise<GitFixture> {
  const f = await createGitFixture();
  fixtures.push(f);
  return f;
}

function cacheOf(f: GitFixture, limits: Partial<SourceLimits>): RepoCache {
  return new RepoCache({ url: f.url, dir: path.join(f.tmp, uniqueName('cache')), limits });
}

const SPEC = 'app: big\nrun: { port: 8080 }\nenvironments: { production: { branch: main } }\n';

describe('a 300 MiB file against a 100 MiB blob cap', () => {
  let f: GitFixture;
  let sha: string;

  it('is committed with git (sparse zeros: ~300 KiB in the pack)', async () => {
    f = await fixture();
    await f.commit({ Dockerfile: 'FROM scratch\nCOPY . /\n', 'gantry.yaml': SPEC }, 'app', {
      push: false,
    });
    // A sparse file: no disk blocks, and git deflates its zeros about 1000:1.
    await truncate(path.join(f.tmp, 'work', 'big.bin'), 300 * MiB).catch(async () => {
      await writeFile(path.join(f.tmp, 'work', 'big.bin'), '');
      await truncate(path.join(f.tmp, 'work', 'big.bin'), 300 * MiB);
    });
    sha = await f.commit({}, 'add a 300 MiB file');
    expect(await f.git(['cat-file', '-s', `${sha}:big.bin`])).toBe(String(300 * MiB));
  });

  it('is refused by the fetch from its pack header, before it is inflated: memory flat', async () => {
    const cache = cacheOf(f, { maxBlobBytes: 100 * MiB });
    const { message, before, after } = await refusedFetch(cache);
    expect(message).toMatch(
      /^an object http:\/\/\S+ sent is 300 MiB, over the limit of 100 MiB; raise source\.maxBlobSize/,
    );
    // Indexing the pack would have inflated the blob: ≥ 300 MiB, several times over.
    console.log(`blob cap at fetch: RSS ${before.rss} → ${after.rss} MiB, peak ${after.peak} MiB`);
    expect(after.peak - before.rss).toBeLessThan(100);
  });

  it('fails only that build, at once and for good, with the reason on the record', async () => {
    const redis = new Redis(testEnv().redisUrl);
    cleanup.push(async () => redis.disconnect());
    const store = new Store(redis, uniqueName('limits'));
    const repos = new RepoRegistry(
      [{ name: 'big', url: f.url, branches: ['main'], apps: ['.'], pollIntervalSeconds: 0 }],
      path.join(f.tmp, 'data'),
      {
        maxPackBytes: 64 * MiB,
        fetchTimeoutMs: 60_000,
        idleTimeoutMs: 60_000,
        maxBlobBytes: 100 * MiB,
      },
    );
    const built: string[] = [];
    const builder = {
      build: async (req: { tag: string }) => {
        built.push(req.tag);
        return { imageId: 'sha256:none' };
      },
    } as unknown as ImageBuilder;
    const deps: BuildDeps = {
      store,
      repos,
      builder,
      registry: '127.0.0.1:1',
      timeoutSeconds: 60,
      logLines: 1000,
      log: pino({ level: 'silent' }),
    };
    const job: BuildJob = {
      buildId: uniqueName('b'),
      app: 'big',
      appPath: '.',
      repo: 'big',
      branch: 'main',
      sha,
      force: true,
    };
    await expect(runBuild(deps, job, 1, 8)).rejects.toMatchObject({
      code: 'GANTRY_ERR_SOURCE_LIMIT',
    });
    const rec = await store.getBuild(job.buildId);
    expect(rec?.status).toBe('failed');
    expect(rec?.failure?.code).toBe('GANTRY_ERR_SOURCE_LIMIT');
    expect(rec?.failure?.message).toMatch(
      /is 300 MiB, over the limit of 100 MiB; raise source\.maxBlobSize/,
    );
    expect(await store.readBuildLog(job.buildId, 0)).toContain(
      'build failed: not retried: a retry cannot fix it',
    );
    expect(rec?.retry).toMatchObject({ attempt: 1, of: 8 });
    expect(rec?.retry?.nextAt).toBeUndefined();
    expect(built).toEqual([]);
  });
});

describe('gantry.yaml and the build context', () => {
  it('refuses a gantry.yaml over the parser’s 256 KiB before reading it', async () => {
    const f = await fixture();
    const sha = await f.commit({ 'gantry.yaml': SPEC + `# ${'x'.repeat(1024 * 1024)}\n` });
    const repos = new RepoRegistry(
      [{ name: 'y', url: f.url, branches: ['main'], apps: ['.'], pollIntervalSeconds: 0 }],
      path.join(f.tmp, 'data'),
    );
    await expect(specAt(repos.get('y'), '.', sha, 'main')).rejects.toMatchObject({
      code: 'GANTRY_ERR_SOURCE_LIMIT',
      message: expect.stringMatching(/^gantry\.yaml is 1 MiB, over the limit of 256 KiB$/),
    });
  });

  it('refuses a file over the blob cap in a build context, naming it, before reading it', async () => {
    const f = await fixture();
    const sha = await f.commit({
      Dockerfile: 'FROM scratch\n',
      'data/zeros.bin': '\0'.repeat(3 * MiB),
    });
    const dir = path.join(f.tmp, 'shared-cache');
    // Fetched under a generous cap; read under a stricter one (a cap lowered since, say).
    await new RepoCache({ url: f.url, dir }).fetch('main');
    const strict = new RepoCache({ url: f.url, dir, limits: { maxBlobBytes: MiB } });
    await expect(buildContextTar(strict, sha, '.')).rejects.toMatchObject({
      code: 'GANTRY_ERR_SOURCE_LIMIT',
      message: expect.stringMatching(
        /^data\/zeros\.bin \(in the build context\) is 3 MiB, over the limit of 1 MiB; raise source\.maxBlobSize/,
      ),
    });
    const oid = await f.git(['rev-parse', `${sha}:data/zeros.bin`]);
    expect(await strict.blobSize(oid)).toBe(3 * MiB);
    await expect(strict.readBlob(oid, 'data/zeros.bin')).rejects.toMatchObject({
      code: 'GANTRY_ERR_SOURCE_LIMIT',
    });
  });

  it('caps the total size of a context, naming its largest files', async () => {
    const f = await fixture();
    const sha = await f.commit({
      Dockerfile: 'FROM scratch\n',
      'a.txt': 'a'.repeat(700 * 1024),
      'b.txt': 'b'.repeat(600 * 1024),
      'c.txt': 'c',
    });
    const cache = cacheOf(f, {});
    await cache.fetch('main');
    await expect(buildContextTar(cache, sha, '.', { maxBytes: MiB })).rejects.toMatchObject({
      code: 'GANTRY_ERR_SOURCE_LIMIT',
      message: expect.stringMatching(
        /^the build context \. \(largest: a\.txt 700 KiB, b\.txt 600 KiB, Dockerfile 13 B\) is 1\.3 MiB, over the limit of 1 MiB; raise build\.maxContextSize/,
      ),
    });
    // Under the cap the same context streams whole.
    const ctx = await buildContextTar(cache, sha, '.', { maxBytes: 2 * MiB });
    let bytes = 0;
    for await (const chunk of ctx.tar) bytes += (chunk as Buffer).byteLength;
    expect(ctx.bytes).toBe(700 * 1024 + 600 * 1024 + 1 + 13);
    expect(bytes).toBeGreaterThan(ctx.bytes);
    expect(ctx.failure()).toBeUndefined();
  });
});

describe('the pack and the fetch', () => {
  it('cuts off a 48 MiB pack at an 8 MiB cap, memory bounded', async () => {
    const f = await fixture();
    await writeFile(path.join(f.tmp, 'work', 'noise.bin'), randomBytes(48 * MiB));
    await f.commit({}, 'incompressible');
    const cache = cacheOf(f, { maxPackBytes: 8 * MiB });
    const { message, before, after } = await refusedFetch(cache);
    expect(message).toMatch(
      /^what http:\/\/.* sent is more than 8(\.\d)? MiB, over the limit of 8 MiB; raise source\.maxPackSize/,
    );
    console.log(`pack cap: RSS ${before.rss} → ${after.rss} MiB, peak ${after.peak} MiB`);
    expect(after.peak - before.rss).toBeLessThan(48);
  });

  it('stops a fetch that runs past its total time, however it trickles', async () => {
    // A remote that accepts the request and never answers: only the total time can end it here.
    const server = http.createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(
      () =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(resolve);
        }),
    );
    const { port } = server.address() as AddressInfo;
    const cache = new RepoCache({
      url: `http://127.0.0.1:${port}/app.git`,
      dir: path.join((await fixture()).tmp, 'slow-cache'),
      limits: { fetchTimeoutMs: 300, idleTimeoutMs: 60_000 },
    });
    await expect(cache.fetch('main')).rejects.toMatchObject({
      code: 'GANTRY_ERR_SOURCE_LIMIT',
      message: expect.stringMatching(/took longer than 0s .*raise source\.fetchTimeout/),
    });
  });
});
