import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followRolloutById } from '../../src/cli/follow-rollout.js';
import type { HistoryEntry, RolloutView } from '../../src/cli/views.js';
import {
  appName,
  closeWithInstances,
  exampleSpec,
  finishedBuild,
  finishedRollout,
  startFixture,
  type Fixture,
} from '../support/controller-fixture.js';
import { gantry } from './cli-process.js';

/** History rows of the table for `sha` (the FROM→TO column shows 7 characters). */
function rowsOf(table: string, sha: string): string[] {
  return table.split('\n').filter((l) => l.includes(`→${sha.slice(0, 7)}`));
}

// The CLI as a person uses it: real controller, real Docker instances, the CLI as a child process.
describe('gantry history, logs and rollback through the CLI', () => {
  let f: Fixture;
  // A name of its own: instances are found by app and env labels on the shared Docker engine.
  const app = appName('cli');
  let first: string;
  let second: string;

  beforeAll(async () => {
    f = await startFixture({ deploy: true });
    const spec = await exampleSpec(app);
    await f.wt.write('gantry.yaml', spec.replace('replicas: 3', 'replicas: 1'));
    await f.wt.write('www/index.html', '<h1>first</h1>\n');
    first = await f.push('github', 'Merge pull request #41 from acme/first-page\n\nFirst page');
    expect((await finishedRollout(f, app, first)).outcome).toBe('succeeded');
    await f.wt.write('www/index.html', '<h1>second</h1>\n');
    second = await f.push('github', 'Add greeting (#42)');
    expect((await finishedRollout(f, app, second)).outcome).toBe('succeeded');
  }, 300_000);
  afterAll(async () => {
    await closeWithInstances(f, app);
  });

  it('history --pr 42 lists what that PR shipped, where, and that it still runs', async () => {
    const res = await gantry(['history', app, '--pr', '42'], { client: f.client });
    expect(res.code, res.stderr).toBe(0);
    const [header, ...rows] = res.stdout.trim().split('\n');
    expect(header).toMatch(
      /^WHEN\s+ENV\s+KIND\s+FROM→TO\s+RELEASE\s+COMMIT\s+PR\s+BY\s+DURATION\s+OUTCOME\s+RUNNING$/,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(
      new RegExp(
        `production\\s+deploy\\s+${first.slice(0, 7)}→${second.slice(0, 7)}\\s+v\\d+\\s+Add greeting \\(#42\\)\\s+#42\\s+push.*succeeded\\s+yes$`,
      ),
    );

    const older = await gantry(['history', app, '--pr', '41'], { client: f.client });
    expect(older.code).toBe(0);
    const [row41, ...more] = rowsOf(older.stdout, first);
    expect(more).toHaveLength(0);
    expect(row41).toMatch(/Merge pull request #41 from acme\/first-…\s+#41\s+.*succeeded\s+-$/);

    const json = await gantry(['history', app, '--pr', '42', '--json'], { client: f.client });
    const entries = JSON.parse(json.stdout) as HistoryEntry[];
    expect(entries.map((e) => [e.to.sha, e.env, e.running, e.outcome])).toEqual([
      [second, 'production', true, 'succeeded'],
    ]);
  });

  it('logs shows each instance under a header', async () => {
    const res = await gantry(['logs', app, '--lines', '20'], { client: f.client });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(
      new RegExp(`^==> production/\\S+ \\(${second.slice(0, 7)} on \\S+, running\\) <==$`, 'm'),
    );
    const json = await gantry(['logs', app, '--json'], { client: f.client });
    const { instances } = JSON.parse(json.stdout) as {
      instances: { revision: string; lines: string[] }[];
    };
    expect(instances.map((i) => i.revision)).toEqual([second]);
  });

  it('a viewer cannot roll back: exit 1 with the 403 reason, and nothing changes', async () => {
    const before = await f.controller.rollouts.list(app, 'production');
    const res = await gantry(['rollback', app], { client: f.client });
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n').at(-1)).toMatch(
      /^error: this needs the deployer role; tester is a viewer \(GANTRY_ERR_FORBIDDEN\)$/,
    );
    expect(await f.controller.rollouts.list(app, 'production')).toHaveLength(before.length);
    expect((await f.controller.rollouts.env(app, 'production')).current?.sha).toBe(second);
  });

  let rollbackId: string;
  it('rollback shows what it takes out, live progress, and exits 0 with the outcome', async () => {
    const res = await gantry(['rollback', app], { client: f.deployer });
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const out = res.stdout;
    expect(out).toContain(`production: ${second.slice(0, 12)} → ${first.slice(0, 12)}`);
    expect(out).toMatch(
      new RegExp(`takes out 1 commit:\\n  ${second.slice(0, 12)} Add greeting \\(#42\\)`),
    );
    // A rollback restores the release the target ran: its image and its config.
    const id =
      /rolling back \S+ \S+ → \S+ \(release v\d+: its image and config\): rollout (r-\S+)/.exec(
        out,
      )?.[1];
    expect(id).toBeDefined();
    rollbackId = id!;
    // Events as they happened, then the outcome with how long it took.
    expect(out).toMatch(/^\+\s+\d+\.\ds {2}rollback /m);
    expect(out).toMatch(/^\+\s+\d+\.\ds {2}.*(healthy|phase)/m);
    expect(out.trim().split('\n').at(-1)).toMatch(
      new RegExp(
        `^✔ rollback ${rollbackId} succeeded in [\\d.]+(ms|s): ${app}/production now runs ${first.slice(0, 12)}$`,
      ),
    );
    expect((await f.controller.rollouts.env(app, 'production')).current?.sha).toBe(first);

    // The history now says the first PR runs again, by a rollback, and the second no longer.
    const h = await gantry(['history', app], { client: f.client });
    const rows = h.stdout.trim().split('\n');
    expect(rows[1]).toMatch(
      new RegExp(
        `rollback\\s+${second.slice(0, 7)}→${first.slice(0, 7)}.*#41\\s+ci \\(rollback\\).*succeeded\\s+yes$`,
      ),
    );
    expect(rowsOf(h.stdout, second).every((r) => r.endsWith('-'))).toBe(true);
  });

  it('rollout ID shows it; --follow --json prints only the final rollout and exits by outcome', async () => {
    const shown = await gantry(['rollout', rollbackId], { client: f.client });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout.split('\n')[0]).toBe(
      `rollback ${app}/production ${second.slice(0, 7)}→${first.slice(0, 7)}  (${rollbackId})`,
    );
    const followed = await gantry(['rollout', rollbackId, '--follow', '--json'], {
      client: f.client,
    });
    expect(followed.code, followed.stderr).toBe(0);
    const view = JSON.parse(followed.stdout) as RolloutView;
    expect([view.id, view.kind, view.outcome]).toEqual([rollbackId, 'rollback', 'succeeded']);
  });

  it('following by polling alone (no event stream) ends the same way', async () => {
    const lines: string[] = [];
    const display = { live: false, line: (l: string) => lines.push(l), status() {}, done() {} };
    const view = await followRolloutById(f.client, rollbackId, { display, poll: true });
    expect(view.outcome).toBe('succeeded');
    expect(lines.at(-1)).toMatch(new RegExp(`^✔ rollback ${rollbackId} succeeded in `));
  });

  it('lock shows in status with who and why; unlock lifts it', async () => {
    const locked = await gantry(
      ['lock', app, '--env', 'production', '--reason', 'launch day', '--until', '1h'],
      { client: f.deployer },
    );
    expect(locked.code, locked.stderr).toBe(0);
    expect(locked.stdout).toMatch(new RegExp(`^locked ${app}/production until \\S+: launch day`));
    const status = await gantry(['status', app], { client: f.client });
    expect(status.stdout).toMatch(/^production\s+main\s+\S+\s+.*locked by ci .*: launch day/m);
    const unlocked = await gantry(['unlock', app, '--env', 'production'], { client: f.deployer });
    expect(unlocked.code, unlocked.stderr).toBe(0);
    expect(unlocked.stdout.trim()).toBe(`unlocked ${app}/production`);
    expect((await f.controller.rollouts.env(app, 'production')).lock).toBeNull();
  });

  it('a deploy or rollback to a broken revision exits non-zero and the good one keeps serving', async () => {
    // The broken revision serves pages but not its health check.
    await rm(path.join(f.wt.dir, 'www', 'healthz'));
    await f.wt.write('www/index.html', '<h1>broken</h1>\n');
    const broken = await f.push('gitea', 'Break the health check (#43)');
    expect((await finishedBuild(f, app, broken)).status).toBe('succeeded');

    // A rollback may only go to a revision that ran here: refused at once, one line.
    const back = await gantry(['rollback', app, '--to', broken], { client: f.deployer });
    expect(back.code).toBe(1);
    expect(back.stderr.trim()).toMatch(
      /^error: cannot roll back .*\(GANTRY_ERR_ROLLBACK_TARGET_INVALID\)$/,
    );

    // A deploy of it runs, fails its health checks, is rolled back by itself: exit 1.
    const res = await gantry(['deploy', app, broken, '--json'], { client: f.deployer });
    expect(res.code, res.stderr).toBe(1);
    const view = JSON.parse(res.stdout) as RolloutView;
    expect([view.kind, view.to.sha, view.outcome]).toEqual(['deploy', broken, 'failed']);
    expect(view.reason).toMatch(/healthz|404|unhealthy/i);
    expect((await f.controller.rollouts.env(app, 'production')).current?.sha).toBe(first);

    // Retried, it runs again as a new rollout and fails the same way.
    const again = await gantry(['retry', view.id, '--json'], { client: f.deployer });
    expect(again.code, again.stderr).toBe(1);
    const retried = JSON.parse(again.stdout) as RolloutView;
    expect(retried.id).not.toBe(view.id);
    expect([retried.to.sha, retried.outcome, retried.trigger]).toEqual([
      broken,
      'failed',
      { kind: 'manual', actor: 'ci', via: 'retry' },
    ]);
    expect((await f.controller.rollouts.env(app, 'production')).current?.sha).toBe(first);
  });
});
