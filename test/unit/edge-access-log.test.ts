import { appendFile, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LogFollower,
  parseAccessLine,
  type AccessRecord,
} from '../../src/edge/caddy/access-log.js';
import { TrafficLedger } from '../../src/edge/caddy/traffic-ledger.js';
import { isRouteId, isUpstream, trafficOf, type RouteStats } from '../../src/edge/edge.js';

// Shaped like Caddy 2.6.2's lines (headers already dropped and user_id renamed by our filter encoder).
const line = (o: { logger: string; ts: number; status: number; upstream?: string }) =>
  JSON.stringify({
    level: o.status >= 400 ? 'error' : 'info',
    ts: o.ts,
    logger: o.logger,
    msg: 'handled request',
    request: { remote_ip: '@', proto: 'HTTP/1.1', method: 'GET', host: 'x', uri: '/' },
    duration: 0.0012,
    size: 2,
    status: o.status,
    ...(o.upstream ? { upstream: o.upstream } : {}),
  });

describe('parseAccessLine', () => {
  it.each<[string, string, AccessRecord | undefined]>([
    [
      'front line',
      line({ logger: 'http.log.access.gantry.web-prod', ts: 1700000000.1234, status: 200 }),
      { routeId: 'web-prod', at: 1700000000123, status: 200 },
    ],
    [
      'back line with its upstream',
      line({
        logger: 'http.log.access.gantry.web-prod',
        ts: 1700000001,
        status: 502,
        upstream: '127.0.0.1:9',
      }),
      { routeId: 'web-prod', at: 1700000001000, status: 502, upstream: '127.0.0.1:9' },
    ],
    [
      'back line an older edge wrote, with the upstream in a response header',
      JSON.stringify({
        logger: 'http.log.access.gantry.web-prod',
        ts: 2,
        status: 200,
        resp_headers: { 'X-Gantry-Upstream': ['127.0.0.1:8'] },
      }),
      { routeId: 'web-prod', at: 2000, status: 200, upstream: '127.0.0.1:8' },
    ],
    [
      'unrouted host',
      line({ logger: 'http.log.access.gantry._unrouted', ts: 1, status: 404 }),
      undefined,
    ],
    [
      'someone else’s server',
      line({ logger: 'http.log.access.log0', ts: 1, status: 200 }),
      undefined,
    ],
    ['not access log', JSON.stringify({ logger: 'http', ts: 1, msg: 'server running' }), undefined],
    ['garbage', '{"logger": "http.log.access.gantry.x", "ts": ', undefined],
    ['empty', '', undefined],
  ])('%s', (_name, text, want) => {
    expect(parseAccessLine(text)).toEqual(want);
  });
});

describe('TrafficLedger', () => {
  const rec = (at: number, status: number, upstream?: string): AccessRecord =>
    upstream === undefined ? { routeId: 'r', at, status } : { routeId: 'r', at, status, upstream };

  it('sums totals from one tier and per-upstream counts from the other, over a window', () => {
    const ledger = new TrafficLedger();
    for (const [at, status] of [
      [1_000, 200],
      [1_050, 500],
      [2_000, 200],
      [2_150, 503],
    ] as const) {
      ledger.add(rec(at, status), 'total');
    }
    ledger.add(rec(1_000, 200, 'u1'), 'upstream');
    ledger.add(rec(1_050, 500, 'u1'), 'upstream');
    ledger.add(rec(2_000, 200, 'u2'), 'upstream');
    ledger.add(rec(2_150, 503), 'upstream'); // Caddy answered itself: no upstream to charge

    expect(ledger.stats('r')).toEqual({
      since: 0,
      requests: 4,
      errors5xx: 2,
      byUpstream: { u1: { requests: 2, errors5xx: 1 }, u2: { requests: 1, errors5xx: 0 } },
    });
    expect(ledger.stats('r', 2_000)).toMatchObject({
      requests: 2,
      errors5xx: 1,
      byUpstream: { u2: { requests: 1, errors5xx: 0 } },
    });
    // Rounded down to the 100 ms bucket: 2_050 still counts 2_000's bucket.
    expect(ledger.stats('r', 2_050).requests).toBe(2);
    expect(ledger.stats('other')).toMatchObject({ requests: 0, byUpstream: {} });
  });

  it('forgets what is older than the retention, and routes it is told to', () => {
    const ledger = new TrafficLedger(10_000);
    ledger.add(rec(1_000, 200), 'total');
    ledger.add(rec(20_000, 200), 'total');
    expect(ledger.stats('r')).toMatchObject({ requests: 1, since: 10_000 });
    ledger.forget('r');
    expect(ledger.stats('r').requests).toBe(0);
  });
});

describe('LogFollower', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-edge-log-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const L = (ts: number) => line({ logger: 'http.log.access.gantry.r', ts, status: 200 });

  it('reads what was appended since last time, holding back a half-written line', async () => {
    const file = join(dir, 'back-access.log');
    const follower = new LogFollower(file);
    expect(await follower.read()).toEqual([]); // not created yet
    await writeFile(file, `${L(1)}\n${L(2)}\n`);
    expect((await follower.read()).map((r) => r.at)).toEqual([1_000, 2_000]);
    const third = L(3);
    await appendFile(file, third.slice(0, 20));
    expect(await follower.read()).toEqual([]);
    await appendFile(file, `${third.slice(20)}\n`);
    expect((await follower.read()).map((r) => r.at)).toEqual([3_000]);
    await follower.close();
  });

  it('finishes a rolled-over file, then follows the new one', async () => {
    const file = join(dir, 'front-access.log');
    const follower = new LogFollower(file);
    await writeFile(file, `${L(1)}\n`);
    expect(await follower.read()).toHaveLength(1);
    await appendFile(file, `${L(2)}\n`); // written before the roll, read after it
    await rename(file, join(dir, 'front-access-2026-01-01T00-00-00.000.log'));
    await writeFile(file, `${L(3)}\n`);
    expect((await follower.read()).map((r) => r.at)).toEqual([2_000, 3_000]);
    await appendFile(file, `${L(4)}\n`);
    expect((await follower.read()).map((r) => r.at)).toEqual([4_000]);
    await follower.close();
  });
});

describe('edge port helpers', () => {
  it.each([
    ['hello-production', true],
    ['a', true],
    ['a1-b2', true],
    ['Hello', false],
    ['-a', false],
    ['a-', false],
    ['a_b', false],
    ['a.b', false],
    ['x'.repeat(64), false],
  ])('isRouteId(%j) = %s', (id, ok) => expect(isRouteId(id)).toBe(ok));

  it.each([
    ['127.0.0.1:8080', true],
    ['app.internal:80', true],
    ['[::1]:8080', true],
    ['127.0.0.1', false],
    ['127.0.0.1:0', false],
    ['127.0.0.1:70000', false],
    ['http://127.0.0.1:80', false],
  ])('isUpstream(%j) = %s', (u, ok) => expect(isUpstream(u)).toBe(ok));

  it('sums the traffic of a set of upstreams', () => {
    const stats: RouteStats = {
      since: 0,
      requests: 10,
      errors5xx: 3,
      byUpstream: { a: { requests: 6, errors5xx: 1 }, b: { requests: 4, errors5xx: 2 } },
    };
    expect(trafficOf(stats, ['b', 'b', 'c'])).toEqual({ requests: 4, errors5xx: 2 });
    expect(trafficOf(stats, ['a', 'b'])).toEqual({ requests: 10, errors5xx: 3 });
  });
});
