import { afterEach, describe, expect, it } from 'vitest';
import { api } from '../../src/cli/client.js';
import type { BuildRecord } from '../../src/store/records.js';
import {
  finishedBuild,
  startFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';

describe('coalescing and polling', () => {
  let f: Fixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('20 pushes in 10 seconds give at most 2 builds, and the last commit is built', async () => {
    f = await startFixture();
    const started = Date.now();
    const shas: string[] = [];
    for (let i = 1; i <= 20; i++) {
      await f.wt.write('www/index.html', `<h1>revision ${i}</h1>\n`);
      shas.push(await f.push(i % 2 ? 'github' : 'gitea', `Revision ${i}`));
    }
    // The burst's pace is a precondition of the scenario, printed rather than asserted.
    console.log(`20 pushes took ${Date.now() - started} ms`);
    const last = shas.at(-1)!;
    const lastBuild = await finishedBuild(f, 'hello', last);
    expect(lastBuild.status).toBe('succeeded');
    // Let every queued build settle before counting.
    const builds = await waitFor('all builds to settle', async () => {
      const { builds: all } = await api<{ builds: BuildRecord[] }>(
        f!.client,
        '/api/apps/hello/builds',
      );
      return all.every((b) => b.status !== 'queued' && b.status !== 'running') ? all : undefined;
    });
    const ran = builds.filter((b) => b.startedAt !== undefined);
    expect(ran.length).toBeLessThanOrEqual(2);
    // The first push builds at once (leading-edge debounce), the last one is built, and every
    // other recorded build was skipped as superseded (a sync that coalesced records none).
    expect(
      builds.filter((b) => b.startedAt === undefined).every((b) => b.status === 'superseded'),
    ).toBe(true);
    expect(builds.filter((b) => b.status === 'superseded').length).toBeGreaterThanOrEqual(17);
    expect(ran.map((b) => b.sha)).toContain(last);
  });

  it('the poller finds a new head without any webhook', async () => {
    f = await startFixture({ repo: ['pollIntervalSeconds: 1'] });
    const sha = await f.push('github', 'Polled commit', { webhook: false });
    const build = await finishedBuild(f, 'hello', sha);
    expect(build.status).toBe('succeeded');
    expect(build.trigger).toEqual({ kind: 'poll' });
  });
});
