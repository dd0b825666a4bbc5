/**
 * An abort the API answered with 202 survives a crash of the process applying it. The loop peeks
 * at the intents, decides, persists, and only then acknowledges them; these tests run the real
 * loop against real Redis with a crash injected at each point of that sequence, then resume with
 * a fresh loop from what Redis holds, as another controller would.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppSpec } from '../../src/config/app-spec.js';
import type { Edge } from '../../src/edge/edge.js';
import { RolloutLoop } from '../../src/deploy/rollout-loop.js';
import type { RolloutDeps } from '../../src/deploy/rollout-deps.js';
import { initialState, type RolloutState } from '../../src/rollout/index.js';
import type { Instance, InstanceSpec, Runtime } from '../../src/runtime/runtime.js';
import type { RolloutRecord } from '../../src/store/records.js';
import { RolloutStore } from '../../src/store/rollouts.js';
import { Store } from '../../src/store/store.js';
import { testEnv, uniqueName } from '../support/env.js';
import { NEW, testPlan } from '../unit/rollout-drive.js';

/** An engine with nothing running that refuses to start anything: no instance is ever needed. */
function emptyRuntime(starts: InstanceSpec[]): Runtime {
  const none = async (): Promise<never[]> => [];
  return {
    kind: 'docker',
    hosts: () => ['h1', 'h2'],
    start: async (spec: InstanceSpec): Promise<Instance> => {
      starts.push(spec);
      throw new Error('this test starts nothing');
    },
    stop: async () => undefined,
    remove: async () => undefined,
    list: none,
    exec: async () => ({ exitCode: 0, output: '' }),
    logs: none,
    ensureImage: async () => undefined,
    removeImages: none,
    probes: {},
  } as unknown as Runtime;
}

const quietEdge = {
  ensureRoute: async () => ({ url: 'http://127.0.0.1:1' }),
  setUpstreams: async () => undefined,
  upstreams: async () => [],
  drain: async () => ({ drained: true }),
  stats: async () => ({ upstreams: {} }),
  removeRoute: async () => undefined,
} as unknown as Edge;

class Crash extends Error {}

