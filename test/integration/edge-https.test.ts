/**
 * Domains over HTTPS through the real edge (supervised front and back Caddy 2.6.2) with
 * `tls internal`: real TLS handshakes trusting only Caddy's local root, real Host headers and SNI,
 * the HTTP→HTTPS redirect, two routes on one HTTPS port told apart by name, upstream switches
 * under HTTPS load that fail nothing, and the same certificate after the front Caddy is killed.
 * Then the whole controller: two environments with their own domains, a rollout under HTTPS load.
 */
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaddyEdge } from '../../src/edge/caddy/caddy-edge.js';
import { readEdgeState } from '../../src/edge/supervisor/edge-state.js';
import { ensureEdge, stopEdge, type EdgeEndpoints } from '../../src/edge/supervisor/ensure-edge.js';
import { freePort } from '../../src/process/daemon.js';
import { isRunning } from '../../src/process/pid.js';
import {
  appName,
  closeWithInstances,
  exampleSpec,
  finishedBuild,
  finishedRollout,
  startExampleFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';
import { testEnv, uniqueName } from '../support/env.js';
import { listenUpstream, type LocalUpstream } from '../support/http-upstream.js';
import { lookupAs, startFixedRate, type FixedRateResult } from '../support/fixed-rate.js';

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly location?: string | undefined;
  /** SHA-256 of the certificate the server presented (https only). */
  readonly fingerprint?: string | undefined;
  /** Its subjectAltName, e.g. `DNS:shop.localhost`. */
  readonly altNames?: string | undefined;
}

