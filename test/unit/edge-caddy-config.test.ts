import { describe, expect, it } from 'vitest';
import { caddyInitialConfig } from '../../src/edge/supervisor/caddy-process.js';
import {
  EMPTY_BACK_STATE,
  UPSTREAM_TO_LOG,
  backServerConfig,
  backStateOf,
  withLive,
  withoutDraining,
  type BackState,
} from '../../src/edge/caddy/back-config.js';
import {
  frontRoutesOf,
  frontServerConfig,
  listenOf,
  withFrontRoute,
  type FrontRoute,
} from '../../src/edge/caddy/front-config.js';
import { canonicalJson } from '../../src/edge/caddy/json.js';
import { accessLogConfig } from '../../src/edge/caddy/log-config.js';
import { isGantryError } from '../../src/errors.js';

const A = '127.0.0.1:32001';
const B = '127.0.0.1:32002';
const C = '127.0.0.1:32003';

const proxy = (upstreams: string[], retry: boolean) => ({
  handler: 'reverse_proxy',
  upstreams: upstreams.map((dial) => ({ dial })),
  load_balancing: {
    selection_policy: { policy: 'round_robin' },
    ...(retry ? { try_duration: '5s', try_interval: '100ms' } : {}),
  },
  health_checks: { passive: { fail_duration: '3s', max_fails: 1 } },
  transport: { protocol: 'http', dial_timeout: '2s' },
  headers: {
    request: {
      set: {
        'X-Forwarded-For': ['{http.request.header.X-Forwarded-For}'],
        'X-Forwarded-Proto': ['{http.request.header.X-Forwarded-Proto}'],
        'X-Forwarded-Host': ['{http.request.header.X-Forwarded-Host}'],
      },
    },
    response: { set: { 'X-Gantry-Upstream': ['{http.reverse_proxy.upstream.hostport}'] } },
  },
});

describe('backServerConfig', () => {
  it('balances over the live upstreams, retrying only bodiless requests, and holds the draining', () => {
    expect(backServerConfig('e1', 'hello-prod', { live: [B, C], draining: [A] })).toEqual({
      '@id': 'gantry-back-hello-prod',
      listen: ['unix/@gantry-e1-hello-prod'],
      automatic_https: { disable: true },
      logs: { default_logger_name: 'gantry.hello-prod' },
      routes: [
        {
          '@id': 'gantry-drain-hello-prod',
          match: [{ not: [{}] }],
          handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: A }] }],
        },
        {
          '@id': 'gantry-retry-hello-prod',
          match: [{ method: ['GET', 'HEAD', 'OPTIONS'] }],
          handle: [UPSTREAM_TO_LOG, proxy([B, C], true)],
        },
        { '@id': 'gantry-live-hello-prod', handle: [UPSTREAM_TO_LOG, proxy([B, C], false)] },
      ],
    });
  });

  it('answers 503 itself while there is no upstream, and holds nothing when nothing drains', () => {
    expect(backServerConfig('e1', 'r', EMPTY_BACK_STATE).routes).toEqual([
      {
        '@id': 'gantry-live-r',
        handle: [
          {
            handler: 'static_response',
            status_code: 503,
            headers: { 'Retry-After': ['5'] },
            body: 'no instance is serving this route yet\n',
          },
        ],
      },
    ]);
  });

  it.each<[string, BackState]>([
    ['empty', EMPTY_BACK_STATE],
    ['live only', { live: [A, B], draining: [] }],
    ['draining only', { live: [], draining: [A] }],
    ['both', { live: [C], draining: [A, B] }],
  ])('reads back what it wrote: %s', (_name, state) => {
    // Through JSON, as Caddy hands it back.
    const fromCaddy: unknown = JSON.parse(canonicalJson(backServerConfig('e', 'r', state)));
    expect(backStateOf('r', fromCaddy)).toEqual(state);
  });

  it.each([null, 'x', {}, { routes: 'no' }, { routes: [null, { '@id': 'gantry-live-r' }] }])(
    'reads an unexpected shape as empty: %j',
    (json) => expect(backStateOf('r', json)).toEqual(EMPTY_BACK_STATE),
  );
});

describe('back state transitions', () => {
  it.each<[string, BackState, string[], BackState]>([
    ['first upstreams', EMPTY_BACK_STATE, [A], { live: [A], draining: [] }],
    ['add one', { live: [A], draining: [] }, [A, B], { live: [A, B], draining: [] }],
    ['replace: the old drains', { live: [A], draining: [] }, [B], { live: [B], draining: [A] }],
    [
      'replace again: both drain',
      { live: [B], draining: [A] },
      [C],
      { live: [C], draining: [A, B] },
    ],
    ['back to a draining one', { live: [B], draining: [A] }, [A], { live: [A], draining: [B] }],
    ['duplicates collapse', EMPTY_BACK_STATE, [A, A, B], { live: [A, B], draining: [] }],
    ['empty: all drain', { live: [A, B], draining: [] }, [], { live: [], draining: [A, B] }],
  ])('%s', (_name, from, upstreams, to) => {
    expect(withLive(from, upstreams)).toEqual(to);
  });

  it('lets go of a drained upstream only', () => {
    expect(withoutDraining({ live: [C], draining: [A, B] }, A)).toEqual({
      live: [C],
      draining: [B],
    });
    expect(withoutDraining({ live: [C], draining: [] }, C)).toEqual({ live: [C], draining: [] });
  });
});

