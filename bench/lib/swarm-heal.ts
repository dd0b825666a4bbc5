/**
 * Swarm as the peer for self-heal times: break one task's container by hand and time until the
 * service has its replicas running again (healthy: with a HEALTHCHECK, a task is `Running` only
 * once its first check passed), and until the new task answers GET / on its container address.
 * There is no routing mesh to go through (it needs IPVS), so that address is the closest to
 * "answers through the edge".
 */
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import * as swarm from './swarm.js';

/** What is done to the victim's container; `unhealthy` makes its health check fail. */
export type SwarmFault = 'rm' | 'stop' | 'kill' | 'unhealthy';

export function faultArgs(fault: SwarmFault, containerId: string): string[] {
  switch (fault) {
    case 'rm':
      return ['rm', '-f', containerId];
    case 'stop':
      return ['stop', containerId];
    case 'kill':
      return ['kill', containerId];
    case 'unhealthy':
      // The page still serves; only /healthz answers 404 from now on.
      return ['exec', '-u', 'root', containerId, 'rm', '/www/healthz'];
  }
}

function running(tasks: swarm.SwarmTask[]): swarm.SwarmTask[] {
  return tasks.filter((t) => t.desired === 'Running' && t.current.startsWith('Running'));
}

async function containerIp(containerId: string): Promise<string> {
  return swarm.docker([
    'inspect',
    '--format',
    '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}',
    containerId,
  ]);
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 1_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** Polls until the service runs `replicas` tasks; returns them. */
export async function settled(
  service: string,
  replicas: number,
  timeoutMs: number,
): Promise<swarm.SwarmTask[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = running(await swarm.tasks(service));
    if (now.length === replicas) return now;
    if (Date.now() > deadline) {
      throw new Error(`${service}: ${now.length}/${replicas} tasks running after ${timeoutMs} ms`);
    }
    await sleep(200);
  }
}

export interface SwarmRepair {
  /** Fault → `replicas` tasks running again, the victim not among them. */
  runningMs: number;
  /** Fault → the new task answers GET / on its container address. */
  answersMs: number;
}

/** Breaks one running task's container with `fault` and times the repair. */
export async function swarmFault(
  service: string,
  replicas: number,
  fault: SwarmFault,
  timeoutMs: number,
): Promise<SwarmRepair> {
  const before = await settled(service, replicas, timeoutMs);
  const victim = before[0]!;
  const cid = await swarm.docker(swarm.taskContainerArgs(victim.id));
  const t0 = Date.now();
  await swarm.docker(faultArgs(fault, cid));
  let fresh: swarm.SwarmTask[];
  for (;;) {
    const now = running(await swarm.tasks(service)).filter((t) => t.id !== victim.id);
    if (now.length >= replicas) {
      fresh = now.filter((t) => !before.some((b) => b.id === t.id));
      break;
    }
    if (Date.now() - t0 > timeoutMs) {
      throw new Error(`swarm ${fault}: ${now.length}/${replicas} running after ${timeoutMs} ms`);
    }
    await sleep(100);
  }
  const runningMs = Date.now() - t0;
  const task = fresh[0];
  if (!task) throw new Error(`swarm ${fault}: no new task replaced ${victim.id}`);
  const ip = await containerIp(await swarm.docker(swarm.taskContainerArgs(task.id)));
  for (;;) {
    if (await answers(`http://${ip}:8080/`)) break;
    if (Date.now() - t0 > timeoutMs) throw new Error(`swarm ${fault}: ${ip} never answered`);
    await sleep(20);
  }
  return { runningMs, answersMs: Date.now() - t0 };
}
