import http from 'node:http';
import net from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { GantryError, isGantryError } from '../../src/errors.js';
import { proxiedHttpProbe } from '../../src/health/proxied-probe.js';
import {
  classifyProxyAnswer,
  classifyProxyError,
  podProxyGet,
} from '../../src/runtime/kubernetes/pod-proxy.js';
import type { Instance, InstanceProbes } from '../../src/runtime/runtime.js';

const status = (code: number, message: string): string =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code });
const JSON_TYPE = 'application/json';

describe('who a pod-proxy failure belongs to', () => {
  const answers: Array<[string, { status: number; body: string; contentType: string }, string]> = [
    ['the pod answers 200', { status: 200, body: 'ok', contentType: 'text/plain' }, 'answer'],
    [
      'the pod answers 503 itself',
      { status: 503, body: 'down', contentType: 'text/plain' },
      'answer',
    ],
    [
      'the pod answers 500 with JSON of its own',
      { status: 500, body: '{"error":"db"}', contentType: JSON_TYPE },
      'answer',
    ],
    [
      'the API server cannot reach the pod',
      {
        status: 503,
        body: status(
          503,
          'error trying to reach service: dial tcp 10.240.0.5:8080: connect: connection refused',
        ),
        contentType: JSON_TYPE,
      },
      'pod-failed',
    ],
    [
      'the API server is shutting down',
      { status: 503, body: status(503, 'apiserver is shutting down'), contentType: JSON_TYPE },
      'api-unavailable',
    ],
    [
      'the API server throttles',
      { status: 429, body: status(429, 'too many requests'), contentType: JSON_TYPE },
      'api-unavailable',
    ],
    [
      'etcd times out under the API server',
      {
        status: 504,
        body: status(504, 'Timeout: request did not complete'),
        contentType: JSON_TYPE,
      },
      'api-unavailable',
    ],
    [
      'the pod is gone (404 Status)',
      { status: 404, body: status(404, 'pods "p" not found'), contentType: JSON_TYPE },
      'answer',
    ],
  ];
  it.each(answers)('%s', (_name, res, kind) => {
    expect(classifyProxyAnswer(res).kind).toBe(kind);
  });

  const errors: Array<[string, unknown, string | undefined]> = [
    [
      'connection refused',
      Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
      'api-unavailable',
    ],
    ['connection reset', Object.assign(new Error('x'), { code: 'ECONNRESET' }), 'api-unavailable'],
    [
      'timeout before the API server took the connection',
      Object.assign(new Error('x'), { name: 'TimeoutError', connected: false }),
      'api-unavailable',
    ],
    [
      'timeout once connected (the pod is slow)',
      Object.assign(new Error('x'), { name: 'TimeoutError', connected: true }),
      undefined,
    ],
    ['anything else', new Error('boom'), undefined],
  ];
  it.each(errors)('%s', (_name, e, kind) => {
    expect(classifyProxyError(e)?.kind).toBe(kind);
  });
});

describe('podProxyGet against real sockets', () => {
  const closers: Array<() => void> = [];
  afterEach(() => {
    for (const c of closers.splice(0)) c();
  });

  function kubeconfig(server: string): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    return kc;
  }

  async function listen(server: net.Server): Promise<number> {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => server.close());
    return (server.address() as net.AddressInfo).port;
  }

  it('a relay holding the connection (no TLS handshake) is the API server away: no verdict', async () => {
    const held: net.Socket[] = [];
    const port = await listen(net.createServer((s) => held.push(s)));
    closers.push(() => held.forEach((s) => s.destroy()));
    const e: unknown = await podProxyGet(
      kubeconfig(`https://127.0.0.1:${port}`),
      'ns',
      'p',
      '80',
      '/healthz',
      300,
      300,
    ).catch((x: unknown) => x);
    expect(isGantryError(e, 'GANTRY_ERR_KUBERNETES_UNAVAILABLE')).toBe(true);
  });

  it('a closed port is the API server away', async () => {
    const port = await listen(net.createServer());
    closers.pop()?.();
    await new Promise((r) => setTimeout(r, 50));
    const e: unknown = await podProxyGet(
      kubeconfig(`https://127.0.0.1:${port}`),
      'ns',
      'p',
      '80',
      '/',
      300,
    ).catch((x: unknown) => x);
    expect(isGantryError(e, 'GANTRY_ERR_KUBERNETES_UNAVAILABLE')).toBe(true);
  });

  it('an API server that took the request and got no answer from the pod: the pod timed out', async () => {
    const port = await listen(http.createServer(() => undefined));
    const e: unknown = await podProxyGet(
      kubeconfig(`http://127.0.0.1:${port}`),
      'ns',
      'p',
      '80',
      '/',
      300,
    ).catch((x: unknown) => x);
    expect(isGantryError(e)).toBe(false);
    expect((e as Error).name).toBe('TimeoutError');
  });

  it('never sends a path that could leave the pod proxy', async () => {
    let asked = false;
    const port = await listen(
      http.createServer((_req, res) => {
        asked = true;
        res.end();
      }),
    );
    const kc = kubeconfig(`http://127.0.0.1:${port}`);
    for (const path of ['/../../../api/v1/secrets', '/%2e%2e/x']) {
      const e: unknown = await podProxyGet(kc, 'ns', 'p', '80', path, 500).catch((x: unknown) => x);
      expect(isGantryError(e, 'GANTRY_ERR_SPEC_INVALID')).toBe(true);
    }
    expect(asked).toBe(false);
  });

  it('asks the pod proxy path and returns the pod status', async () => {
    let asked = '';
    const port = await listen(
      http.createServer((req, res) => {
        asked = req.url ?? '';
        res.writeHead(204).end();
      }),
    );
    const res = await podProxyGet(
      kubeconfig(`http://127.0.0.1:${port}`),
      'apps',
      'web-1',
      '8080',
      'healthz',
      1_000,
    );
    expect(res.status).toBe(204);
    expect(asked).toBe('/api/v1/namespaces/apps/pods/web-1:8080/proxy/healthz');
  });
});

describe('proxiedHttpProbe', () => {
  const instance = { id: 'i', name: 'p' } as Instance;
  const probes = (httpGet: InstanceProbes['httpGet']): InstanceProbes => ({
    httpGet,
    ready: () => undefined,
  });

  it('gives no verdict when the API server could not be asked', async () => {
    const r = await proxiedHttpProbe(
      probes(() => Promise.reject(new GantryError('GANTRY_ERR_KUBERNETES_UNAVAILABLE', 'away'))),
      instance,
      '/healthz',
      200,
      500,
    );
    expect(r).toMatchObject({ ok: false, noVerdict: true, detail: 'GET /healthz: away' });
  });

  it('fails when the pod cannot be reached or answers wrong', async () => {
    const refused = await proxiedHttpProbe(
      probes(() => Promise.reject(new Error('pod proxy: connection refused'))),
      instance,
      '/healthz',
      200,
      500,
    );
    expect(refused.ok).toBe(false);
    expect(refused.noVerdict).toBeUndefined();
    const wrong = await proxiedHttpProbe(
      probes(() => Promise.resolve({ status: 500 })),
      instance,
      '/healthz',
      200,
      500,
    );
    expect(wrong).toMatchObject({ ok: false, status: 500 });
  });
});
