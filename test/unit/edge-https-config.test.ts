import { describe, expect, it } from 'vitest';
import {
  DEFAULT_HTTPS,
  domainRoutesOf,
  httpsServerConfig,
  isLocalName,
  issuerOf,
  tlsAppConfig,
  withDomainRoute,
  withHttps,
  type DomainRoute,
  type HttpsOptions,
} from '../../src/edge/caddy/https-config.js';
import { toBack } from '../../src/edge/caddy/front-config.js';
import { canonicalJson } from '../../src/edge/caddy/json.js';
import { isGantryError } from '../../src/errors.js';

const OPTS: HttpsOptions = { host: '127.0.0.1', httpPort: 18080, httpsPort: 18443, tls: 'auto' };

describe('isLocalName and issuerOf', () => {
  it.each<[string, boolean]>([
    ['localhost', true],
    ['shop.localhost', true],
    ['a.b.localhost', true],
    ['blog.test', true],
    ['printer.local', true],
    ['wiki.internal', true],
    ['nas.home.arpa', true],
    ['www.example', true],
    ['127.0.0.1', true],
    ['::1', true],
    ['shop.example.com', false],
    ['localhost.example.com', false],
    ['mytest', false],
    ['latest.io', false],
  ])('%s is local: %s', (name, local) => {
    expect(isLocalName(name)).toBe(local);
    expect(issuerOf(name, 'auto')).toBe(local ? 'internal' : 'acme');
    expect(issuerOf(name, 'internal')).toBe('internal');
  });
});

describe('withDomainRoute', () => {
  const a: DomainRoute = { id: 'a-prod', domains: ['a.localhost'] };
  it.each<[string, DomainRoute[], DomainRoute, DomainRoute[] | 'clash']>([
    [
      'adds',
      [a],
      { id: 'b-prod', domains: ['b.localhost'] },
      [a, { id: 'b-prod', domains: ['b.localhost'] }],
    ],
    [
      'replaces by id, names lower-cased, sorted, once',
      [a],
      { id: 'a-prod', domains: ['Z.localhost', 'a.localhost', 'z.localhost'] },
      [{ id: 'a-prod', domains: ['a.localhost', 'z.localhost'] }],
    ],
    ['no names: the route leaves', [a], { id: 'a-prod', domains: [] }, []],
    ['no names, never there: nothing', [a], { id: 'b-prod', domains: [] }, [a]],
    [
      'a name another route has',
      [a],
      { id: 'b-prod', domains: ['x.test', 'a.localhost'] },
      'clash',
    ],
  ])('%s', (_name, routes, route, want) => {
    if (want === 'clash') {
      let caught: unknown;
      try {
        withDomainRoute(routes, route);
      } catch (e) {
        caught = e;
      }
      expect(isGantryError(caught) && caught.code).toBe('GANTRY_ERR_EDGE_REJECTED');
      expect(String(caught)).toMatch(/a\.localhost: route a-prod already does/);
    } else {
      expect(withDomainRoute(routes, route)).toEqual(want);
    }
  });
});

describe('httpsServerConfig', () => {
  it('routes by host to each back, logs by route, 404s other hosts, and turns TLS on', () => {
    const server = httpsServerConfig('e1', OPTS, [
      { id: 'shop-prod', domains: ['shop.localhost', 'www.shop.localhost'] },
      { id: 'blog-prod', domains: ['blog.localhost'] },
    ]);
    expect(server).toEqual({
      '@id': 'gantry-https-127_0_0_1-18443',
      listen: ['127.0.0.1:18443'],
      tls_connection_policies: [{}],
      logs: {
        default_logger_name: 'gantry._unrouted',
        logger_names: {
          'blog.localhost': 'gantry.blog-prod',
          'shop.localhost': 'gantry.shop-prod',
          'www.shop.localhost': 'gantry.shop-prod',
        },
      },
      routes: [
        {
          '@id': 'gantry-domains-blog-prod',
          match: [{ host: ['blog.localhost'] }],
          handle: [toBack('e1', 'blog-prod')],
        },
        {
          '@id': 'gantry-domains-shop-prod',
          match: [{ host: ['shop.localhost', 'www.shop.localhost'] }],
          handle: [toBack('e1', 'shop-prod')],
        },
        {
          handle: [
            { handler: 'static_response', status_code: 404, body: 'no route for this host\n' },
          ],
        },
      ],
    });
    // Automatic HTTPS stays on for this server (certificates, redirects): no `automatic_https`.
    expect(server).not.toHaveProperty('automatic_https');
  });
});

