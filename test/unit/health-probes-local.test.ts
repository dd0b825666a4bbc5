/** The network probes against tiny local servers, including one that mimics docker-proxy. */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe } from '../../src/health/probe.js';
import { freePort } from '../../src/process/daemon.js';
import type { Instance, Runtime } from '../../src/runtime/runtime.js';

const instance = { id: 'local' } as Instance;
const runtime = {} as Runtime;
let http: HttpServer;
let closer: Server;
let httpPort = 0;
let closerPort = 0;

function listen(server: HttpServer | Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a !== null ? a.port : 0);
    });
  });
}

beforeAll(async () => {
  http = createHttpServer((req, res) => {
    if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2_000);
    res.statusCode = req.url === '/healthz' ? 200 : 503;
    res.end('x');
  });
  // What docker-proxy does when nothing listens in the container: accept, then close at once.
  closer = createServer((socket) => socket.destroy());
  [httpPort, closerPort] = await Promise.all([listen(http), listen(closer)]);
});

afterAll(async () => {
  http.closeAllConnections();
  await new Promise((r) => http.close(r));
  await new Promise((r) => closer.close(r));
});

describe('probe (local servers)', () => {
  it('http: expected status is ok, with the status and a timing in the detail', async () => {
    const r = await probe(
      { kind: 'http', path: '/healthz', expect: 200 },
      { hostPort: httpPort, instance },
      runtime,
      1_000,
    );
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(r.detail).toMatch(/^GET \/healthz → 200 after \d+ ms$/);
  });

  it('http: another status fails', async () => {
    const r = await probe(
      { kind: 'http', path: '/bad', expect: 200 },
      { hostPort: httpPort, instance },
      runtime,
      1_000,
    );
    expect(r).toMatchObject({ ok: false, status: 503 });
    expect(r.detail).toMatch(/→ 503 after \d+ ms \(expected 200\)$/);
  });

  it('http: no answer in time fails with the timeout', async () => {
    const r = await probe(
      { kind: 'http', path: '/slow', expect: 200 },
      { hostPort: httpPort, instance },
      runtime,
      200,
    );
    expect(r).toMatchObject({ ok: false, detail: 'GET /slow: no answer within 200 ms' });
  });

  it('http: refused connection', async () => {
    const port = await freePort();
    const r = await probe(
      { kind: 'http', path: '/healthz', expect: 200 },
      { hostPort: port, instance },
      runtime,
      1_000,
    );
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/^GET \/healthz: ECONNREFUSED after \d+ ms$/);
  });

  it('tcp: a listener is ok; a refused port and an accept-then-close proxy are not', async () => {
    const ok = await probe({ kind: 'tcp' }, { hostPort: httpPort, instance }, runtime, 1_000);
    expect(ok.ok).toBe(true);
    expect(ok.detail).toMatch(/^connected in \d+ ms$/);
    const refused = await probe(
      { kind: 'tcp' },
      { hostPort: await freePort(), instance },
      runtime,
      1_000,
    );
    expect(refused).toMatchObject({ ok: false, detail: 'connect ECONNREFUSED' });
    const closed = await probe({ kind: 'tcp' }, { hostPort: closerPort, instance }, runtime, 1_000);
    expect(closed.ok).toBe(false);
    expect(closed.detail).toMatch(/closed by the peer/);
  });

  it('no published port fails without touching the network', async () => {
    const r = await probe(
      { kind: 'http', path: '/', expect: 200 },
      { hostPort: undefined, instance },
      runtime,
      1_000,
    );
    expect(r).toMatchObject({ ok: false, detail: 'no published port (instance not running?)' });
  });
});
