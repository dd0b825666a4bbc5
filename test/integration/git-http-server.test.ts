import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createBareRepo,
  isolatedGitEnv,
  startGitHttpServer,
} from '../../src/demo/git-http-server.js';
import { createGitFixture, type GitFixture } from '../support/git-fixtures.js';

const run = promisify(execFile);

/** A protocol v2 request body: one pkt-line per entry, a delim after the first, a flush at the end. */
function pktLines(command: string, args: string[]): Buffer {
  const pkt = (s: string): string => `${(s.length + 4).toString(16).padStart(4, '0')}${s}`;
  return Buffer.from(
    `${pkt(`command=${command}\n`)}0001${args.map((a) => pkt(`${a}\n`)).join('')}0000`,
  );
}

const fixtures: GitFixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.close()));
});

describe('git http server', () => {
  it('serves clone, protocol v2 and gzipped request bodies', async () => {
    const f = await createGitFixture();
    fixtures.push(f);
    const sha = await f.commit({ 'a.txt': 'a' });

    const { stdout } = await run(
      'git',
      ['-c', 'protocol.version=2', 'ls-remote', f.url, 'refs/heads/main'],
      {
        env: isolatedGitEnv(),
      },
    );
    expect(stdout.trim()).toBe(`${sha}\trefs/heads/main`);

    const adv = await fetch(`${f.url}/info/refs?service=git-upload-pack`, {
      headers: { 'Git-Protocol': 'version=2' },
    });
    expect(adv.status).toBe(200);
    expect(adv.headers.get('content-type')).toBe('application/x-git-upload-pack-advertisement');
    expect(await adv.text()).toContain('version 2');

    const res = await fetch(`${f.url}/git-upload-pack`, {
      method: 'POST',
      headers: {
        'Git-Protocol': 'version=2',
        'Content-Type': 'application/x-git-upload-pack-request',
        'Content-Encoding': 'gzip',
      },
      body: gzipSync(pktLines('ls-refs', ['ref-prefix refs/heads/'])),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(`${sha} refs/heads/main`);
  });

  it('answers 404 for an unknown repository', async () => {
    const f = await createGitFixture();
    fixtures.push(f);
    const res = await fetch(`${f.server.url}/missing.git/info/refs?service=git-upload-pack`);
    expect(res.status).toBe(404);
  });

  it('requires the configured basic credentials', async () => {
    const f = await createGitFixture({ auth: { username: 'u', password: 'p' } });
    fixtures.push(f);
    await f.commit({ 'a.txt': 'a' }); // the fixture itself pushes with the right header
    const url = `${f.url}/info/refs?service=git-upload-pack`;
    const basic = (s: string): Record<string, string> => ({
      Authorization: `Basic ${Buffer.from(s).toString('base64')}`,
    });

    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect((await fetch(url, { headers: basic('u:wrong') })).status).toBe(401);
    expect((await fetch(url, { headers: basic('u:p') })).status).toBe(200);
  });

  it('creates bare repositories with HEAD on the given branch, inside the root only', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'gantry-bare-'));
    try {
      const dir = await createBareRepo(root, 'team/svc.git', 'trunk');
      const { stdout } = await run('git', ['--git-dir', dir, 'symbolic-ref', 'HEAD'], {
        env: isolatedGitEnv(),
      });
      expect(stdout.trim()).toBe('refs/heads/trunk');
      await expect(createBareRepo(root, '../escape.git')).rejects.toMatchObject({
        code: 'GANTRY_ERR_PATH_ESCAPE',
      });
      await expect(createBareRepo(root, 'x.git', '-x')).rejects.toMatchObject({
        code: 'GANTRY_ERR_REF_INVALID',
      });
      const server = await startGitHttpServer({ root });
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(server.repoUrl('team/svc.git')).toBe(`${server.url}/team/svc.git`);
      await server.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
