/**
 * docker-compose.yml, its controller config and the Caddy configs it mounts, and the Dockerfile.
 * `docker-compose config` validates the file (images cannot be pulled here, so it is not brought
 * up); the rest checks that the pieces agree with each other and with the code they configure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseControllerConfig } from '../../src/config/controller-config.js';
import { adminUrlOfListen } from '../../src/edge/caddy/admin-endpoint.js';
import { caddyInitialConfig } from '../../src/edge/supervisor/caddy-process.js';

const ROOT = join(import.meta.dirname, '../..');
const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8');

const ENV = {
  GANTRY_ADMIN_TOKEN_SHA256: 'a'.repeat(64),
  HELLO_WEBHOOK_SECRET: 'compose-webhook-secret-0123456789',
  HELLO_GIT_TOKEN: 'read-only-token',
  DOCKER_GID: '998',
};

/** `docker-compose` (v1, Debian's) or the `docker compose` plugin, whichever is installed. */
function composeCommand(): string[] | undefined {
  if (spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0)
    return ['docker-compose'];
  if (spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0)
    return ['docker', 'compose'];
  return undefined;
}

function composeConfig(env: Record<string, string>) {
  const [cmd, ...pre] = composeCommand()!;
  // Only PATH from the outside: a variable set in the test runner's environment must not
  // satisfy a ${VAR:?} by accident.
  return spawnSync(cmd!, [...pre, '-f', 'docker-compose.yml', 'config'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
  });
}

