/** Health probes against real containers, through their ports published on 127.0.0.1. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/process/daemon.js';
import { probe, type ProbeResult } from '../../src/health/probe.js';
import { Prober } from '../../src/health/prober.js';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';
import type { Instance, InstanceSpec } from '../../src/runtime/runtime.js';
import { CONTRACT_APP_PORT, buildContractImage } from '../contract/runtime-contract.js';
import { testEnv, uniqueName } from '../support/env.js';

const runtime = new DockerRuntime({
  hosts: [{ name: 'local', endpoint: 'unix:///var/run/docker.sock' }],
});
const app = uniqueName('hp');
let image = '';
let web: Instance;
let idle: Instance;

function spec(slot: string, vars: Record<string, string> = {}): InstanceSpec {
  return {
    app,
    env: 'test',
    revision: 'hea17h0000000000000000000000000000000001',
    rolloutId: 'r1',
    slot,
    image,
    port: CONTRACT_APP_PORT,
    vars,
    secrets: {},
    host: 'local',
  };
}

const target = (instance: Instance) => ({ hostPort: instance.hostPort, instance });

beforeAll(async () => {
  const env = testEnv();
  image = await buildContractImage({
    registry: env.registry,
    app,
    version: '1',
    dir: join(env.runDir, app),
  });
  [web, idle] = await Promise.all([
    runtime.start(spec('web')),
    runtime.start(spec('idle', { MODE: 'idle' })),
  ]);
  // httpd binds within milliseconds of the start; wait for it rather than guess.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const r = await probe(
      { kind: 'http', path: '/healthz', expect: 200 },
      target(web),
      runtime,
      1_000,
    );
    if (r.ok) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('the web instance never answered /healthz');
});

afterAll(async () => {
  for (const i of await runtime.list({ app }).catch(() => []))
    await runtime.remove(i).catch(() => undefined);
  if (image) await runtime.removeImages('local', [], app).catch(() => undefined);
});

describe('http probe', () => {
  it('is ok on the expected status, with the timing as evidence', async () => {
    const r = await probe(
      { kind: 'http', path: '/healthz', expect: 200 },
      target(web),
      runtime,
      2_000,
    );
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(r.detail).toMatch(/^GET \/healthz → 200 after \d+ ms$/);
    expect(r.at).toBeGreaterThan(Date.now() - 5_000);
  });

  it('fails on another status', async () => {
    const r = await probe(
      { kind: 'http', path: '/cgi-bin/status?503', expect: 200 },
      target(web),
      runtime,
      2_000,
    );
    expect(r).toMatchObject({ ok: false, status: 503 });
    expect(r.detail).toMatch(/^GET \/cgi-bin\/status\?503 → 503 after \d+ ms \(expected 200\)$/);
  });

  it('fails when no answer comes in time', async () => {
    const t0 = Date.now();
    const r = await probe(
      { kind: 'http', path: '/cgi-bin/slow?3', expect: 200 },
      target(web),
      runtime,
      300,
    );
    expect(r).toMatchObject({ ok: false, detail: 'GET /cgi-bin/slow?3: no answer within 300 ms' });
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('fails when nothing listens behind the published port', async () => {
    const r = await probe(
      { kind: 'http', path: '/healthz', expect: 200 },
      target(idle),
      runtime,
      2_000,
    );
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/^GET \/healthz: /);
  });
});

describe('tcp probe', () => {
  it('is ok when the app listens', async () => {
    const r = await probe({ kind: 'tcp' }, target(web), runtime, 2_000);
    expect(r.ok).toBe(true);
    expect(r.detail).toMatch(/^connected in \d+ ms$/);
  });

  it('sees through docker-proxy: accepted then closed is not ok', async () => {
    const r = await probe({ kind: 'tcp' }, target(idle), runtime, 2_000);
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/closed by the peer/);
  });

  it('fails with ECONNREFUSED on a port nobody holds', async () => {
    const r = await probe(
      { kind: 'tcp' },
      { hostPort: await freePort(), instance: web },
      runtime,
      2_000,
    );
    expect(r).toMatchObject({ ok: false, detail: 'connect ECONNREFUSED' });
  });
});

describe('exec probe', () => {
  it('is ok on exit 0', async () => {
    const r = await probe(
      { kind: 'exec', command: ['sh', '-c', 'test -f /www/healthz'] },
      target(web),
      runtime,
      5_000,
    );
    expect(r).toMatchObject({ ok: true, detail: 'exit 0' });
  });

  it('fails on another exit code, quoting the last line of output', async () => {
    const r = await probe(
      { kind: 'exec', command: ['sh', '-c', 'echo checking; echo "db unreachable"; exit 1'] },
      target(web),
      runtime,
      5_000,
    );
    expect(r).toMatchObject({ ok: false, detail: 'exit 1: db unreachable' });
  });

  it('fails past its timeout', async () => {
    const r = await probe({ kind: 'exec', command: ['sleep', '5'] }, target(web), runtime, 300);
    expect(r).toMatchObject({ ok: false, detail: 'exec: no exit within 300 ms' });
  });
});

describe('Prober', () => {
  it('probes on its interval and reports each result, until unwatched', async () => {
    const results: ProbeResult[] = [];
    const prober = new Prober(runtime, (_id, r) => results.push(r));
    prober.watch(target(web), {
      check: { kind: 'http', path: '/healthz', expect: 200 },
      intervalMs: 100,
      timeoutMs: 1_000,
    });
    const deadline = Date.now() + 5_000;
    while (results.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    prober.unwatch(web.id);
    const count = results.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(count).toBeGreaterThanOrEqual(3);
    expect(results.length).toBe(count);
    expect(results.every((r) => r.ok)).toBe(true);
  });
});