describe('rollout intents across a crash (kill -9 between persist and ack)', () => {
  let redis: Redis;
  let store: Store;
  let rollouts: RolloutStore;

  beforeAll(() => {
    redis = new Redis(testEnv().redisUrl);
    store = new Store(redis, uniqueName('intents'));
    rollouts = new RolloutStore(redis, store.keys);
  });
  afterAll(() => redis.disconnect());

  /** A running first deploy of one replica, persisted, with `intent` waiting as the API left it. */
  async function pendingRollout(intent: string): Promise<RolloutRecord> {
    const id = uniqueName('r');
    const plan = testPlan({ replicas: 1, firstDeploy: true, extra: { rolloutId: id } });
    const now = Date.now();
    const state: RolloutState = {
      ...initialState(plan),
      startedAt: now,
      lastProgressAt: now,
    };
    const rec: RolloutRecord = {
      id,
      app: plan.app,
      env: plan.env,
      kind: 'deploy',
      trigger: { kind: 'manual', actor: 'test' },
      from: null,
      to: { sha: NEW.sha, image: NEW.image },
      createdAt: new Date(now).toISOString(),
      plan,
      state,
    };
    await rollouts.put(rec);
    await rollouts.pushIntent(id, intent);
    return rec;
  }

  /** The loop as a controller runs it; `crashOn` makes that store call throw as a kill would. */
  function loopOf(rec: RolloutRecord, crashOn?: 'put' | 'ackIntents', starts: InstanceSpec[] = []) {
    const crashing = new Proxy(rollouts, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (prop === crashOn) throw new Crash(`killed at ${String(prop)}`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const deps = {
      store,
      rollouts: crashing,
      runtime: emptyRuntime(starts),
      edge: quietEdge,
      log: pino({ level: 'silent' }),
      tickMs: 20,
      keepImages: 5,
    } as unknown as RolloutDeps;
    const spec = { app: rec.app } as unknown as AppSpec;
    return new RolloutLoop(deps, rec, spec, 'route-1', new Map(), undefined);
  }

  /** The next process: loads the rollout from Redis and runs it to its end; what it started, too. */
  async function resumeRollout(
    id: string,
  ): Promise<{ done: RolloutRecord; starts: InstanceSpec[] }> {
    const starts: InstanceSpec[] = [];
    const resumed = loopOf((await rollouts.get(id))!, undefined, starts);
    const done = await resumed.run();
    resumed.close();
    return { done, starts };
  }

  const stateOf = async (id: string): Promise<RolloutState> =>
    (await rollouts.get(id))!.state as RolloutState;

  it('a crash after the decision is persisted, before the ack, keeps the abort; the next process applies it once', async () => {
    const rec = await pendingRollout('abort');
    const dying = loopOf(rec, 'ackIntents');
    await expect(dying.run()).rejects.toBeInstanceOf(Crash);
    dying.close();

    // The decision is saved, and the intent it applied is still there: nothing was lost.
    expect((await stateOf(rec.id)).revert?.cause).toBe('abort');
    expect(await rollouts.peekIntents(rec.id)).toEqual(['abort']);

    const { done, starts } = await resumeRollout(rec.id);
    expect(done.outcome).toBe('aborted');
    expect(await rollouts.peekIntents(rec.id)).toEqual([]);
    expect(starts).toEqual([]);
    // Applied once: the resumed decision finds the rollout already aborted and changes nothing.
    const applied = (await rollouts.events(rec.id)).filter((e) => e.kind === 'intent-applied');
    expect(applied.map((e) => e.text)).toEqual(['abort applied']);
  });

  it('a crash before the decision is persisted leaves the abort for the next process', async () => {
    const rec = await pendingRollout('abort');
    const dying = loopOf(rec, 'put');
    await expect(dying.run()).rejects.toBeInstanceOf(Crash);
    dying.close();

    // Nothing saved, nothing acknowledged (taking the intents first used to delete it here).
    expect((await stateOf(rec.id)).revert).toBeNull();
    expect(await rollouts.peekIntents(rec.id)).toEqual(['abort']);

    const { done, starts } = await resumeRollout(rec.id);
    expect(done.outcome).toBe('aborted');
    expect(starts).toEqual([]);
    expect(await rollouts.peekIntents(rec.id)).toEqual([]);
    const applied = (await rollouts.events(rec.id)).filter((e) => e.kind === 'intent-applied');
    expect(applied).toHaveLength(1);
  });

  it('acknowledges only what it applied: an intent pushed after the peek waits for the next decision', async () => {
    const rec = await pendingRollout('pause');
    // The API pushes `abort` while the loop is persisting its decision about `pause`.
    let pushed = false;
    const pushing = new Proxy(rollouts, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const out: unknown = await (value as (...a: unknown[]) => unknown).apply(target, args);
          if (prop === 'put' && !pushed) {
            pushed = true;
            await target.pushIntent(rec.id, 'abort');
          }
          return out;
        };
      },
    });
    const deps = {
      store,
      rollouts: pushing,
      runtime: emptyRuntime([]),
      edge: quietEdge,
      log: pino({ level: 'silent' }),
      tickMs: 20,
      keepImages: 5,
    } as unknown as RolloutDeps;
    const loop = new RolloutLoop(
      deps,
      rec,
      { app: rec.app } as unknown as AppSpec,
      'route-1',
      new Map(),
      undefined,
    );
    const done = await loop.run();
    loop.close();
    expect(done.outcome).toBe('aborted');
    const applied = (await rollouts.events(rec.id))
      .filter((e) => e.kind === 'intent-applied')
      .map((e) => e.text);
    expect(applied).toHaveLength(2);
    expect(applied[0]).toMatch(/pause/);
    expect(applied[1]).toMatch(/abort/);
    expect(await rollouts.peekIntents(rec.id)).toEqual([]);
  });
});