interface Service {
  build?: unknown;
  image?: string;
  command?: string[];
  entrypoint?: string[];
  network_mode?: string;
  group_add?: string[];
  environment?: Record<string, string>;
  volumes?: (string | { source?: string; target: string })[];
}
// merge: the services share their image settings through a `<<:` merge key.
const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, Service>;
};
const svc = (name: string): Service => compose.services[name]!;
const mounts = (s: Service): string[] =>
  (s.volumes ?? []).map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`));
/** The host file mounted at `target` in a service. */
const hostFileAt = (s: Service, target: string): string | undefined =>
  mounts(s)
    .map((m) => m.split(':'))
    .find((p) => p[1] === target)?.[0];

const tool = composeCommand();
if (!tool)
  console.warn('neither docker-compose nor `docker compose` on PATH: compose config skipped');

describe('docker-compose.yml', () => {
  it.skipIf(!tool)('is valid for `docker-compose config`', () => {
    const res = composeConfig(ENV);
    expect(res.stderr + res.stdout).not.toMatch(/ERROR|error/);
    expect(res.status).toBe(0);
    const out = parseYaml(res.stdout) as { services: Record<string, Service> };
    expect(Object.keys(out.services).sort()).toEqual([
      'api-tls',
      'edge-back',
      'edge-front',
      'gantry',
      'redis',
      'registry',
    ]);
    // Interpolated: the secrets reach the controller's environment.
    expect(out.services.gantry!.environment).toMatchObject({
      GANTRY_ADMIN_TOKEN_SHA256: ENV.GANTRY_ADMIN_TOKEN_SHA256,
      HELLO_WEBHOOK_SECRET: ENV.HELLO_WEBHOOK_SECRET,
    });
    expect(out.services.gantry!.group_add?.map(String)).toEqual([ENV.DOCKER_GID]);
  });

  it.skipIf(!tool)('refuses to start without the admin token hash, saying which', () => {
    const { GANTRY_ADMIN_TOKEN_SHA256: _, ...rest } = ENV;
    const res = composeConfig(rest);
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain('set the sha256 of your admin token');
  });

  it('runs Redis with AOF and noeviction on a volume', () => {
    const redis = svc('redis');
    expect(redis.command?.join(' ')).toContain('--appendonly yes');
    expect(redis.command?.join(' ')).toContain('--maxmemory-policy noeviction');
    expect(mounts(redis)).toContain('redis-data:/data');
  });

  it('builds the controller from the Dockerfile and mounts the Docker socket', () => {
    const gantry = svc('gantry');
    expect(gantry.build).toMatchObject({ context: '.' });
    expect(mounts(gantry)).toContain('/var/run/docker.sock:/var/run/docker.sock');
    expect(gantry.network_mode).toBe('host');
    // The Dockerfile's CMD reads the config where compose mounts it.
    expect(read('Dockerfile')).toContain('"--config", "/etc/gantry/gantry.config.yaml"');
  });

  it("gives the controller a config the controller accepts, pointing at the edge services' admin APIs", () => {
    const gantry = svc('gantry');
    const file = hostFileAt(gantry, '/etc/gantry/gantry.config.yaml');
    expect(file).toBe('./deploy/compose/gantry.config.yaml');
    // The plain values compose sets, plus the secrets it interpolates from the operator's shell.
    // Each `${NAME:-default}` at its default (the ports and images a user who sets nothing gets).
    const plain = Object.entries(gantry.environment ?? {})
      .map(([k, v]) => [k, v.replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1')] as const)
      .filter(([, v]) => !v.includes('${'));
    expect(plain.length).toBeGreaterThanOrEqual(2);
    const env = { ...ENV, ...Object.fromEntries(plain) };
    const cfg = parseControllerConfig(read(file!), { env, file: file! });
    expect(cfg.redis.url).toBe('redis://127.0.0.1:6379');
    expect(cfg.registry.address).toBe('127.0.0.1:5000');
    expect(cfg.runtime.hosts).toEqual([{ name: 'local', endpoint: 'unix:///var/run/docker.sock' }]);
    expect(cfg.edge.manage).toBe(false);
    expect(cfg.tokens[0]?.hash).toBe(`sha256:${ENV.GANTRY_ADMIN_TOKEN_SHA256}`);

    // Each Caddy service's admin API is where the config points, and its logs land in logDir,
    // on the volume the controller mounts too.
    for (const [tier, url] of [
      ['front', cfg.edge.frontAdminUrl],
      ['back', cfg.edge.backAdminUrl],
    ] as const) {
      const edge = svc(`edge-${tier}`);
      expect(edge.entrypoint).toEqual(['caddy']);
      const json = hostFileAt(edge, edge.command!.at(-1)!);
      expect(json).toBe(`./deploy/compose/caddy-${tier}.json`);
      const caddy = JSON.parse(read(json!)) as { admin: { listen: string } };
      expect(adminUrlOfListen(caddy.admin.listen)).toBe(url);
      expect(cfg.edge.logDir?.startsWith('/var/lib/gantry/')).toBe(true);
      expect(mounts(edge)).toContain('gantry-data:/var/lib/gantry');
    }
    expect(mounts(gantry)).toContain('gantry-data:/var/lib/gantry');
  });

  it('starts each Caddy with the same initial config the managed edge uses', () => {
    // caddyInitialConfig is what `edge.manage: true` writes; the compose services must match it.
    for (const tier of ['front', 'back'] as const) {
      const file = JSON.parse(read(`deploy/compose/caddy-${tier}.json`)) as unknown;
      expect(file).toEqual(caddyInitialConfig(`/var/lib/gantry/edge/${tier}`));
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const ignored = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('copies only paths that exist and that .dockerignore keeps in the context', () => {
    const sources = [...dockerfile.matchAll(/^COPY\s+(.+)\s+\S+$/gm)].flatMap((m) =>
      m[1]!.split(/\s+/),
    );
    expect(sources.length).toBeGreaterThan(3);
    for (const src of sources) {
      expect(existsSync(join(ROOT, src)), src).toBe(true);
      expect(ignored, src).not.toContain(src.split('/')[0]);
    }
    // The entry point it runs is in what it copies.
    expect(dockerfile).toContain('ENTRYPOINT ["node", "bin/gantry.js"]');
    expect(sources).toContain('bin');
  });

  it('keeps secrets, dependencies and git history out of the build context', () => {
    for (const p of ['node_modules', '.git', '.gantry', '.env', 'gantry.config.yaml'])
      expect(ignored).toContain(p);
  });

  it('runs as an unprivileged user that owns the data dir', () => {
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toContain('chown -R node:node /var/lib/gantry');
  });

  it('installs only runtime dependencies, and tsx is one of them', () => {
    expect(dockerfile).toContain('npm ci --omit=dev');
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).toContain('tsx');
  });
});
