import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/events/bus.js';
import { startApiController, type ApiController } from '../support/api-controller.js';
import { waitFor } from '../support/controller-fixture.js';
import { openSse, type SseFrame } from '../support/sse-client.js';

const A = { id: 'r-aaa-1', app: 'alpha', env: 'production' };
const B = { id: 'r-bbb-2', app: 'beta', env: 'production' };

function data(f: SseFrame): StoredEvent {
  return JSON.parse(f.data!) as StoredEvent;
}

describe('GET /api/events (Server-Sent Events) on a listening controller', () => {
  let api: ApiController;

  beforeAll(async () => {
    api = await startApiController({ config: ['api: { sseHeartbeat: 300ms }'] });
  });
  afterAll(async () => {
    await api?.close();
  });

  const emit = (r: typeof A, kind: string, text: string) =>
    api.controller.rollouts.appendEvents(r, [{ at: Date.now(), kind, text }]);

  async function sseConnections(): Promise<number> {
    const list = (await api.controller.redis.client('LIST')) as string;
    return list.split('\n').filter((l) => l.includes(` name=${api.prefix}:sse `)).length;
  }

  it('needs a viewer token', async () => {
    expect((await api.get('/api/events', null)).status).toBe(401);
    expect((await api.get('/api/events?after=nope')).status).toBe(400);
  });

  it('delivers a rollout’s events in order, filtered by app; a resumed stream misses nothing', async () => {
    const sse = await openSse(`${api.controller.url}/api/events?app=alpha`, api.viewer);
    expect(sse.status).toBe(200);
    expect((await sse.next()).comment).toBe('connected');
    for (let i = 1; i <= 3; i++) {
      await emit(A, 'step', `a${i}`);
      await emit(B, 'step', `b${i}`);
    }
    const first = await sse.take(3);
    expect(first.map((f) => data(f).type)).toEqual(['rollout', 'rollout', 'rollout']);
    expect(first.map((f) => (data(f) as { text: string }).text)).toEqual(['a1', 'a2', 'a3']);
    expect(first.every((f) => f.event === 'rollout' && f.id === data(f).id)).toBe(true);
    sse.close();
    await waitFor('the stream’s Redis connection to be released', async () =>
      (await sseConnections()) === 0 ? true : undefined,
    );

    // While disconnected, more happens; resuming from the last id seen delivers exactly that.
    for (let i = 4; i <= 6; i++) await emit(A, 'step', `a${i}`);
    const resumed = await openSse(`${api.controller.url}/api/events?app=alpha`, api.viewer, {
      'last-event-id': first[2]!.id!,
    });
    const rest = await resumed.take(3);
    expect(rest.map((f) => (data(f) as { text: string }).text)).toEqual(['a4', 'a5', 'a6']);
    resumed.close();

    // ?after= resumes too, and ?rollout= narrows to one rollout.
    const byQuery = await openSse(
      `${api.controller.url}/api/events?rollout=${B.id}&after=${first[0]!.id}`,
      api.viewer,
    );
    const bs = await byQuery.take(2);
    expect(bs.map((f) => (data(f) as { text: string }).text)).toEqual(['b1', 'b2']);
    byQuery.close();
  });

  it('keeps an idle stream open with heartbeat comments on the one Redis reader', async () => {
    // Streams of the test before release their connections as soon as they notice the close.
    await waitFor('earlier streams to be gone', async () =>
      (await sseConnections()) === 0 ? true : undefined,
    );
    const before = 0;
    const sse = await openSse(`${api.controller.url}/api/events?app=nothing-here`, api.viewer);
    expect((await sse.next()).comment).toBe('connected');
    expect((await sse.next()).comment).toBe('heartbeat');
    expect(await sseConnections()).toBe(before + 1);
    sse.close();
    await waitFor('the connection to be released', async () =>
      (await sseConnections()) === before ? true : undefined,
    );
  });

  it('lets the controller close while streams are open', async () => {
    const sse = await openSse(`${api.controller.url}/api/events`, api.viewer);
    await sse.next();
    await api.restart();
    await expect(sse.next()).rejects.toThrow();
    expect(await sseConnections()).toBe(0);
  });
});

describe('GET /api/events: one Redis reader per controller, streams capped', () => {
  let api: ApiController;

  beforeAll(async () => {
    api = await startApiController({
      config: ['api: { sseHeartbeat: 300ms, streams: { max: 301, perToken: 300 } }'],
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  const clients = async (name?: string): Promise<number> => {
    const list = (await api.controller.redis.client('LIST')) as string;
    const lines = list.split('\n').filter(Boolean);
    return name === undefined
      ? lines.length
      : lines.filter((l) => l.includes(` name=${name} `)).length;
  };
  const refused = async (token: string) => {
    const res = await fetch(`${api.controller.url}/api/events`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: res.status, body: (await res.json()) as { code: string; message: string } };
  };

  it('300 clients share one Redis connection; the caps per token and in total answer 429', async () => {
    const before = await clients();
    const streams = await Promise.all(
      Array.from({ length: 300 }, () =>
        openSse(`${api.controller.url}/api/events?app=alpha`, api.viewer),
      ),
    );
    expect(streams.every((s) => s.status === 200)).toBe(true);
    await Promise.all(streams.map((s) => s.next())); // ": connected"
    expect(await clients(`${api.prefix}:sse`)).toBe(1);
    // Other test files share this Redis, so the total is compared loosely: far below +300.
    expect((await clients()) - before).toBeLessThan(50);

    await api.controller.rollouts.appendEvents(A, [{ at: Date.now(), kind: 'step', text: 'fan' }]);
    const got = await Promise.all(streams.map((s) => s.take(1)));
    expect(got.every(([f]) => (data(f!) as { text: string }).text === 'fan')).toBe(true);

    // The viewer token has its 300; another token may take the controller's last one.
    const perToken = await refused(api.viewer);
    expect(perToken.status).toBe(429);
    expect(perToken.body.code).toBe('GANTRY_ERR_TOO_MANY_STREAMS');
    expect(perToken.body.message).toMatch(/token tester already has 300/);
    const last = await openSse(`${api.controller.url}/api/events`, api.deployer);
    expect(last.status).toBe(200);
    const total = await refused(api.deployer);
    expect(total.status).toBe(429);
    expect(total.body.message).toMatch(/already serves 301/);

    // Closing a stream gives its place back; the last one out releases the connection.
    streams[0]!.close();
    await waitFor('the closed stream’s place to be given back', async () => {
      const s = await openSse(`${api.controller.url}/api/events`, api.viewer);
      s.close();
      return s.status === 200 ? true : undefined;
    });
    for (const s of [...streams, last]) s.close();
    await waitFor('the reader’s connection to be released', async () =>
      (await clients(`${api.prefix}:sse`)) === 0 ? true : undefined,
    );
    const again = await openSse(`${api.controller.url}/api/events`, api.viewer);
    expect(again.status).toBe(200);
    again.close();
  });
});
