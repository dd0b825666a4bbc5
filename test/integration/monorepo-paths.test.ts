import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../src/cli/client.js';
import { sendPushWebhook } from '../../src/demo/forge.js';
import type { CommitSummary } from '../../src/history/changes.js';
import type { BuildRecord } from '../../src/store/records.js';
import { finishedBuild, startFixture, type Fixture } from '../support/controller-fixture.js';

const SPEC = (app: string) => `app: ${app}\nrun:\n  port: 8080\n`;
const DOCKERFILE = (app: string) =>
  `FROM gantry.local/busybox:1\nRUN echo building ${app}\nCMD ["httpd", "-f", "-p", "8080"]\n`;

interface Shipped {
  from: string | null;
  to: string;
  direction: string;
  commits: CommitSummary[];
}

describe('monorepo path filters: a push builds only the apps whose paths it changed', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ seed: false, repo: ['apps: [api, web]'] });
  });
  afterAll(async () => {
    await f?.close();
  });

  it('a first push builds both apps', async () => {
    for (const app of ['api', 'web']) {
      await f.wt.write(`${app}/gantry.yaml`, SPEC(app));
      await f.wt.write(`${app}/Dockerfile`, DOCKERFILE(app));
      await f.wt.write(`${app}/index.html`, `<h1>${app} 1</h1>\n`);
    }
    const sha = await f.push('github', 'Two apps');
    const [apiBuild, webBuild] = await Promise.all([
      finishedBuild(f, 'api', sha),
      finishedBuild(f, 'web', sha),
    ]);
    expect(apiBuild.status, JSON.stringify(apiBuild)).toBe('succeeded');
    expect(webBuild.status, JSON.stringify(webBuild)).toBe('succeeded');
  });

  it('a push touching only api/ builds only api, and records web as skipped with the reason', async () => {
    await f.wt.write('api/index.html', '<h1>api 2</h1>\n');
    const sha = await f.push('gitea', 'Change api only');
    const apiBuild = await finishedBuild(f, 'api', sha);
    const webBuild = await finishedBuild(f, 'web', sha);
    expect(apiBuild.status, JSON.stringify(apiBuild)).toBe('succeeded');
    expect(webBuild.status).toBe('skipped');
    expect(webBuild.startedAt).toBeUndefined();
    expect(webBuild.image).toBeUndefined();
    expect(webBuild.note).toMatch(/^no watched path changed in [0-9a-f]{12}\.\.[0-9a-f]{12}/);
    expect(webBuild.note).toContain('watches web');
    expect(webBuild.note).toContain(sha.slice(0, 12));
    // Nothing of web at that commit can be deployed: it has no revision there.
    const { revisions } = await api<{ revisions: { sha: string }[] }>(f.client, '/api/apps/web');
    expect(revisions.map((r) => r.sha)).not.toContain(sha);
  });

  it('a three-commit push lists all three commits in what the build ships, from git', async () => {
    const { builds: before } = await api<{ builds: BuildRecord[] }>(
      f.client,
      '/api/apps/api/builds',
    );
    const previous = before.find((b) => b.status === 'succeeded')!;
    const shas: string[] = [];
    await f.wt.write('api/index.html', '<h1>api 3a</h1>\n');
    shas.push(await f.wt.commit('First of three'));
    await f.wt.write('api/index.html', '<h1>api 3b</h1>\n');
    shas.push(await f.wt.commit('Second of three'));
    await f.wt.write('api/index.html', '<h1>api 3c</h1>\n');
    // One push (and one webhook) for all three.
    shas.push(await f.push('github', 'Third of three'));
    const head = shas[2]!;
    const apiBuild = await finishedBuild(f, 'api', head);
    expect(apiBuild.status).toBe('succeeded');
    expect(apiBuild.since).toBe(previous.sha);

    const shipped = await api<Shipped>(f.client, `/api/builds/${apiBuild.id}/commits`);
    expect(shipped).toMatchObject({ from: previous.sha, to: head, direction: 'forward' });
    expect(shipped.commits.map((c) => c.sha)).toEqual([...shas].reverse());
    expect(shipped.commits.map((c) => c.message)).toEqual([
      'Third of three',
      'Second of three',
      'First of three',
    ]);
    expect(shipped.commits[0]?.author).toBe('Ada Lovelace');
    // Only the head is a revision Gantry recorded; git gives the other two.
    const { revisions } = await api<{ revisions: { sha: string }[] }>(f.client, '/api/apps/api');
    expect(revisions.map((r) => r.sha)).not.toContain(shas[0]);
    expect((await finishedBuild(f, 'web', head)).status).toBe('skipped');
  });

  it('a force-push builds both apps, even the one whose folder did not change', async () => {
    const oldHead = (await f.wt.git('rev-parse', 'HEAD')).trim();
    await f.wt.git('reset', '--quiet', '--hard', 'HEAD~1');
    await f.wt.write('api/index.html', '<h1>api rewritten</h1>\n');
    const sha = await f.wt.commit('Rewrite history');
    await f.wt.git('push', '--quiet', '--force', 'origin', 'HEAD:refs/heads/main');
    const res = await sendPushWebhook(f.controller.url, 'github', f.secret, {
      repoUrl: f.repoUrl,
      fullName: 'acme/app',
      branch: 'main',
      before: oldHead,
      after: sha,
      message: 'Rewrite history',
    });
    expect(res.status).toBe(202);
    const [apiBuild, webBuild] = await Promise.all([
      finishedBuild(f, 'api', sha),
      finishedBuild(f, 'web', sha),
    ]);
    expect(apiBuild.status).toBe('succeeded');
    expect(webBuild.status, JSON.stringify(webBuild)).toBe('succeeded');
  });
});
