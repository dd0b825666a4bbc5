/**
 * The reporters driven through the real event stream in the run's Redis: rollout records and
 * events written as the runner writes them, forges and receivers played by recording HTTP servers,
 * notes pushed to a real git smart-HTTP server.
 */
import path from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type {
  ForgeConfig,
  NotificationConfig,
  RepoConfig,
} from '../../src/config/controller-config.js';
import { NOTES_REF } from '../../src/history/notes.js';
import {
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
  type EnvNotice,
} from '../../src/history/notify.js';
import { healEventKind, healEventText, type HealEvent } from '../../src/reconcile/events.js';
import { startReporter, type Reporter } from '../../src/history/reporter.js';
import { RepoRegistry } from '../../src/source/repos.js';
import type { RolloutRecord } from '../../src/store/records.js';
import { RolloutStore } from '../../src/store/rollouts.js';
import { Store } from '../../src/store/store.js';
import { waitFor } from '../support/controller-fixture.js';
import { testEnv, uniqueName } from '../support/env.js';
import {
  shapeErrors,
  startRecorder,
  type ForgeShape,
  type RecordedCall,
  type Recorder,
} from '../support/forge-recorder.js';
import { createGitFixture, type GitFixture } from '../support/git-fixtures.js';

const TOKEN = 'forge-token-never-logged';
const SECRET = 'receiver-secret-1234';
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

interface World {
  redis: Redis;
  store: Store;
  rollouts: RolloutStore;
  repos: RepoRegistry;
  git: GitFixture;
  forge: Recorder;
  shas: string[];
  logs: string[];
  start(opts?: {
    notifications?: NotificationConfig[];
    consumer?: string;
    claimIdleMs?: number;
  }): Promise<Reporter>;
}

async function world(kind: ForgeConfig['kind'] = 'github'): Promise<World> {
  const redis = new Redis(testEnv().redisUrl);
  cleanup.push(async () => redis.disconnect());
  const store = new Store(redis, uniqueName('rep'));
  const rollouts = new RolloutStore(redis, store.keys);
  const git = await createGitFixture();
  cleanup.push(() => git.close());
  const forge = await startRecorder();
  cleanup.push(() => forge.close());
  const shas = [
    await git.commit({ 'a.txt': '1' }, 'First'),
    await git.commit({ 'a.txt': '2' }, 'Second (#42)'),
  ];
  const config: RepoConfig = {
    name: 'app',
    url: git.url,
    branches: ['main'],
    apps: ['.'],
    pollIntervalSeconds: 0,
    forge: { kind, apiUrl: forge.url, token: TOKEN, project: 'acme/app' },
  };
  const repos = new RepoRegistry([config], path.join(git.tmp, 'data'));
  await repos.get('app').cache.fetch('main');
  await store.putApp({
    name: 'hello',
    repo: 'app',
    path: '.',
    branches: ['main'],
    environments: { production: { branch: 'main', target: 'docker' } },
    updatedAt: new Date().toISOString(),
  });
  const logs: string[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void logs.push(s) });
  return {
    redis,
    store,
    rollouts,
    repos,
    git,
    forge,
    shas,
    logs,
    async start(o = {}) {
      const r = await startReporter({
        redis,
        keys: store.keys,
        store,
        rollouts,
        repos,
        notifications: o.notifications ?? [],
        publicUrl: 'https://gantry.example.com',
        log,
        blockMs: 100,
        http: { timeoutMs: 400, attempts: 2, backoffMs: 10 },
        ...(o.consumer ? { consumer: o.consumer } : {}),
        ...(o.claimIdleMs ? { claimIdleMs: o.claimIdleMs } : {}),
      });
      cleanup.push(() => r.stop());
      return r;
    },
  };
}

function record(w: World, n: number, over: Partial<RolloutRecord> = {}): RolloutRecord {
  return {
    id: `r-${n}-${uniqueName('x')}`,
    app: 'hello',
    env: 'production',
    kind: 'deploy',
    trigger: { kind: 'webhook', provider: 'github', deliveryId: 'd', actor: 'alice' },
    from: null,
    to: { sha: w.shas[1]!, image: `127.0.0.1:5000/hello@sha256:${'e'.repeat(64)}` },
    createdAt: new Date().toISOString(),
    plan: { steps: [] },
    commit: {
      sha: w.shas[1]!,
      message: 'Second (#42)',
      author: { name: 'Ada', email: 'ada@example.test', timestamp: 1 },
      prNumber: 42,
    },
    ...over,
  };
}