describe('frontServerConfig', () => {
  const toBack = (socket: string) => ({
    handler: 'reverse_proxy',
    upstreams: [{ dial: socket }],
    transport: { protocol: 'http', keep_alive: { enabled: false } },
    load_balancing: { try_duration: '5s', try_interval: '100ms' },
    headers: { response: { delete: ['X-Gantry-Upstream'] } },
  });

  it('puts host routes first, sorted, the catch-all last, and names each route’s logger', () => {
    const routes: FrontRoute[] = [
      { id: 'web-prod' },
      { id: 'b-prod', domain: 'b.example.com' },
      { id: 'a-prod', domain: 'a.example.com' },
    ];
    expect(frontServerConfig('e1', { host: '127.0.0.1', port: 8080 }, routes)).toEqual({
      '@id': 'gantry-front-127_0_0_1-8080',
      listen: ['127.0.0.1:8080'],
      automatic_https: { disable: true },
      logs: {
        default_logger_name: 'gantry.web-prod',
        logger_names: { 'a.example.com': 'gantry.a-prod', 'b.example.com': 'gantry.b-prod' },
      },
      routes: [
        {
          '@id': 'gantry-route-a-prod',
          match: [{ host: ['a.example.com'] }],
          handle: [toBack('unix/@gantry-e1-a-prod')],
        },
        {
          '@id': 'gantry-route-b-prod',
          match: [{ host: ['b.example.com'] }],
          handle: [toBack('unix/@gantry-e1-b-prod')],
        },
        { '@id': 'gantry-route-web-prod', handle: [toBack('unix/@gantry-e1-web-prod')] },
      ],
    });
  });

  it('answers 404 for unknown hosts when no route takes them all', () => {
    const server = frontServerConfig('e1', { host: '127.0.0.1', port: 80 }, [
      { id: 'a', domain: 'a.localhost' },
    ]);
    expect(server.routes).toContainEqual({
      handle: [{ handler: 'static_response', status_code: 404, body: 'no route for this host\n' }],
    });
    expect(server.logs).toMatchObject({ default_logger_name: 'gantry._unrouted' });
  });

  it('reads its routes and listener back', () => {
    const routes: FrontRoute[] = [{ id: 'x' }, { id: 'y', domain: 'y.localhost' }];
    const server: unknown = JSON.parse(
      canonicalJson(frontServerConfig('e', { host: '127.0.0.1', port: 9000 }, routes)),
    );
    expect(frontRoutesOf(server)).toEqual([{ id: 'y', domain: 'y.localhost' }, { id: 'x' }]);
    expect(listenOf(server)).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(frontRoutesOf({ routes: [{ '@id': 'someone-else' }, 7] })).toEqual([]);
  });

  it.each<[string, FrontRoute[], FrontRoute, FrontRoute[] | 'clash']>([
    ['adds', [{ id: 'a', domain: 'a.x' }], { id: 'b' }, [{ id: 'a', domain: 'a.x' }, { id: 'b' }]],
    ['replaces by id', [{ id: 'a', domain: 'a.x' }], { id: 'a' }, [{ id: 'a' }]],
    ['second catch-all', [{ id: 'a' }], { id: 'b' }, 'clash'],
    ['same domain twice', [{ id: 'a', domain: 'd.x' }], { id: 'b', domain: 'd.x' }, 'clash'],
  ])('withFrontRoute %s', (_name, routes, route, want) => {
    if (want === 'clash') {
      expect(() => withFrontRoute(routes, route)).toThrow(
        expect.toSatisfy((e: unknown) => isGantryError(e, 'GANTRY_ERR_EDGE_REJECTED')),
      );
    } else {
      expect(withFrontRoute(routes, route)).toEqual(want);
    }
  });
});

describe('accessLogConfig', () => {
  it('writes our access loggers to a file, without request or response headers', () => {
    expect(accessLogConfig('/var/log/back-access.log', 'back')).toEqual({
      writer: {
        output: 'file',
        filename: '/var/log/back-access.log',
        roll_size_mb: 50,
        roll_keep: 3,
      },
      encoder: {
        format: 'filter',
        wrap: { format: 'json' },
        fields: {
          'request>headers': { filter: 'delete' },
          resp_headers: { filter: 'delete' },
          user_id: { filter: 'rename', name: 'upstream' },
        },
      },
      level: 'INFO',
      include: ['http.log.access.gantry'],
    });
  });

  it('drops response headers and user_id on the front, which has no upstream to log', () => {
    expect(accessLogConfig('/f.log', 'front').encoder).toMatchObject({
      fields: { resp_headers: { filter: 'delete' }, user_id: { filter: 'delete' } },
    });
  });
});

describe('caddyInitialConfig', () => {
  it('has an admin API on a Unix socket only, no autosave, and no server of its own', () => {
    expect(caddyInitialConfig('/srv/caddy')).toEqual({
      admin: { listen: 'unix//srv/caddy/admin.sock', config: { persist: false } },
      storage: { module: 'file_system', root: '/srv/caddy/storage' },
      logging: {
        logs: {
          default: {
            writer: { output: 'stderr' },
            level: 'INFO',
            exclude: ['http.log.access.gantry'],
          },
        },
      },
      apps: { http: { servers: {} } },
    });
  });
});

describe('canonicalJson', () => {
  it('ignores key order, keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [2, 1] }, b: 1 }),
    );
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });
});
