/**
 * The behavioural suite every `Runtime` must pass (STYLE.md habit 10), run against the real engine
 * by each implementation's integration test. It speaks only the port; what is implementation
 * specific (making a foreign container by hand, building the image) comes in through the fixture.
 *
 * The contract app (CONTRACT_APP_FILES) is busybox httpd on 8080 with a SIGTERM trap that logs,
 * and MODE=crash|idle|chatty to misbehave on purpose.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGantryError } from '../../src/errors.js';
import type { Instance, InstanceSpec, Runtime } from '../../src/runtime/runtime.js';
import { eventually, rejection } from './waits.js';

export const CONTRACT_APP_PORT = 8080;

/** The contract app's build context: path → [content, mode]. */
export const CONTRACT_APP_FILES: Readonly<Record<string, readonly [string, number]>> = {
  Dockerfile: [
    `FROM gantry.local/busybox:1
ARG VERSION=1
COPY app/ /app/
COPY www/ /www/
RUN chmod 0755 /app/entrypoint.sh /www/cgi-bin/* && echo "$VERSION" > /www/version.txt
USER app
EXPOSE ${CONTRACT_APP_PORT}
ENTRYPOINT ["/app/entrypoint.sh"]
`,
    0o644,
  ],
  'app/entrypoint.sh': [
    `#!/bin/sh
# busybox httpd on $PORT; a TERM trap that says so (graceful stop is observable); misbehaving modes.
child=
on_term() {
  echo "contract-app: got SIGTERM"
  [ -n "$child" ] && kill "$child" 2>/dev/null
  exit 0
}
trap on_term TERM
echo "contract-app: starting mode=\${MODE:-serve}"
case "\${MODE:-serve}" in
  crash)
    echo "contract-app: crashing on purpose"
    exit 3
    ;;
  idle)
    sleep 100000 &
    ;;
  chatty)
    i=1
    while [ "$i" -le 50 ]; do echo "line $i"; i=$((i + 1)); done
    httpd -f -p "\${PORT:-${CONTRACT_APP_PORT}}" -h /www &
    ;;
  *)
    httpd -f -p "\${PORT:-${CONTRACT_APP_PORT}}" -h /www &
    ;;
esac
child=$!
wait "$child"
`,
    0o755,
  ],
  'www/healthz': ['ok\n', 0o644],
  'www/cgi-bin/info': [
    `#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
echo "revision=$GANTRY_REVISION env=$GANTRY_ENV slot=$GANTRY_SLOT greeting=$GREETING"
`,
    0o755,
  ],
  'www/cgi-bin/status': [
    `#!/bin/sh
code="\${QUERY_STRING:-503}"
printf 'Status: %s Test\\r\\nContent-Type: text/plain\\r\\n\\r\\nstatus %s\\n' "$code" "$code"
`,
    0o755,
  ],
  'www/cgi-bin/slow': [
    `#!/bin/sh
sleep "\${QUERY_STRING:-5}"
printf 'Content-Type: text/plain\\r\\n\\r\\nslow\\n'
`,
    0o755,
  ],
};

const run = promisify(execFile);

/**
 * Builds the contract app with the machine's Docker engine, pushes it to `registry` and returns
 * the pinned ref. The local tag is removed afterwards unless `keepLocal`, so runtimes must pull.
 */
export async function buildContractImage(opts: {
  registry: string;
  app: string;
  version: string;
  dir: string;
  keepLocal?: boolean;
}): Promise<string> {
  for (const [path, [content, mode]] of Object.entries(CONTRACT_APP_FILES)) {
    const file = join(opts.dir, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content, { mode });
  }
  const tag = `${opts.registry}/${opts.app}:${opts.version}`;
  // The classic builder: the engine is 20.10 and the CLI may lack buildx.
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_BUILDKIT: '0' };
  delete env.DOCKER_HOST;
  const argv = [
    'build',
    '-q',
    '--label',
    `dev.gantry.app=${opts.app}`,
    '--build-arg',
    `VERSION=${opts.version}`,
    '-t',
    tag,
    opts.dir,
  ];
  await run('docker', argv, { env });
  const { stdout } = await run('docker', ['push', tag], { env });
  const digest = /digest: (sha256:[0-9a-f]{64})/.exec(stdout)?.[1];
  if (digest === undefined) throw new Error(`docker push ${tag} printed no digest:\n${stdout}`);
  // --no-prune: the parent layers are build cache another test may be building on right now.
  if (!opts.keepLocal) await run('docker', ['image', 'rm', '--no-prune', tag], { env });
  return `${opts.registry}/${opts.app}@${digest}`;
}