/** True once the group has been handed every event and acknowledged them all. */
async function drained(w: World): Promise<true | undefined> {
  const last = await w.rollouts.bus.lastId();
  const groups = (await w.redis.xinfo('GROUPS', w.store.keys.events())) as unknown[][];
  const g = groups.find((x) => x[1] === w.store.keys.reportersGroup()) ?? [];
  const field = (name: string) => g[g.indexOf(name) + 1];
  return field('last-delivered-id') === last && field('pending') === 0 ? true : undefined;
}

/**
 * Writes a rollout's life as the runner does: created, then the outcome on the record and stream.
 * Waits for the reporters to handle `created` first, as they do while a real rollout runs (a
 * `created` read after the outcome posts no pending status over the final one).
 */
async function runRollout(
  w: World,
  rec: RolloutRecord,
  outcome: RolloutRecord['outcome'],
  reason = 'done',
  settle = true,
) {
  await w.rollouts.put(rec);
  await w.rollouts.appendEvents(rec, [{ at: Date.now(), kind: 'created', text: 'deploy' }]);
  if (settle) await waitFor('the reporters to handle created', () => drained(w), 30_000);
  await w.rollouts.appendEvents(rec, [{ at: Date.now(), kind: 'phase-changed', text: 'x' }]);
  const done = { ...rec, outcome, reason, finishedAt: new Date().toISOString() };
  await w.rollouts.put(done);
  await w.rollouts.appendEvents(rec, [
    { at: Date.now(), kind: 'outcome', text: `${outcome}: ${reason}` },
  ]);
  return done;
}

function bodies(calls: RecordedCall[], re: RegExp): Record<string, unknown>[] {
  return calls.filter((c) => re.test(c.path)).map((c) => c.json as Record<string, unknown>);
}

async function pendingCount(w: World): Promise<number> {
  const [count] = (await w.redis.xpending(
    w.store.keys.events(),
    w.store.keys.reportersGroup(),
  )) as [number];
  return count;
}

async function notesOnFreshClone(w: World): Promise<string> {
  const dir = path.join(w.git.tmp, uniqueName('clone'));
  await w.git.git(['clone', '--quiet', w.git.url, dir]);
  await w.git.git(['-C', dir, 'fetch', '--quiet', 'origin', `${NOTES_REF}:${NOTES_REF}`]);
  return w.git.git(['-C', dir, 'log', '--notes=gantry', '--format=%H %s%n%N']);
}

