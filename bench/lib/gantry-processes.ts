/**
 * A whole Gantry for a benchmark whose controller must die: `gantry serve` as child processes
 * (test/support/controller-process.ts), on the local Redis and registry, watching one repository
 * served over smart HTTP, with the edge it manages in `dir/data/edge` (which outlives each
 * controller and is stopped by `close`). The bench keeps its own view of Redis, the Docker
 * engine and the edge's admin APIs, so it can time repairs without asking the controller.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { CaddyEdge } from '../../src/edge/caddy/caddy-edge.js';
import { stopEdge } from '../../src/edge/supervisor/ensure-edge.js';
import { adminUrlOf, readEdgeState } from '../../src/edge/supervisor/edge-state.js';
import { ForgeRepo } from '../../src/demo/forge.js';
import { freePort } from '../../src/demo/services.js';
import { Worktree } from '../../src/demo/worktree.js';
import { connectRedis } from '../../src/redis.js';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';
import type { Instance } from '../../src/runtime/runtime.js';
import type { RolloutRecord } from '../../src/store/records.js';
import { startBackends } from './backends.js';
import { RolloutStore } from '../../src/store/rollouts.js';
import { Store } from '../../src/store/store.js';
import { spawnController, type ControllerProcess } from '../../test/support/controller-process.js';

export interface GantryProcesses {
  readonly dir: string;
  /** Where the managed edge keeps its state (`edge.json` names the Caddy pids). */
  readonly edgeDir: string;
  readonly wt: Worktree;
  readonly rollouts: RolloutStore;
  readonly runtime: DockerRuntime;
  /** The controller started last (undefined between a stop and the next start). */
  current(): ControllerProcess | undefined;
  /** Starts `gantry serve` on the shared data directory; resolves once `/healthz` answers. */
  start(): Promise<ControllerProcess>;
  /** Commits, pushes and sends a signed webhook to the current controller. */
  push(message: string): Promise<string>;
  rolledOut(app: string, sha: string, timeoutMs: number): Promise<RolloutRecord>;
  /** The upstreams the edge routes for `routeId` now (read from the back Caddy's admin API). */
  upstreams(routeId: string): Promise<string[]>;
  instances(app: string): Promise<Instance[]>;
  /** Kills every controller, removes the app's containers, stops the edge and the services. */
  close(apps: readonly string[]): Promise<void>;
}

export async function startGantryProcesses(opts: {
  dir: string;
  logLevel?: string;
}): Promise<GantryProcesses> {
  const stops: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const { services, repoUrl, secret } = await startBackends(opts.dir, stops);
    const prefix = `sh${randomBytes(4).toString('hex')}`;
    const dataDir = path.join(opts.dir, 'data');
    const edgeDir = path.join(dataDir, 'edge');
    // Stops run in reverse: the edge, which outlives its controllers, goes after them.
    stops.push(() => stopEdge(edgeDir));
    const redis: Redis = await connectRedis(services.redis.url);
    stops.push(async () => redis.disconnect());
    const store = new Store(redis, prefix);
    const rollouts = new RolloutStore(redis, store.keys);
    const runtime = new DockerRuntime({
      hosts: [{ name: 'local', endpoint: 'unix:///var/run/docker.sock' }],
    });
    const basePort = await freePort();
    // The controller's defaults, but for a fast rollout loop and build debounce (setup time only).
    const configFor = (port: number) =>
      [
        `listen: { host: 127.0.0.1, port: ${port} }`,
        `redis: { url: "${services.redis.url}", prefix: "${prefix}" }`,
        `registry: { address: "${services.registry.address}" }`,
        `dataDir: "${dataDir}"`,
        `edge: { basePort: ${basePort} }`,
        'deploy: { tickMs: 200 }',
        'build: { debounceMs: 200 }',
        'repos:',
        `  - { name: app, url: "${repoUrl}", webhookSecret: "${secret}" }`,
        '',
      ].join('\n');
    const processes: ControllerProcess[] = [];
    stops.push(async () => {
      await Promise.all(processes.map((p) => p.kill()));
    });
    const wt = await Worktree.clone(repoUrl, path.join(opts.dir, 'clone'));
    const forge = new ForgeRepo({ repoUrl, fullName: 'acme/app', secret });
    let counter = 0;
    let edge: CaddyEdge | undefined;

    const g: GantryProcesses = {
      dir: opts.dir,
      edgeDir,
      wt,
      rollouts,
      runtime,
      current: () => processes.filter((p) => !p.exited()).at(-1),
      async start() {
        const proc = await spawnController({
          name: `c${++counter}`,
          dir: path.join(opts.dir, 'controllers'),
          configFor,
          logLevel: opts.logLevel ?? 'info',
        });
        processes.push(proc);
        return proc;
      },
      async push(message) {
        const via = g.current();
        if (!via) throw new Error('no controller is running');
        const sha = await wt.commit(message);
        await wt.push();
        await forge.accepted(via.url, 'github', sha, message);
        return sha;
      },
      async rolledOut(app, sha, timeoutMs) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const done = (await rollouts.list(app, 'production')).find(
            (r) => r.to.sha === sha && r.outcome !== undefined,
          );
          if (done) return done;
          if (Date.now() > deadline) {
            throw new Error(`no finished rollout of ${app}@${sha.slice(0, 12)} in ${timeoutMs} ms`);
          }
          await sleep(200);
        }
      },
      async upstreams(routeId) {
        if (!edge) {
          const state = await readEdgeState(edgeDir);
          if (!state.front || !state.back) throw new Error(`no edge state in ${edgeDir}`);
          // Read-only use of the controller's edge: the same name, so the same server ids.
          edge = new CaddyEdge({
            frontAdminUrl: adminUrlOf(state.front),
            backAdminUrl: adminUrlOf(state.back),
            logDir: edgeDir,
            name: `gantry-${prefix}`.slice(0, 60),
          });
        }
        return edge.upstreams(routeId);
      },
      instances: (app) => runtime.list({ app, env: 'production' }),
      async close(apps) {
        // Controllers first: a live one would replace the instances removed below.
        await Promise.all(processes.map((p) => p.kill()));
        for (const app of apps) {
          for (const i of await runtime.list({ app }).catch(() => [])) {
            await runtime.remove(i).catch(() => undefined);
          }
          for (const host of runtime.hosts()) {
            await runtime.removeImages(host, [], app).catch(() => undefined);
          }
        }
        await closeAll();
      },
    };
    return g;
  } catch (e) {
    await closeAll();
    throw e;
  }
}