/** A container made by hand, bypassing the runtime: same image, no labels. */
export interface ForeignInstance {
  readonly id: string;
  /** Whether it runs; undefined once it is gone. */
  running(): Promise<boolean | undefined>;
  remove(): Promise<void>;
}

/**
 * Where implementations differ in ways the port allows; the Docker defaults are the strict ones.
 * Each difference is documented where the implementation lives.
 */
export interface ContractTraits {
  /** Instances are published on 127.0.0.1 (`hostPort`); else reached through `fetch`. */
  readonly published: boolean;
  /** A stopped instance stays, exited, and restarts in place; else stop removes it (pods). */
  readonly stopKeeps: boolean;
  /** `exec` runs commands; else it rejects with GANTRY_ERR_UNSUPPORTED. */
  readonly exec: boolean;
  /** `ensureImage` pulls and checks the registry; else the engine pulls by itself (a no-op). */
  readonly ensureImagePulls: boolean;
  /** The instance sees its slot as GANTRY_SLOT (pods are claimed for a slot after they start). */
  readonly slotEnv: boolean;
}

export const DOCKER_TRAITS: ContractTraits = {
  published: true,
  stopKeeps: true,
  exec: true,
  ensureImagePulls: true,
  slotEnv: true,
};

export interface ContractFixture {
  readonly runtime: Runtime;
  /** Default DOCKER_TRAITS. */
  readonly traits?: ContractTraits;
  /** GET `path` on the instance's port when it is not published (e.g. through a pod proxy). */
  fetch?(instance: Instance, path: string): Promise<{ status: number; body: string } | undefined>;
  /** The host the suite places instances on. */
  readonly host: string;
  /** The contract app, pinned by digest, in a registry the runtime can pull from. */
  readonly image: string;
  /** Starts a foreign instance named `name` from `image`, running the app as usual. */
  foreign(name: string): Promise<ForeignInstance>;
  dispose(): Promise<void>;
}

const REVISION = 'c0ntract0000000000000000000000000000000a';
const SECRET = 'contract-secret-d4e5f6-never-shown';

async function get(
  port: number,
  path: string,
): Promise<{ status: number; body: string } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      signal: AbortSignal.timeout(2_000),
    });
    return { status: res.status, body: await res.text() };
  } catch {
    return undefined;
  }
}

