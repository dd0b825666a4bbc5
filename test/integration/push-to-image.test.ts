import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryDigest } from '../../src/build/registry.js';
import { api } from '../../src/cli/client.js';
import type { AppRecord, BuildRecord, Revision } from '../../src/store/records.js';
import { testEnv } from '../support/env.js';
import { finishedBuild, startFixture, type Fixture } from '../support/controller-fixture.js';

interface AppView {
  app: AppRecord;
  revisions: Revision[];
  builds: BuildRecord[];
}

describe('push → webhook → fetch → build → registry', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture();
  });
  afterAll(async () => {
    await f?.close();
  });

  for (const provider of ['github', 'gitlab', 'gitea'] as const) {
    it(`a signed ${provider} push ends with the image in the registry, by short SHA and digest`, async () => {
      await f.wt.write('www/index.html', `<h1>hello via ${provider}</h1>\n`);
      const sha = await f.push(provider, `Deploy from ${provider} (#${provider.length})`);
      const build = await finishedBuild(f, 'hello', sha);
      expect(build.status, JSON.stringify(build.failure)).toBe('succeeded');
      expect(build.trigger).toMatchObject({ kind: 'webhook', provider });

      const tag = sha.slice(0, 12);
      const { registry } = testEnv();
      expect(build.image?.tag).toBe(`${registry}/hello:${tag}`);
      expect(build.image?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(build.image?.pinned).toBe(`${registry}/hello@${build.image?.digest}`);
      // The registry itself holds that tag at that digest.
      expect(await registryDigest(registry, 'hello', tag)).toBe(build.image?.digest);

      const view = await api<AppView>(f.client, '/api/apps/hello');
      const rev = view.revisions.find((r) => r.sha === sha);
      expect(rev?.image?.digest).toBe(build.image?.digest);
      expect(rev?.commit.author.name).toBe('Ada Lovelace');
      expect(rev?.commit.message).toContain(`Deploy from ${provider}`);
      expect(rev?.commit.prNumber).toBe(provider.length);

      const log = await api<{ lines: string[]; finished: boolean }>(
        f.client,
        `/api/builds/${build.id}/log`,
      );
      expect(log.finished).toBe(true);
      expect(log.lines.join('\n')).toContain(`pushing ${registry}/hello:${tag}`);
    });
  }

  it('stamps OCI labels and keeps untracked or ignored files out of the image', async () => {
    // README.md is ignored by the example's .dockerignore; it must not reach the context.
    await f.wt.write('README.md', 'ignored by .dockerignore\n');
    const sha = await f.push('github', 'Touch the readme');
    const build = await finishedBuild(f, 'hello', sha);
    expect(build.status).toBe('succeeded');
    const log = await api<{ lines: string[] }>(f.client, `/api/builds/${build.id}/log`);
    expect(log.lines.join('\n')).toMatch(/excluded by \.dockerignore/);
  });

  it('never rebuilds a commit: a redelivered push reuses the recorded digest', async () => {
    const before = await api<AppView>(f.client, '/api/apps/hello');
    const newest = before.revisions[0]!;
    const { sendPushWebhook } = await import('../../src/demo/forge.js');
    const res = await sendPushWebhook(f.controller.url, 'github', f.secret, {
      repoUrl: f.repoUrl,
      fullName: 'acme/app',
      branch: 'main',
      before: newest.sha,
      after: newest.sha,
      message: 'same head again',
    });
    expect(res.status).toBe(202);
    // Let the sync run, then check no new build was made for that commit.
    await new Promise((r) => setTimeout(r, 1500));
    const after = await api<AppView>(f.client, '/api/apps/hello');
    expect(after.builds.filter((b) => b.sha === newest.sha)).toHaveLength(1);
    expect(after.revisions.find((r) => r.sha === newest.sha)?.image?.digest).toBe(
      newest.image?.digest,
    );
  });
});
