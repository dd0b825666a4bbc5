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

  it('keeps an idle stream open with heartbeat comments, one Redis connection per stream', async () => {
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
