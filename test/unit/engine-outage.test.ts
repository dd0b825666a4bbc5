/**
 * The small pieces that let Gantry sit out a Docker engine restart: a connection per engine
 * request, probe results dropped when the engine started an instance again, the status's word
 * for a rollout that waits, and the instances a rollout starts again after the outage.
 */
import { Agent } from 'node:http';
import { createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { restartsAfterOutage } from '../../src/deploy/outage.js';
import { ProbeSet } from '../../src/deploy/probe-set.js';
import { waitingNow } from '../../src/deploy/runner-events.js';
import { clientOptions } from '../../src/runtime/docker/hosts.js';
import type { RolloutState } from '../../src/rollout/index.js';
import type { Instance, Runtime } from '../../src/runtime/runtime.js';
import type { RolloutEventRecord } from '../../src/store/records.js';

describe('clientOptions', () => {
  it.each([
    ['unix socket', 'unix:///var/run/docker.sock'],
    ['plain tcp', 'tcp://10.0.0.2:2375'],
  ])(
    'opens a connection per request (%s): a stopping engine answers only on open ones',
    (_, endpoint) => {
      const { agent } = clientOptions({ name: 'h', endpoint });
      expect(agent).toBeInstanceOf(Agent);
      expect((agent as Agent & { keepAlive: boolean }).keepAlive).toBe(false);
    },
  );
});

describe('waitingNow', () => {
  const line = (kind: string, text = kind): RolloutEventRecord => ({ at: 0, kind, text });
  it.each([
    ['no runner line', [line('progressing')], null],
    [
      'waiting',
      [line('progressing'), line('waiting', 'waiting: engine gone')],
      'waiting: engine gone',
    ],
    [
      'waiting, then core events',
      [line('waiting', 'waiting: x'), line('instance-health')],
      'waiting: x',
    ],
    ['reachable again', [line('waiting', 'waiting: x'), line('reachable')], null],
    ['over', [line('waiting', 'waiting: x'), line('outcome')], null],
  ])('%s', (_, lines, want) => {
    expect(waitingNow(lines)).toBe(want);
  });
});

describe('ProbeSet', () => {
  let server: Server | undefined;
  let set: ProbeSet | undefined;
  afterEach(async () => {
    set?.stop();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
  });

  it('forgets the failures of a process the engine started again, and probes the new one', async () => {
    // Port 1 on loopback refuses: the instance's address while the engine is down.
    const instance = (hostPort: number, startedAt: number): Instance => ({
      id: 'c1',
      name: 'gantry-a-p-s1',
      host: 'h',
      app: 'a',
      env: 'p',
      revision: 'r',
      rolloutId: 'ro',
      slot: 's1',
      image: 'i',
      state: 'running',
      restartCount: 0,
      startedAt,
      hostPort,
    });
    const schedule = { check: { kind: 'tcp' as const }, intervalMs: 10, timeoutMs: 500 };
    set = new ProbeSet({} as Runtime);
    set.sync([instance(1, 1000)], schedule);
    await sleep(100);
    expect(set.log.of('c1').some((p) => !p.ok)).toBe(true);

    // Holds connections open: a live app, for the TCP check (which waits a settle time).
    server = createServer(() => undefined);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    set.sync([instance(port, 2000)], schedule);
    await sleep(500);
    const probes = set.log.of('c1');
    expect(probes.length).toBeGreaterThan(0);
    expect(probes.every((p) => p.ok)).toBe(true);
  });
});

describe('restartsAfterOutage', () => {
  const tracked = (slot: string, id: string | null, retiring = false) => ({
    slot,
    id,
    retire: retiring ? { at: 0, reason: 'replaced' } : null,
  });
  const seen = (slot: string, state: Instance['state'], restartCount = 0): Instance => ({
    id: `id-${slot}`,
    name: slot,
    host: 'h',
    app: 'a',
    env: 'p',
    revision: 'r',
    rolloutId: 'ro',
    slot,
    image: 'img',
    state,
    restartCount,
  });
  // Only `instances` is read: the rest of the state does not matter here.
  const state = (...instances: ReturnType<typeof tracked>[]) =>
    ({ instances }) as unknown as RolloutState;

  it.each([
    [
      'stopped by the engine, known by id',
      state(tracked('s1', 'id-s1')),
      [seen('s1', 'exited')],
      ['s1'],
    ],
    [
      'started, not yet seen by the core',
      state(tracked('s1', null)),
      [seen('s1', 'exited')],
      ['s1'],
    ],
    ['running', state(tracked('s1', 'id-s1')), [seen('s1', 'running')], []],
    ['on its way out', state(tracked('s1', 'id-s1', true)), [seen('s1', 'exited')], []],
    [
      'a crash loop that used up its restarts',
      state(tracked('s1', 'id-s1')),
      [seen('s1', 'exited', 3)],
      [],
    ],
    ['not the core’s', state(), [seen('s1', 'exited')], []],
  ])('%s', (_, s, instances, slots) => {
    const actions = restartsAfterOutage(s, instances, 3);
    expect(actions.map((a) => a.slot)).toEqual(slots);
    for (const a of actions)
      expect(a).toMatchObject({ kind: 'start', revision: 'r', image: 'img', host: 'h' });
  });
});
