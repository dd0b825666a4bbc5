/**
 * The edge contract against the Caddy edge: a real Caddy pair (Debian's 2.6.2) and node HTTP
 * upstreams on 127.0.0.1. It meets every clause (FULL_EDGE_CAPABILITIES).
 */
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { CaddyEdge } from '../../src/edge/caddy/caddy-edge.js';
import { caddyAnswers, startCaddyPair } from '../../src/edge/supervisor/caddy-process.js';
import { freePort, spawnDaemon, waitReady } from '../../src/process/daemon.js';
import {
  SLOW_MS,
  edgeContract,
  type ContractUpstream,
  type EdgeReply,
} from '../contract/edge-contract.js';
import { testEnv, uniqueName } from '../support/env.js';

/** An upstream that answers its name, after SLOW_MS on `/slow`. */
async function startUpstream(name: string): Promise<{ up: ContractUpstream; close(): void }> {
  const server: Server = createServer((req, res) => {
    const reply = () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': name });
      res.end(name);
    };
    if (req.url?.startsWith('/slow')) setTimeout(reply, SLOW_MS);
    else reply();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    up: { name, address: `127.0.0.1:${port}` },
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** One GET on a fresh connection; status 0 when nothing answered. */
function get(url: string, path: string): Promise<EdgeReply> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const req = request(
      { host: u.hostname, port: u.port, path, agent: false, timeout: SLOW_MS * 4 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          const from = res.headers['x-upstream'];
          resolve({
            status: res.statusCode ?? 0,
            from: typeof from === 'string' && from === body ? from : undefined,
          });
        });
        res.on('error', () => resolve({ status: 0, from: undefined }));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, from: undefined }));
    req.end();
  });
}

interface Tier {
  readonly dir: string;
  readonly adminUrl: string;
  stop(): Promise<void>;
}

/**
 * Restarts a Caddy of the pair from the initial config file it was started with (same admin
 * port): it comes back with none of the edge's routes, as after a crash or a host reboot.
 */
async function restart(tier: Tier, name: string): Promise<Tier> {
  await tier.stop();
  const daemon = await spawnDaemon({
    name,
    command: 'caddy',
    args: ['run', '--config', join(tier.dir, 'caddy.json')],
    logFile: join(tier.dir, 'caddy.log'),
    cwd: tier.dir,
  });
  await waitReady(daemon, `GET ${tier.adminUrl}/config/`, () =>
    caddyAnswers(tier.adminUrl, join(tier.dir, 'storage')),
  );
  return { ...tier, stop: () => daemon.stop() };
}

edgeContract('caddy', async () => {
  const dir = join(testEnv().runDir, uniqueName('edge-contract'));
  const pair = await startCaddyPair({ dir });
  let front: Tier = { dir: join(dir, 'front'), ...pair.front };
  let back: Tier = { dir: join(dir, 'back'), ...pair.back };
  const edge = new CaddyEdge({
    frontAdminUrl: front.adminUrl,
    backAdminUrl: back.adminUrl,
    logDir: pair.logDir,
    name: uniqueName('e'),
  });
  const closers: (() => void)[] = [];
  return {
    edge,
    listen: async () => ({ host: '127.0.0.1', port: await freePort() }),
    async upstream(name) {
      const { up, close } = await startUpstream(name);
      closers.push(close);
      return up;
    },
    request: (url, opts) => get(url, opts?.slow ? '/slow' : '/'),
    async loseRoutes() {
      [front, back] = await Promise.all([
        restart(front, 'caddy-front'),
        restart(back, 'caddy-back'),
      ]);
    },
    async dispose() {
      await edge.close();
      await Promise.all([front.stop(), back.stop()]);
      for (const close of closers) close();
    },
  };
});