/** Registers the suite for one implementation. */
export function runtimeContract(name: string, makeFixture: () => Promise<ContractFixture>): void {
  describe(`Runtime contract: ${name}`, () => {
    let fx: ContractFixture;
    const apps: string[] = [];
    const prefix = `ctr${Math.random().toString(16).slice(2, 8)}`;

    /** A fresh app name per test keeps list assertions exact. */
    function newApp(): string {
      const app = `${prefix}-${apps.length}`;
      apps.push(app);
      return app;
    }

    function spec(app: string, slot: string, over: Partial<InstanceSpec> = {}): InstanceSpec {
      return {
        app,
        env: 'contract',
        revision: REVISION,
        rolloutId: 'rollout-1',
        slot,
        image: fx.image,
        port: CONTRACT_APP_PORT,
        vars: {},
        secrets: {},
        host: fx.host,
        ...over,
      };
    }

    function traits(): ContractTraits {
      return fx.traits ?? DOCKER_TRAITS;
    }

    /** GET on the instance, published or not. */
    function reach(instance: Instance, path: string) {
      if (fx.fetch && !traits().published) return fx.fetch(instance, path);
      return get(instance.hostPort ?? 0, path);
    }

    /** The instance once it runs (a pod may still be Pending when start returns). */
    async function running(instance: Instance): Promise<Instance> {
      if (instance.state === 'running') return instance;
      return eventually('the instance to run', async () => {
        const now = await find(instance);
        return now?.state === 'running' ? now : undefined;
      });
    }

    async function find(instance: Instance): Promise<Instance | undefined> {
      const all = await fx.runtime.list({ app: instance.app, env: instance.env });
      return all.find((i) => i.id === instance.id);
    }

    beforeAll(async () => {
      fx = await makeFixture();
    });

    afterAll(async () => {
      if (!fx) return;
      for (const app of apps) {
        for (const i of await fx.runtime.list({ app }).catch(() => []))
          await fx.runtime.remove(i).catch(() => undefined);
      }
      await fx.dispose();
    });

    it('starts an instance that is published on 127.0.0.1 and answers there', async () => {
      const app = newApp();
      const started = await fx.runtime.start(spec(app, 's0', { vars: { GREETING: 'hi' } }));
      const instance = await running(started);
      expect(instance).toMatchObject({
        app,
        env: 'contract',
        revision: REVISION,
        rolloutId: 'rollout-1',
        slot: 's0',
        host: fx.host,
        state: 'running',
        restartCount: 0,
      });
      if (traits().published) expect(instance.hostPort).toBeGreaterThan(0);
      else expect(instance.upstream).toMatch(new RegExp(`:${CONTRACT_APP_PORT}$`));
      expect(instance.startedAt).toBeGreaterThan(Date.now() - 60_000);
      const health = await eventually(
        'GET /healthz',
        async () => (await reach(instance, '/healthz'))?.status === 200 || undefined,
      );
      expect(health).toBe(true);
      const info = await reach(instance, '/cgi-bin/info');
      const slot = traits().slotEnv ? 's0' : '';
      expect(info?.body).toContain(`revision=${REVISION} env=contract slot=${slot} greeting=hi`);
    });

    it('start is idempotent by slot, also when racing, and restarts a stopped instance in place', async () => {
      const app = newApp();
      const [a, b] = await Promise.all([
        fx.runtime.start(spec(app, 's0')),
        fx.runtime.start(spec(app, 's0')),
      ]);
      const c = await fx.runtime.start(spec(app, 's0'));
      expect(new Set([a.id, b.id, c.id]).size).toBe(1);
      expect(await fx.runtime.list({ app })).toHaveLength(1);
      await fx.runtime.stop(a, { timeoutSeconds: 5 });
      if (!traits().stopKeeps) {
        // A pod is not stopped and kept: the slot is free again, and starting it makes a new one.
        expect(await find(a)).toBeUndefined();
        const again = await running(await fx.runtime.start(spec(app, 's0')));
        expect(again.id).not.toBe(a.id);
        expect(again.slot).toBe('s0');
        expect(await fx.runtime.list({ app })).toHaveLength(1);
        return;
      }
      expect((await find(a))?.state).toBe('exited');
      const again = await fx.runtime.start(spec(app, 's0'));
      expect(again.id).toBe(a.id);
      expect(again.state).toBe('running');
    });

    it('refuses a slot that already holds another revision', async () => {
      const app = newApp();
      await fx.runtime.start(spec(app, 's0'));
      const e = await rejection(fx.runtime.start(spec(app, 's0', { revision: 'f'.repeat(40) })));
      expect(isGantryError(e, 'GANTRY_ERR_INSTANCE_CONFLICT')).toBe(true);
    });

    it('lists by labels per app and environment, and never returns or touches foreign instances', async () => {
      const app = newApp();
      const foreign = await fx.foreign(`${app}-foreign`);
      const made = await Promise.all([
        fx.runtime.start(spec(app, 'a0')),
        fx.runtime.start(spec(app, 'a1')),
        fx.runtime.start(spec(app, 'b0', { env: 'other' })),
      ]);
      const all = await fx.runtime.list({ app });
      expect(all.map((i) => i.id).sort()).toEqual(made.map((i) => i.id).sort());
      expect((await fx.runtime.list({ app, env: 'contract' })).map((i) => i.slot).sort()).toEqual([
        'a0',
        'a1',
      ]);
      expect((await fx.runtime.list({ app, env: 'other' })).map((i) => i.slot)).toEqual(['b0']);
      expect(await fx.runtime.list({ app: `${app}-nothing` })).toEqual([]);
      for (const i of all) {
        await fx.runtime.stop(i, { timeoutSeconds: 5 });
        await fx.runtime.remove(i);
      }
      expect(await fx.runtime.list({ app })).toEqual([]);
      expect(await foreign.running()).toBe(true);
      await foreign.remove();
    });

    it('stops gracefully: SIGTERM reaches the process, and stop is repeatable', async () => {
      const app = newApp();
      const instance = await running(await fx.runtime.start(spec(app, 's0')));
      await eventually(
        'the app to serve',
        async () => (await reach(instance, '/healthz'))?.status === 200 || undefined,
      );
      if (!traits().stopKeeps) {
        // The pod is deleted with the grace period as its SIGTERM → SIGKILL window; once gone
        // its logs are gone with it, so what is checked is that stop waits for it and repeats.
        await fx.runtime.stop(instance, { timeoutSeconds: 20 });
        expect(await find(instance)).toBeUndefined();
        await fx.runtime.stop(instance, { timeoutSeconds: 5 });
        await fx.runtime.remove(instance);
        return;
      }
      await fx.runtime.stop(instance, { timeoutSeconds: 20 });
      // The trap saw SIGTERM and exited 0: a SIGKILL after the grace period would show 137.
      expect(await fx.runtime.logs(instance, 10)).toContain('contract-app: got SIGTERM');
      const stopped = await find(instance);
      expect(stopped).toMatchObject({ state: 'exited', exitCode: 0 });
      expect(stopped?.hostPort).toBeUndefined();
      await fx.runtime.stop(instance, { timeoutSeconds: 5 });
      await fx.runtime.remove(instance);
      await fx.runtime.stop(instance, { timeoutSeconds: 5 });
    });

    it('removing an instance twice, or one that is gone, is a no-op', async () => {
      const app = newApp();
      const instance = await fx.runtime.start(spec(app, 's0'));
      await fx.runtime.remove(instance);
      await fx.runtime.remove(instance);
      expect(await fx.runtime.list({ app })).toEqual([]);
    });

    it('execs in the instance with its vars and secrets, and reports the exit code and output', async () => {
      const app = newApp();
      if (!traits().exec) {
        const instance = await fx.runtime.start(
          spec(app, 's0', { vars: { GREETING: 'hello' }, secrets: { API_TOKEN: SECRET } }),
        );
        const e = await rejection(fx.runtime.exec(instance, ['true'], 10_000));
        expect(isGantryError(e, 'GANTRY_ERR_UNSUPPORTED')).toBe(true);
        expect(JSON.stringify(await fx.runtime.list({ app }))).not.toContain(SECRET);
        expect(JSON.stringify(instance)).not.toContain(SECRET);
        return;
      }
      const instance = await fx.runtime.start(
        spec(app, 's0', { vars: { GREETING: 'hello' }, secrets: { API_TOKEN: SECRET } }),
      );
      const result = await fx.runtime.exec(
        instance,
        [
          'sh',
          '-c',
          `echo "$GREETING"; [ "$API_TOKEN" = "${SECRET}" ] && echo secret-ok; echo oops >&2; exit 4`,
        ],
        10_000,
      );
      expect(result.exitCode).toBe(4);
      // stdout keeps its order; stderr comes through a pipe of its own, so its place may vary.
      expect(result.output.split('\n').filter((l) => l !== 'oops')).toEqual([
        'hello',
        'secret-ok',
        '',
      ]);
      expect(result.output).toContain('oops\n');
      expect((await fx.runtime.exec(instance, ['true'], 10_000)).exitCode).toBe(0);
      // The secret value is in the process environment, nowhere the controller shows.
      expect(JSON.stringify(await fx.runtime.list({ app }))).not.toContain(SECRET);
      expect(JSON.stringify(instance)).not.toContain(SECRET);
    });

    it('rejects an exec past its deadline with GANTRY_ERR_EXEC_TIMEOUT', async () => {
      if (!traits().exec) return;
      const app = newApp();
      const instance = await fx.runtime.start(spec(app, 's0'));
      const t0 = Date.now();
      const e = await rejection(fx.runtime.exec(instance, ['sleep', '5'], 300));
      expect(isGantryError(e, 'GANTRY_ERR_EXEC_TIMEOUT')).toBe(true);
      expect(Date.now() - t0).toBeLessThan(3_000);
    });

    it('returns the tail of the logs', async () => {
      const app = newApp();
      const instance = await fx.runtime.start(spec(app, 's0', { vars: { MODE: 'chatty' } }));
      const tail = await eventually('50 lines of logs', async () => {
        const lines = await fx.runtime.logs(instance, 3);
        return lines.at(-1) === 'line 50' ? lines : undefined;
      });
      expect(tail).toEqual(['line 48', 'line 49', 'line 50']);
      expect((await fx.runtime.logs(instance, 100))[0]).toBe('contract-app: starting mode=chatty');
    });

    it('shows a crashing instance as restarted, with its exit code', async () => {
      const app = newApp();
      const instance = await fx.runtime.start(spec(app, 's0', { vars: { MODE: 'crash' } }));
      const seen = await eventually('a restart', async () => {
        const now = await find(instance);
        return now !== undefined && now.restartCount > 0 && now.exitCode === 3 ? now : undefined;
      });
      expect(seen.state).not.toBe('running');
      expect(await fx.runtime.logs(instance, 1)).toEqual(['contract-app: crashing on purpose']);
    });

    it('ensureImage is idempotent, and a digest the registry lacks is GANTRY_ERR_IMAGE_MISSING', async () => {
      await fx.runtime.ensureImage(fx.host, fx.image);
      await fx.runtime.ensureImage(fx.host, fx.image);
      if (!traits().ensureImagePulls) return;
      const missing = fx.image.replace(/@sha256:[0-9a-f]{64}$/, `@sha256:${'0'.repeat(64)}`);
      const e = await rejection(fx.runtime.ensureImage(fx.host, missing));
      expect(isGantryError(e, 'GANTRY_ERR_IMAGE_MISSING')).toBe(true);
    });

    it('names an unknown host as a configuration error', async () => {
      const e = await rejection(fx.runtime.start(spec(newApp(), 's0', { host: 'no-such-host' })));
      expect(isGantryError(e, 'GANTRY_ERR_CONFIG_INVALID')).toBe(true);
    });
  });
}