describe('tlsAppConfig', () => {
  const routes: DomainRoute[] = [
    { id: 'shop-prod', domains: ['shop.example.com', 'shop.localhost'] },
    { id: 'blog-prod', domains: ['blog.test'] },
  ];
  it.each<[string, HttpsOptions, DomainRoute[], unknown]>([
    ['no names: no TLS app', OPTS, [], undefined],
    [
      'auto: local names internal, public ones Caddy’s default ACME issuers',
      OPTS,
      routes,
      {
        automation: {
          policies: [
            {
              subjects: ['blog.test', 'shop.localhost'],
              issuers: [{ module: 'internal', ca: 'local' }],
            },
            { subjects: ['shop.example.com'] },
          ],
        },
      },
    ],
    [
      'auto with an ACME account and directory',
      { ...OPTS, acme: { email: 'ops@example.com', ca: 'https://acme.example/dir' } },
      [{ id: 'shop-prod', domains: ['shop.example.com'] }],
      {
        automation: {
          policies: [
            {
              subjects: ['shop.example.com'],
              issuers: [
                { module: 'acme', ca: 'https://acme.example/dir', email: 'ops@example.com' },
              ],
            },
          ],
        },
      },
    ],
    [
      'internal: every name, public ones too',
      { ...OPTS, tls: 'internal' },
      routes,
      {
        automation: {
          policies: [
            {
              subjects: ['blog.test', 'shop.example.com', 'shop.localhost'],
              issuers: [{ module: 'internal', ca: 'local' }],
            },
          ],
        },
      },
    ],
  ])('%s', (_name, opts, rs, want) => {
    expect(tlsAppConfig(opts, rs)).toEqual(want);
  });
});

describe('withHttps and domainRoutesOf', () => {
  const envServer = { listen: ['127.0.0.1:8800'], automatic_https: { disable: true }, routes: [] };
  const base = {
    http: { servers: { 'gantry-front-127_0_0_1-8800': envServer } },
    pki: { certificate_authorities: { local: { install_trust: false } } },
  };
  const shop: DomainRoute = { id: 'shop-prod', domains: ['shop.localhost'] };

  it('adds the HTTPS server, http_port and TLS policies, keeping the rest', () => {
    const apps = withHttps(base, 'e1', OPTS, [shop]);
    expect(apps).toEqual({
      http: {
        http_port: 18080,
        servers: {
          'gantry-front-127_0_0_1-8800': envServer,
          'gantry-https-127_0_0_1-18443': httpsServerConfig('e1', OPTS, [shop]),
        },
      },
      tls: tlsAppConfig(OPTS, [shop]),
      pki: base.pki,
    });
    expect(domainRoutesOf(apps)).toEqual([shop]);
  });

  it.each<[string, unknown, DomainRoute[], unknown]>([
    ['no names, never had any: unchanged', base, [], base],
    ['the last name leaves: back to what it was', withHttps(base, 'e1', OPTS, [shop]), [], base],
    [
      'moved to another port: the old listener goes',
      withHttps(base, 'e1', { ...OPTS, httpsPort: 9443 }, [shop]),
      [shop],
      withHttps(base, 'e1', OPTS, [shop]),
    ],
    [
      'unchanged: the same config (no reload)',
      withHttps(base, 'e1', OPTS, [shop]),
      [shop],
      withHttps(base, 'e1', OPTS, [shop]),
    ],
  ])('%s', (_name, apps, routes, want) => {
    expect(canonicalJson(withHttps(apps, 'e1', OPTS, routes))).toBe(canonicalJson(want));
  });

  it('reads nothing from configs without an HTTPS server, or of the wrong shape', () => {
    for (const apps of [
      undefined,
      null,
      {},
      base,
      { http: { servers: { 'gantry-https-x': 1 } } },
    ]) {
      expect(domainRoutesOf(apps)).toEqual([]);
    }
  });

  it('defaults to the standard ports on loopback, names by origin', () => {
    expect(DEFAULT_HTTPS).toEqual({ host: '127.0.0.1', httpPort: 80, httpsPort: 443, tls: 'auto' });
  });
});
