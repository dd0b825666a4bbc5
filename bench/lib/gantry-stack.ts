/**
 * A whole Gantry for a benchmark, in this process: the local Redis and registry, a git
 * smart-HTTP server with one repository, a controller that builds and rolls out (with its own
 * supervised Caddy edge, stopped by `close`), and a developer's clone that pushes and sends signed webhooks.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { parseControllerConfig } from '../../src/config/controller-config.js';
import { startController, type Controller } from '../../src/controller.js';
import { stopEdge } from '../../src/edge/supervisor/ensure-edge.js';
import { ForgeRepo } from '../../src/demo/forge.js';
import { Worktree } from '../../src/demo/worktree.js';
import { freePort } from '../../src/demo/services.js';
import type { RolloutRecord } from '../../src/store/records.js';
import { startBackends } from './backends.js';

export interface GantryStack {
  readonly controller: Controller;
  readonly wt: Worktree;
  /** Pushes HEAD and sends a signed GitHub push webhook for it. */
  pushHead(sha: string, message: string): Promise<void>;
  /** Polls until the rollout of `sha` to `env` has an outcome. */
  finishedRollout(
    app: string,
    sha: string,
    timeoutMs: number,
    env?: string,
  ): Promise<RolloutRecord>;
  close(): Promise<void>;
}

export async function startGantryStack(opts: {
  dir: string;
  /** Loop tick of the rollout runner. */
  tickMs: number;
  logLevel?: string;
}): Promise<GantryStack> {
  const stops: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const { services, repoUrl, secret } = await startBackends(opts.dir, stops);
    const config = parseControllerConfig(
      [
        'listen: { host: 127.0.0.1, port: 0 }',
        `redis: { url: "${services.redis.url}", prefix: "zd" }`,
        `registry: { address: "${services.registry.address}" }`,
        `dataDir: "${path.join(opts.dir, 'data')}"`,
        `edge: { basePort: ${await freePort()} }`,
        `deploy: { tickMs: ${opts.tickMs} }`,
        'repos:',
        `  - { name: app, url: "${repoUrl}", webhookSecret: "${secret}" }`,
      ].join('\n'),
    );
    // Stops run in reverse: the edge, which outlives its controller, goes after it.
    stops.push(() => stopEdge(path.join(opts.dir, 'data', 'edge')));
    const controller = await startController(config, {
      log: pino({ level: opts.logLevel ?? 'silent' }),
      closeGraceMs: 3000,
    });
    stops.push(() => controller.close());
    const wt = await Worktree.clone(repoUrl, path.join(opts.dir, 'clone'));
    const forge = new ForgeRepo({ repoUrl, fullName: 'acme/app', secret });
    return {
      controller,
      wt,
      async pushHead(sha, message) {
        await wt.push();
        await forge.accepted(controller.url, 'github', sha, message);
      },
      async finishedRollout(app, sha, timeoutMs, env = 'production') {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const all = await controller.rollouts.list(app, env);
          const done = all.find((r) => r.to.sha === sha && r.outcome !== undefined);
          if (done) return done;
          if (Date.now() > deadline) {
            throw new Error(`no finished rollout of ${app}@${sha.slice(0, 12)} in ${timeoutMs} ms`);
          }
          await sleep(100);
        }
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
