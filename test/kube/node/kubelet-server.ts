/**
 * The kubelet's HTTPS port, as far as the API server uses it here: `GET /containerLogs/{ns}/
 * {pod}/{container}` (what `pods/log` is proxied to) and `/healthz`. The serving certificate is
 * signed by the cluster CA (the API server runs with --kubelet-certificate-authority), and only
 * clients with a certificate from that CA are served, as a kubelet with x509 auth does.
 * Not served: exec, attach, port-forward, stats (the runtime contract does not use them).
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { demux } from '../../kube-sim/kubelet.js';
import type { PodRunner } from './pod-runner.js';

export interface ServingTls {
  ca: string;
  cert: string;
  key: string;
}

export interface RunnerLookup {
  runner(namespace: string, name: string): PodRunner | undefined;
}

function reply(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text);
}

/** Reads one container's output, as `GET containerLogs` answers it. */
async function containerLogs(
  pods: RunnerLookup,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://node');
  const [, , ns, name, container] = url.pathname.split('/').map(decodeURIComponent);
  const runner = ns && name ? pods.runner(ns, name) : undefined;
  if (!runner)
    return reply(res, 404, `pod "${name}" in namespace "${ns}" is not known to this node`);
  if (container && container !== runner.containerName)
    return reply(res, 400, `container ${container} is not valid for pod ${name}`);
  const previous = url.searchParams.get('previous') === 'true';
  const target = previous ? runner.previous : runner.current;
  if (!target) {
    if (previous)
      return reply(
        res,
        400,
        `previous terminated container "${runner.containerName}" in pod "${name}" not found`,
      );
    return reply(
      res,
      400,
      `container "${runner.containerName}" in pod "${name}" is waiting to start: ${runner.waitingReason ?? 'ContainerCreating'}`,
    );
  }
  const tail = url.searchParams.get('tailLines');
  const buf = (await target.logs({
    stdout: true,
    stderr: true,
    follow: false,
    tail: tail === null ? -1 : Number(tail),
    timestamps: url.searchParams.get('timestamps') === 'true',
  })) as unknown as Buffer;
  reply(res, 200, demux(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf))));
}

/** Starts serving on `host:port` (port 0: any free one); resolves with the server. */
export async function startKubeletServer(
  tls: ServingTls,
  pods: RunnerLookup,
  host: string,
  port = 0,
): Promise<https.Server> {
  const server = https.createServer(
    {
      ca: await readFile(tls.ca),
      cert: await readFile(tls.cert),
      key: await readFile(tls.key),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const path = req.url ?? '/';
      if (req.method === 'GET' && path.startsWith('/containerLogs/'))
        return void containerLogs(pods, req, res).catch((e: unknown) =>
          reply(res, 500, e instanceof Error ? e.message : String(e)),
        );
      if (path === '/healthz') return reply(res, 200, 'ok');
      reply(res, 404, `${req.method} ${path}: not served by the gantry test node agent`);
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