/** One GET on a fresh connection to 127.0.0.1, `url`'s host in Host (and SNI); trusts only `ca`. */
function get(url: string, ca?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const https = url.startsWith('https:');
    const send = https ? httpsRequest : httpRequest;
    const req = send(
      url,
      { agent: false, timeout: 5_000, lookup: lookupAs('127.0.0.1'), ...(ca ? { ca } : {}) },
      (res) => {
        const cert = https ? (res.socket as TLSSocket).getPeerCertificate() : undefined;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            location: res.headers.location,
            fingerprint: cert?.fingerprint256,
            altNames: cert?.subjectaltname,
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** The answer once `url` answers 200 (a new name's certificate takes a moment to issue). */
async function answered(url: string, ca: string, timeoutMs = 10_000): Promise<Answer> {
  return waitFor(
    `200 from ${url}`,
    async () => {
      const a = await get(url, ca);
      return a.status === 200 ? a : undefined;
    },
    timeoutMs,
  );
}

function upstream(name: string): Promise<LocalUpstream> {
  return listenUpstream((req, res) => {
    // A little work, so that requests overlap the switches.
    setTimeout(() => res.end(`${name} ${req.headers['x-forwarded-proto'] ?? ''}`), 10);
  });
}

function report(label: string, r: FixedRateResult): void {
  const why = [...new Set(r.failures.map((f) => f.why))].join(', ');
  console.log(`${label}: ${r.total} requests, ${r.failed} failed${why ? ` (${why})` : ''}`);
}

describe('the edge serves domains over HTTPS (tls internal)', () => {
  const dir = join(testEnv().runDir, uniqueName('edge-https'));
  const ups: { address: string; close(): Promise<void> }[] = [];
  let endpoints: EdgeEndpoints;
  let edge: CaddyEdge;
  let ca: string;
  let httpPort: number;
  let httpsPort: number;
  let shopPort: number;
  let blogPort: number;
  let shopUrl: string;

  beforeAll(async () => {
    endpoints = await ensureEdge({ dir });
    [httpPort, httpsPort, shopPort] = [await freePort(), await freePort(), await freePort()];
    edge = new CaddyEdge({
      ...endpoints,
      name: uniqueName('https').replace(/[^a-z0-9-]/g, ''),
      https: { host: '127.0.0.1', httpPort, httpsPort, tls: 'auto' },
    });
    for (const n of ['shop-a', 'shop-b', 'blog']) ups.push(await upstream(n));
    ({ url: shopUrl } = await edge.ensureRoute({
      id: 'shop',
      listen: { host: '127.0.0.1', port: shopPort },
      domains: ['shop.localhost'],
    }));
    await edge.setUpstreams('shop', [ups[0]!.address]);
    ca = await edge.internalCaRoot();
  });

  afterAll(async () => {
    await edge?.close();
    await stopEdge(dir);
    for (const u of ups) await u.close();
  });

  it('completes a real TLS handshake for the name, trusting only Caddy’s local root', async () => {
    expect(shopUrl).toBe(`https://shop.localhost:${httpsPort}`);
    // The root the admin API gives is the file in the front's storage, where clients can read it.
    expect(await readFile(endpoints.caRootFile, 'utf8')).toBe(ca);
    const a = await answered(`${shopUrl}/`, ca);
    expect(a.body).toBe('shop-a https');
    expect(a.altNames).toBe('DNS:shop.localhost');
    // Without the root, Node refuses the certificate: it is really checked.
    await expect(get(`${shopUrl}/`)).rejects.toThrow(/certificate/i);
    // The environment's own port still serves plain HTTP, whatever the Host.
    expect((await get(`http://anything.invalid:${shopPort}/`)).body).toBe('shop-a http');
  });

  it('redirects HTTP to HTTPS on the HTTP port, keeping path and query', async () => {
    const a = await get(`http://shop.localhost:${httpPort}/cart?item=1`);
    expect(a.status).toBe(308);
    expect(a.location).toBe(`https://shop.localhost:${httpsPort}/cart?item=1`);
  });

  it('tells two routes on one HTTPS port apart by SNI and Host', async () => {
    blogPort = await freePort();
    await edge.ensureRoute({
      id: 'blog',
      listen: { host: '127.0.0.1', port: blogPort },
      domains: ['blog.localhost', 'www.blog.localhost'],
    });
    await edge.setUpstreams('blog', [ups[2]!.address]);
    const blog = await answered(`https://blog.localhost:${httpsPort}/`, ca);
    const www = await answered(`https://www.blog.localhost:${httpsPort}/`, ca);
    const shop = await get(`${shopUrl}/`, ca);
    expect([blog.body, www.body, shop.body]).toEqual(['blog https', 'blog https', 'shop-a https']);
    expect(blog.altNames).toBe('DNS:blog.localhost');
    expect(blog.fingerprint).not.toBe(shop.fingerprint);
    // A name no route has gets no certificate: the handshake fails.
    await expect(get(`https://nope.localhost:${httpsPort}/`, ca)).rejects.toThrow();
  });

  it('switches a domain route’s upstreams under HTTPS load with 0 failed requests', async () => {
    const [a, b] = [ups[0]!.address, ups[1]!.address];
    const since = Date.now();
    // New TLS connections per request, and keep-alive ones: a switch reloads only the back, so
    // even the idle connections the front holds to clients survive it.
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 });
    const opts = { ca, resolveTo: '127.0.0.1' };
    const fresh = startFixedRate(`${shopUrl}/`, 40, 5_000, opts);
    const kept = startFixedRate(`${shopUrl}/`, 40, 5_000, { ...opts, agent: keepAlive });
    let switches = 0;
    for (const [to, from] of [
      [b, a],
      [a, b],
      [b, a],
      [a, b],
      [b, a],
      [a, b],
    ] as const) {
      await sleep(400);
      await edge.setUpstreams('shop', [to]);
      await edge.drain('shop', from, { timeoutMs: 5_000 });
      switches++;
    }
    await sleep(400);
    const [r1, r2] = [await fresh.stop(), await kept.stop()];
    keepAlive.destroy();
    report(`https, new connections, ${switches} switches`, r1);
    report(`https, keep-alive, ${switches} switches`, r2);
    expect(r1.failed).toBe(0);
    expect(r2.failed).toBe(0);
    expect(r1.total).toBeGreaterThan(100);
    // The HTTPS listener's requests count in the route's stats (its access log names the route).
    const stats = await edge.stats('shop', since);
    expect(stats.requests).toBeGreaterThanOrEqual(r1.total + r2.total);
    expect(stats.errors5xx).toBe(0);
  });

  it('serves the same certificate after the front Caddy is killed and restarted', async () => {
    const before = await get(`${shopUrl}/`, ca);
    const pid = (await readEdgeState(dir)).front?.pid;
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGKILL');
    const killedAt = Date.now();
    await waitFor('the old front to be gone', async () =>
      (await isRunning(pid)) ? undefined : true,
    );
    const after = await answered(`${shopUrl}/`, ca);
    console.log(`front kill -9: HTTPS answered again after ${Date.now() - killedAt} ms`);
    expect((await readEdgeState(dir)).front?.pid).not.toBe(pid);
    expect(after.fingerprint).toBe(before.fingerprint);
    expect(await edge.internalCaRoot()).toBe(ca);
  });

  it('lets a name go when the route no longer has it; the route’s port keeps serving', async () => {
    const { url } = await edge.ensureRoute({
      id: 'blog',
      listen: { host: '127.0.0.1', port: blogPort },
    });
    expect(url).toBe(`http://127.0.0.1:${blogPort}`);
    const gone = await get(`https://blog.localhost:${httpsPort}/`, ca).catch(() => undefined);
    expect(gone?.status === 200).toBe(false);
    expect((await get(`${url}/`)).body).toBe('blog http');
    expect((await get(`${shopUrl}/`, ca)).body).toMatch(/^shop-. https$/);
    await edge.removeRoute('blog');
  });
});

describe('a controller serves two environments on their domains over HTTPS', () => {
  let f: Fixture | undefined;
  const app = appName('tlsapp');
  let httpsPort: number;

  beforeAll(async () => {
    httpsPort = await freePort();
    const httpPort = await freePort();
    const spec = (await exampleSpec(app)).replace(
      '  production: { branch: main }',
      [
        `  production: { branch: main, domains: [${app}.localhost, www.${app}.localhost] }`,
        `  preview: { branch: main, replicas: 1, domain: preview.${app}.localhost }`,
      ].join('\n'),
    );
    expect(spec).toContain('preview:');
    f = await startExampleFixture(app, {
      edge: [`httpPort: ${httpPort}`, `httpsPort: ${httpsPort}`, 'tls: internal'],
    });
    await f.wt.write('gantry.yaml', spec);
  });

  afterAll(async () => {
    await closeWithInstances(f, app);
  });

  it('routes each name to its environment and rolls out under HTTPS load with 0 failures', async () => {
    const fx = f!;
    await fx.wt.write('www/index.html', '<h1>v1</h1>\n');
    const v1 = await fx.push('github', 'v1');
    expect((await finishedBuild(fx, app, v1)).status).toBe('succeeded');
    expect((await finishedRollout(fx, app, v1)).outcome).toBe('succeeded');
    expect((await finishedRollout(fx, app, v1, 'preview')).outcome).toBe('succeeded');

    // Any token may read the root; it is the one Caddy keeps in the managed edge's storage.
    const res = await fetch(`${fx.controller.url}/api/edge/ca`, {
      headers: { authorization: `Bearer ${fx.token}` },
    });
    expect(res.headers.get('content-type')).toMatch(/application\/x-pem-file/);
    const ca = await res.text();
    expect(ca).toBe(
      await readFile(
        join(fx.dataDir, 'edge', 'front', 'storage', 'pki', 'authorities', 'local', 'root.crt'),
        'utf8',
      ),
    );

    const prod = `https://${app}.localhost:${httpsPort}`;
    const preview = `https://preview.${app}.localhost:${httpsPort}`;
    expect((await answered(`${prod}/`, ca)).body).toContain('v1');
    expect((await answered(`https://www.${app}.localhost:${httpsPort}/`, ca)).body).toContain('v1');
    expect((await answered(`${preview}/`, ca)).body).toContain('v1');
    // The record shows where each environment is reached, and with which names.
    const [p, v] = [
      await fx.controller.rollouts.env(app, 'production'),
      await fx.controller.rollouts.env(app, 'preview'),
    ];
    expect(p.route).toMatchObject({
      url: prod,
      domains: [`${app}.localhost`, `www.${app}.localhost`],
    });
    expect(v.route).toMatchObject({ url: preview, domains: [`preview.${app}.localhost`] });

    // v2 rolls out to both environments while production is under HTTPS load.
    const load = startFixedRate(`${prod}/`, 25, 5_000, { ca, resolveTo: '127.0.0.1' });
    await fx.wt.write('www/index.html', '<h1>v2</h1>\n');
    const v2 = await fx.push('github', 'v2');
    expect((await finishedBuild(fx, app, v2)).status).toBe('succeeded');
    const rollout = await finishedRollout(fx, app, v2);
    await sleep(500);
    const result = await load.stop();
    report(`https on ${app}.localhost during a rollout`, result);
    expect(rollout.outcome).toBe('succeeded');
    expect(result.failed).toBe(0);
    expect(result.total).toBeGreaterThan(50);
    expect((await get(`${prod}/`, ca)).body).toContain('v2');
    expect((await finishedRollout(fx, app, v2, 'preview')).outcome).toBe('succeeded');
    expect((await get(`${preview}/`, ca)).body).toContain('v2');
  }, 400_000);
});
