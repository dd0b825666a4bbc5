/** A controller with only its API (no workers, no deploy) on the run's Redis, for API tests. */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { pino } from 'pino';
import { hashToken } from '../../src/api/auth.js';
import {
  parseControllerConfig,
  type ControllerConfig,
} from '../../src/config/controller-config.js';
import { startController, type Controller } from '../../src/controller.js';
import { testEnv, uniqueName } from './env.js';

export interface ApiController {
  controller: Controller;
  config: ControllerConfig;
  prefix: string;
  viewer: string;
  deployer: string;
  /** GET/POST against the listening controller with a token (viewer unless given). */
  get(path: string, token?: string | null, headers?: Record<string, string>): Promise<Response>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts one; `config` lines are added to the controller config (e.g. `history: {…}`), `tokens`
 * entries (YAML flow mappings) to its tokens.
 */
export async function startApiController(
  opts: { prefix?: string; config?: string[]; tokens?: string[] } = {},
): Promise<ApiController> {
  const env = testEnv();
  const prefix = opts.prefix ?? uniqueName('api');
  const viewer = randomBytes(16).toString('hex');
  const deployer = randomBytes(16).toString('hex');
  const config = parseControllerConfig(
    [
      'listen: { host: 127.0.0.1, port: 0 }',
      `redis: { url: "${env.redisUrl}", prefix: "${prefix}" }`,
      `dataDir: "${path.join(env.runDir, prefix)}"`,
      'deploy: { enabled: false }',
      `tokens: [{ name: tester, role: viewer, hash: "${hashToken(viewer)}" }, { name: ci, role: deployer, hash: "${hashToken(deployer)}" }${(opts.tokens ?? []).map((t) => `, ${t}`).join('')}]`,
      ...(opts.config ?? []),
      'repos: [{ name: app, url: "http://127.0.0.1:9/acme/app.git" }]',
    ].join('\n'),
  );
  const log = pino({ level: process.env.GANTRY_TEST_LOG ?? 'silent' });
  const start = () => startController(config, { log, workers: false, closeGraceMs: 2000 });
  const api: ApiController = {
    controller: await start(),
    config,
    prefix,
    viewer,
    deployer,
    get(p, token = viewer, headers = {}) {
      return fetch(`${api.controller.url}${p}`, {
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      });
    },
    async restart() {
      await api.controller.close();
      api.controller = await start();
    },
    close: () => api.controller.close(),
  };
  return api;
}
