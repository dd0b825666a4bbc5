/**
 * Two controller processes on one Redis and one edge, and a test that tries hard to make them run
 * two rollouts of one app environment at once: pushes in quick succession through both, a burst
 * of deploys and rollbacks queued straight into BullMQ, and the process running a rollout frozen
 * (SIGSTOP) past its lease and lock, then thawed while the other has moved on.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueRollout } from '../../src/deploy/enqueue.js';
import { upstreamOf } from '../../src/deploy/observe.js';
import { CaddyEdge } from '../../src/edge/caddy/caddy-edge.js';
import type { RolloutKind } from '../../src/queue/jobs.js';
import type { RolloutState } from '../../src/rollout/index.js';
import type { RolloutEventRecord } from '../../src/store/records.js';
import { waitFor } from '../support/controller-fixture.js';
import {
  startRig,
  withHealthyThreshold,
  type ControllerProcess,
  type Rig,
} from '../support/controller-process.js';
import { uniqueName } from '../support/env.js';

/**
 * One attempt at one rollout: from its first to its last trace. A rollout interrupted (its
 * process stalled past the lease) and resumed later has two attempts, and another rollout may
 * run between them; what must never happen is two attempts at once.
 */
interface Span {
  readonly rollout: string;
  readonly attempt: string;
  readonly from: number;
  readonly to: number;
}

/** Pairs of attempts that overlap in time. */
function overlapping(spans: readonly Span[]): string[] {
  const bad: string[] = [];
  for (const [i, a] of spans.entries()) {
    for (const b of spans.slice(i + 1)) {
      if (a.from <= b.to && b.from <= a.to) {
        bad.push(`${a.attempt} [${a.from}, ${a.to}] × ${b.attempt} [${b.from}, ${b.to}]`);
      }
    }
  }
  return bad;
}

/** Attempts by the rollout's own event stream: each 'created' or 'resumed' starts one. */
function eventAttempts(rollout: string, events: readonly RolloutEventRecord[]): Span[] {
  const spans: Span[] = [];
  for (const e of events) {
    const last = spans.at(-1);
    if (!last || e.kind === 'created' || e.kind === 'resumed') {
      spans.push({ rollout, attempt: `${rollout}#${spans.length}`, from: e.at, to: e.at });
    } else {
      spans[spans.length - 1] = { ...last, to: Math.max(last.to, e.at) };
    }
  }
  return spans;
}

/**
 * Attempts by what the processes logged: each action line names its attempt (the lease owner).
 * Keyed by process too: an attempt that went on acting in a second process would show twice.
 */
async function loggedAttempts(procs: readonly ControllerProcess[]): Promise<Span[]> {
  const byAttempt = new Map<string, Span>();
  for (const p of procs) {
    for (const line of await p.logLines()) {
      if (line.rollout === undefined || line.attempt === undefined) continue;
      const attempt = `${p.name}:${line.attempt}`;
      const s = byAttempt.get(attempt);
      byAttempt.set(attempt, {
        rollout: line.rollout,
        attempt,
        from: s?.from ?? line.time,
        to: line.time,
      });
    }
  }
  return [...byAttempt.values()];
}