describe('history reporters on the event stream', () => {
  it('GitHub: statuses and a Deployment as documented, a git note, signed notifications', async () => {
    const w = await world('github');
    const hook = await startRecorder();
    cleanup.push(() => hook.close());
    hook.answer(() => ({ status: 200 }));
    const slack = await startRecorder();
    cleanup.push(() => slack.close());
    slack.answer(() => ({ status: 200, body: 'ok' }));
    w.forge.answer((c) =>
      c.path.endsWith('/deployments') ? { status: 201, body: { id: 9001 } } : { status: 201 },
    );
    await w.start({
      notifications: [
        { name: 'audit', kind: 'webhook', url: `${hook.url}/in`, secret: SECRET },
        { name: 'chat', kind: 'slack', url: `${slack.url}/services/T/B/X`, events: ['succeeded'] },
      ],
    });
    const rec = record(w, 1);
    await runRollout(w, rec, 'succeeded');

    await waitFor('the final deployment status', async () =>
      bodies(w.forge.calls, /deployments\/9001\/statuses$/).length === 2 ? true : undefined,
    );
    const statuses = bodies(w.forge.calls, new RegExp(`/repos/acme/app/statuses/${w.shas[1]}$`));
    expect(statuses.map((b) => b.state)).toEqual(['pending', 'success']);
    for (const b of statuses) {
      expect(shapeErrors('githubStatus', b)).toEqual([]);
      expect(b).toMatchObject({
        context: 'gantry/production',
        target_url: `https://gantry.example.com/#/rollouts/${rec.id}`,
      });
    }
    const [deployment] = bodies(w.forge.calls, /\/repos\/acme\/app\/deployments$/);
    expect(shapeErrors('githubDeployment', deployment)).toEqual([]);
    expect(deployment).toMatchObject({
      ref: w.shas[1],
      environment: 'production',
      production_environment: true,
    });
    const depStatuses = bodies(w.forge.calls, /deployments\/9001\/statuses$/);
    for (const b of depStatuses) expect(shapeErrors('githubDeploymentStatus', b)).toEqual([]);
    expect(depStatuses.map((b) => b.state)).toEqual(['in_progress', 'success']);
    for (const c of w.forge.calls) {
      expect(c.method).toBe('POST');
      expect(c.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(c.headers['x-github-api-version']).toBe('2022-11-28');
    }
    expect(await w.redis.get(w.store.keys.forgeDeployment(rec.id))).toBe('9001');

    // The note is on the origin: a fresh clone shows it with `git log --notes=gantry`.
    const log = await waitFor('the note on the origin', async () => {
      const out = await notesOnFreshClone(w).catch(() => '');
      return out.includes(rec.id) ? out : undefined;
    });
    expect(log).toMatch(
      new RegExp(
        `${w.shas[1]} Second \\(#42\\)\\nproduction: succeeded \\S+Z rollout ${rec.id} \\(deploy by alice \\(webhook github\\)\\) image sha256:eeeeeeeeeeee`,
      ),
    );

    // Webhook: started and succeeded, each verifiable with the receiver's secret.
    await waitFor('two webhook deliveries', async () =>
      hook.calls.length === 2 ? true : undefined,
    );
    for (const c of hook.calls) {
      const ok = verifyWebhookSignature(
        SECRET,
        {
          signature: c.headers[SIGNATURE_HEADER.toLowerCase()] as string,
          timestamp: c.headers[TIMESTAMP_HEADER.toLowerCase()] as string,
        },
        c.raw,
        Math.floor(Date.now() / 1000),
      );
      expect(ok).toBe(true);
    }
    expect(hook.calls.map((c) => (c.json as { event: string }).event)).toEqual([
      'started',
      'succeeded',
    ]);
    // Slack asked for successes only.
    await waitFor('the slack message', async () => (slack.calls.length >= 1 ? true : undefined));
    expect(slack.calls).toHaveLength(1);
    expect(slack.calls[0]?.path).toBe('/services/T/B/X');
    expect((slack.calls[0]?.json as { text: string }).text).toContain(
      `:white_check_mark: hello → production: succeeded (${w.shas[1]!.slice(0, 7)} 'Second (#42)' #42)`,
    );
    // Everything handled is acknowledged; the token appears in no log line.
    await waitFor('no pending entries', async () =>
      (await pendingCount(w)) === 0 ? true : undefined,
    );
    expect(w.logs.join('')).not.toContain(TOKEN);
  });

  const others: [ForgeConfig['kind'], RegExp, ForgeShape, string, string[]][] = [
    [
      'gitlab',
      /^\/api\/v4\/projects\/acme%2Fapp\/statuses\/[0-9a-f]{40}$/,
      'gitlabStatus',
      'private-token',
      ['running', 'failed'],
    ],
    [
      'gitea',
      /^\/api\/v1\/repos\/acme\/app\/statuses\/[0-9a-f]{40}$/,
      'giteaStatus',
      'authorization',
      ['pending', 'failure'],
    ],
  ];
  for (const [kind, pathRe, shape, authHeader, states] of others) {
    it(`${kind}: commit statuses as documented, and a note with the failure's reason`, async () => {
      const w = await world(kind);
      await w.start();
      const rec = record(w, 2);
      await runRollout(w, rec, 'failed', 'instance web-1 unhealthy');
      await waitFor('two statuses', async () => (w.forge.calls.length >= 2 ? true : undefined));
      await waitFor('no pending entries', async () =>
        (await pendingCount(w)) === 0 ? true : undefined,
      );
      expect(w.forge.calls).toHaveLength(2);
      for (const c of w.forge.calls) {
        expect(c.path).toMatch(pathRe);
        expect(shapeErrors(shape, c.json)).toEqual([]);
        expect(String(c.headers[authHeader])).toContain(TOKEN);
      }
      expect(w.forge.calls.map((c) => (c.json as { state: string }).state)).toEqual(states);
      const log = await notesOnFreshClone(w);
      expect(log).toContain(`production: failed`);
      expect(log).toContain(`— instance web-1 unhealthy`);
    });
  }

  it('a forge answering 500 and a receiver that hangs are logged, acknowledged and passed by', async () => {
    const w = await world('github');
    w.forge.answer(() => ({ status: 500, body: { message: 'boom' } }));
    const hang = await startRecorder();
    cleanup.push(() => hang.close());
    hang.answer(() => 'hang');
    const reporter = await w.start({
      notifications: [{ name: 'slow', kind: 'webhook', url: hang.url }],
    });

    const first = record(w, 3);
    await runRollout(w, first, 'succeeded');
    const second = record(w, 4, { env: 'production' });
    await runRollout(w, second, 'aborted', 'aborted by bob');

    // Every event was handled despite the failures: nothing stays pending, and the notes of both
    // rollouts (which need no forge) made it to the origin.
    await waitFor(
      'no pending entries',
      async () => ((await pendingCount(w)) === 0 ? true : undefined),
      30_000,
    );
    const log = await notesOnFreshClone(w);
    expect(log).toContain(first.id);
    expect(log).toContain(second.id);
    // Bounded retries: 2 attempts per request, no more.
    const statusCalls = w.forge.calls.filter((c) => /\/statuses\/[0-9a-f]{40}$/.test(c.path));
    expect(statusCalls.length).toBe(8); // 4 statuses (pending+final per rollout) × 2 attempts
    // Notifications go out beside the ordered work: 4 of them × 2 attempts, each timed out.
    await waitFor('8 attempts at the hanging receiver', async () =>
      hang.calls.length >= 8 ? true : undefined,
    );
    await reporter.stop();
    expect(hang.calls.length).toBe(8);
    expect(w.logs.join('')).toMatch(/forge failed \(the rollout is not affected\)/);
    expect(w.logs.join('')).not.toContain(TOKEN);
  });

  it('two controllers share the work: each event is reported once', async () => {
    const w = await world('gitea');
    await w.start({ consumer: 'one' });
    await w.start({ consumer: 'two' });
    const recs = [];
    for (let i = 0; i < 6; i++) recs.push(await runRollout(w, record(w, 10 + i), 'succeeded'));
    await waitFor('12 statuses', async () => (w.forge.calls.length >= 12 ? true : undefined));
    await waitFor('no pending entries', async () =>
      (await pendingCount(w)) === 0 ? true : undefined,
    );
    expect(w.forge.calls).toHaveLength(12);
    const log = await notesOnFreshClone(w);
    for (const r of recs) expect(log).toContain(r.id);
  });

  it('a controller that died holding events: another claims them after they go stale', async () => {
    const w = await world('gitea');
    // Create the group, then play a consumer that reads and dies before acknowledging.
    const first = await w.start({ consumer: 'setup' });
    await first.stop();
    const rec = record(w, 20);
    await runRollout(w, rec, 'succeeded', 'done', false);
    const grabbed = (await w.redis.xreadgroup(
      'GROUP',
      w.store.keys.reportersGroup(),
      'dead',
      'COUNT',
      100,
      'STREAMS',
      w.store.keys.events(),
      '>',
    )) as [string, unknown[]][];
    expect(grabbed[0]?.[1].length).toBe(3);
    expect(await pendingCount(w)).toBe(3);

    await w.start({ consumer: 'survivor', claimIdleMs: 300 });
    await waitFor('the claimed events reported', async () =>
      w.forge.calls.length >= 1 ? true : undefined,
    );
    await waitFor('no pending entries', async () =>
      (await pendingCount(w)) === 0 ? true : undefined,
    );
    // `created` was claimed after the rollout had ended: no stale pending over the final status.
    expect(w.forge.calls.map((c) => (c.json as { state: string }).state)).toEqual(['success']);
    expect(await notesOnFreshClone(w)).toContain(rec.id);
  });

  it('a frozen environment shows as a pending status with the lock reason', async () => {
    const w = await world('github');
    await w.start();
    const rec = record(w, 30);
    await w.rollouts.put(rec);
    await w.rollouts.setLock('hello', 'production', {
      reason: 'release freeze',
      by: 'carol',
      at: new Date().toISOString(),
    });
    await w.rollouts.appendEvents(rec, [
      {
        at: Date.now(),
        kind: 'waiting-lock',
        text: 'waiting: production is locked by carol: release freeze',
      },
    ]);
    await waitFor('a status', async () => (w.forge.calls.length >= 1 ? true : undefined));
    await waitFor('no pending entries', async () =>
      (await pendingCount(w)) === 0 ? true : undefined,
    );
    expect(w.forge.calls).toHaveLength(1);
    expect(w.forge.calls[0]?.json).toEqual({
      state: 'pending',
      target_url: `https://gantry.example.com/#/rollouts/${rec.id}`,
      description: 'deploy frozen: release freeze',
      context: 'gantry/production',
    });
  });
  it("the reconciler's self-heal reaches the receivers that want it, once", async () => {
    const w = await world('gitea');
    const ops = await startRecorder();
    cleanup.push(() => ops.close());
    ops.answer(() => ({ status: 200 }));
    const deploys = await startRecorder();
    cleanup.push(() => deploys.close());
    deploys.answer(() => ({ status: 200 }));
    const notifications: NotificationConfig[] = [
      // No `events`: the default, which includes self-heal.
      { name: 'ops', kind: 'webhook', url: `${ops.url}/in`, secret: SECRET },
      { name: 'deploys', kind: 'webhook', url: deploys.url, events: ['started', 'failed'] },
    ];
    // Two controllers in the group: the event is still handled, and sent, once.
    await w.start({ notifications, consumer: 'one' });
    await w.start({ notifications, consumer: 'two' });
    const heal: HealEvent = {
      kind: 'replaced',
      at: Date.now(),
      slot: 'r-1-2',
      instanceId: 'c0ffee',
      replacement: 'r-1-5',
      cause: 'exited',
      detail: 'exited with code 137',
    };
    await w.rollouts.appendEnvEvents('hello', 'production', [
      { at: heal.at, kind: healEventKind(heal), text: healEventText(heal), data: heal },
      // Environment events no receiver may ask for are passed by.
      { at: heal.at, kind: 'locked', text: 'locked by carol: release freeze' },
    ]);

    await waitFor('the self-heal delivery', async () => (ops.calls.length >= 1 ? true : undefined));
    await waitFor('no pending entries', async () =>
      (await pendingCount(w)) === 0 ? true : undefined,
    );
    await waitFor('the group drained', () => drained(w));
    expect(ops.calls).toHaveLength(1);
    const [call] = ops.calls;
    expect(call?.headers['x-gantry-event']).toBe('env.self-heal');
    expect(String(call?.headers['x-gantry-delivery'])).toMatch(
      /^hello\/production:self-heal:\d+-\d+$/,
    );
    const ok = verifyWebhookSignature(
      SECRET,
      {
        signature: call?.headers[SIGNATURE_HEADER.toLowerCase()] as string,
        timestamp: call?.headers[TIMESTAMP_HEADER.toLowerCase()] as string,
      },
      call?.raw ?? '',
      Math.floor(Date.now() / 1000),
    );
    expect(ok).toBe(true);
    expect(call?.json as EnvNotice).toEqual({
      event: 'self-heal',
      at: new Date(heal.at).toISOString(),
      environment: {
        app: 'hello',
        env: 'production',
        url: 'https://gantry.example.com/#/apps/hello',
      },
      text: 'self-heal: replaced r-1-2 with r-1-5, exited with code 137',
      heal,
    });
    // A receiver of rollout events only, and the forge, hear nothing of it.
    expect(deploys.calls).toHaveLength(0);
    expect(w.forge.calls).toHaveLength(0);
  });
});