describe('two controller processes against one Redis', () => {
  let rig: Rig;
  let a: ControllerProcess;
  let b: ControllerProcess;
  const app = uniqueName('duo').replace(/-/g, '');
  // Every container ever seen, by slot: which rollout made it and when it started.
  const seen = new Map<
    string,
    { rollout: string; startedAt: number | undefined; upstream: string | undefined }
  >();
  let sampling = true;
  let sampler: Promise<void> = Promise.resolve();

  beforeAll(async () => {
    // Healthy at the first passing probe: each rollout takes seconds, so many fit in the test.
    rig = await startRig({ app, edge: 'shared', spec: (s) => withHealthyThreshold(s, 1) });
    // Two hosts in all but name: a data directory each, one Redis prefix, one edge.
    [a, b] = await Promise.all([
      rig.start('a', path.join(rig.dir, 'data-a')),
      rig.start('b', path.join(rig.dir, 'data-b')),
    ]);
    sampler = (async () => {
      while (sampling) {
        for (const i of await rig.runtime.list({ app }).catch(() => [])) {
          if (seen.get(i.slot)?.upstream === undefined) {
            seen.set(i.slot, {
              rollout: i.rolloutId,
              startedAt: i.startedAt,
              upstream: upstreamOf(i),
            });
          }
        }
        await sleep(150);
      }
    })();
  });
  afterAll(async () => {
    sampling = false;
    await sampler;
    await rig?.close();
  });

  it('never runs two rollouts of one app environment at once', async () => {
    const marker = new Map<string, string>();
    const commit = async (via: ControllerProcess, n: number) => {
      await rig.wt.write('www/index.html', `<h1>revision ${n}</h1>\n`);
      const sha = await rig.push(via, `Revision ${n}`);
      marker.set(sha, `revision ${n}`);
      return sha;
    };
    const first = await commit(a, 1);
    expect((await rig.built(first)).status).toBe('succeeded');
    expect((await rig.rolledOut(first)).outcome).toBe('succeeded');

    // Pushes through one controller and the other: one built on its own, then two in quick
    // succession (the build of the middle one may be skipped as superseded).
    const second = await commit(b, 2);
    await rig.built(second);
    const pushed = [second, await commit(a, 3), await commit(b, 4)];
    const builds = await Promise.all(pushed.map((sha) => rig.built(sha)));
    const built = [first, ...builds.filter((x) => x.status === 'succeeded').map((x) => x.sha)];
    expect(built.length).toBeGreaterThanOrEqual(3);

    // A burst of rollbacks and deploys to alternating revisions, straight into the queue while
    // the pushes' deploys still run, for 2 processes × 4 workers to fight over.
    const deps = {
      store: rig.store,
      rollouts: rig.rollouts,
      queues: rig.queues,
      log: pino({ level: 'silent' }),
    };
    const burst: string[] = [];
    for (let k = 0; k < 6; k++) {
      const kind: RolloutKind = k % 2 === 0 ? 'rollback' : 'deploy';
      const sha = built[(k + (kind === 'rollback' ? 0 : 1)) % built.length]!;
      const trigger = { kind: 'manual' as const, actor: 'tester' };
      burst.push(await enqueueRollout(deps, { app, env: rig.env, sha, kind, trigger }));
    }

    // Freeze the process running a rollout until the other one acts on the app, then thaw it:
    // its lease and BullMQ lock have expired meanwhile, and it wakes up mid-step.
    const target = await waitFor(
      'a rollout in progress and the process running it',
      async () => {
        const recs = await rig.rollouts.list(app, rig.env, 100);
        const rec = recs.find(
          (r) => !r.outcome && (r.state as RolloutState | undefined)?.startedAt,
        );
        if (!rec) return undefined;
        for (const p of [a, b]) {
          if ((await p.logLines()).some((l) => l.rollout === rec.id)) return { rec, holder: p };
        }
        return undefined;
      },
      60_000,
    );
    const { holder } = target;
    const other = holder === a ? b : a;
    holder.freeze();
    const frozenAt = Date.now();
    const takenOver = await waitFor(
      `${other.name} to act on the app while ${holder.name} is frozen`,
      async () =>
        (await other.logLines()).find((l) => l.time > frozenAt && l.rollout !== undefined),
      45_000,
    );
    await sleep(2_000);
    holder.thaw();
    const thawedAt = Date.now();

    const settled = await waitFor(
      'every rollout to settle',
      async () => {
        const counts = await rig.queues.rollouts.getJobCounts(
          'wait',
          'active',
          'delayed',
          'prioritized',
        );
        if (Object.values(counts).some((n) => n > 0)) return undefined;
        const recs = await rig.rollouts.list(app, rig.env, 100);
        if (recs.some((r) => !r.outcome)) return undefined;
        if (!burst.every((id) => recs.some((r) => r.id === id))) return undefined;
        return recs;
      },
      150_000,
    );
    // The thawed process may still be finishing a step it was frozen in.
    await sleep(3_000);
    sampling = false;
    await sampler;

    // 1. No two attempts overlapped, by the rollouts' own event streams…
    const eventSpans: Span[] = [];
    for (const rec of settled) {
      eventSpans.push(...eventAttempts(rec.id, await rig.rollouts.events(rec.id)));
    }
    expect(overlapping(eventSpans)).toEqual([]);
    // …by what each process logged as it acted…
    const logged = await loggedAttempts([a, b]);
    expect(overlapping(logged)).toEqual([]);
    // …and by Docker: no container started while another rollout was running.
    const strays = [...seen].flatMap(([slot, c]) =>
      eventSpans
        .filter((s) => s.rollout !== c.rollout && c.startedAt !== undefined)
        .filter((s) => s.from < c.startedAt! && c.startedAt! < s.to)
        .map((s) => `${slot} started at ${c.startedAt} during ${s.attempt}`),
    );
    expect(strays).toEqual([]);
    // 2. The end state is consistent: the newest succeeded rollout's revision, in full, routed.
    const outcomes = settled.map((r) => r.outcome);
    expect(outcomes.filter((o) => o !== 'succeeded' && o !== 'superseded')).toEqual([]);
    const last = settled
      .filter((r) => r.outcome === 'succeeded')
      .sort((x, y) => Date.parse(x.finishedAt!) - Date.parse(y.finishedAt!))
      .at(-1)!;
    const envState = await rig.rollouts.env(app, rig.env);
    expect(envState.current?.sha).toBe(last.to.sha);
    const all = await rig.runtime.list({ app });
    expect(all.map((i) => [i.state, i.revision])).toEqual(
      Array.from({ length: 3 }, () => ['running', last.to.sha]),
    );
    const edge = new CaddyEdge({
      frontAdminUrl: rig.caddy!.front.adminUrl,
      backAdminUrl: rig.caddy!.back.adminUrl,
      logDir: rig.caddy!.logDir,
      name: `gantry-${rig.prefix}`.slice(0, 60),
    });
    const routed = (await edge.upstreams(envState.route!.id)).sort();
    const whose = routed.map((u) => [...seen].find(([, c]) => c.upstream === u)?.[0] ?? u);
    expect(routed, `routed: ${whose.join(', ')}`).toEqual(all.map(upstreamOf).sort());
    await edge.close();
    expect(await (await fetch(envState.route!.url)).text()).toContain(marker.get(last.to.sha));

    const ran = settled.filter((r) => (r.state as RolloutState | undefined)?.startedAt);
    console.log(
      `two-controllers: ${settled.length} rollouts (${ran.length} ran, ` +
        `${settled.filter((r) => r.outcome === 'superseded').length} superseded, ` +
        `${settled.filter((r) => r.kind === 'rollback').length} rollbacks); ` +
        `froze ${holder.name} in ${target.rec.id} for ${(thawedAt - frozenAt) / 1000}s, ` +
        `${other.name} took over with ${takenOver.rollout}; ${seen.size} containers seen`,
    );
  }, 240_000);
});
