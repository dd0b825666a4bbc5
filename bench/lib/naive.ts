/**
 * The control for failed requests: the replacement a hand-written deploy script does — for each
 * instance, stop the old container, start the new one, point the proxy at it — with no health
 * gate and no drain, behind the same edge and runtime Gantry uses.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Edge, RouteId } from '../../src/edge/edge.js';
import type { Instance, InstanceSpec, Runtime } from '../../src/runtime/runtime.js';

export interface NaiveFleet {
  readonly runtime: Runtime;
  readonly edge: Edge;
  readonly routeId: RouteId;
  /** Everything but what changes per instance and per revision. */
  readonly base: Omit<InstanceSpec, 'slot' | 'revision' | 'image' | 'rolloutId'>;
  instances: Instance[];
}

function upstream(i: Instance): string {
  if (i.hostPort === undefined) throw new Error(`${i.name} has no published port`);
  return `127.0.0.1:${i.hostPort}`;
}

async function start(
  fleet: NaiveFleet,
  revision: string,
  image: string,
  index: number,
): Promise<Instance> {
  return fleet.runtime.start({
    ...fleet.base,
    revision,
    image,
    rolloutId: `naive-${revision.slice(0, 8)}`,
    slot: `naive-${revision.slice(0, 8)}-${index}`,
  });
}

/** Polls `url` until it answers 200 (the initial fleet is routed only once it serves). */
async function answering(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 in ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Starts `replicas` instances of `image`, waits until each serves, routes them all. */
export async function startNaiveFleet(
  fleet: Omit<NaiveFleet, 'instances'>,
  revision: string,
  image: string,
  replicas: number,
): Promise<NaiveFleet> {
  const f: NaiveFleet = { ...fleet, instances: [] };
  for (let i = 0; i < replicas; i++) f.instances.push(await start(f, revision, image, i));
  await Promise.all(f.instances.map((i) => answering(`http://${upstream(i)}/`, 30_000)));
  await fleet.edge.setUpstreams(fleet.routeId, f.instances.map(upstream));
  return f;
}

/**
 * Replaces every instance, one at a time: stop the old one (SIGTERM, SIGKILL after
 * `stopTimeoutSeconds`, as `docker stop`), start the new one, swap it into the route at once.
 */
export async function naiveReplace(
  fleet: NaiveFleet,
  revision: string,
  image: string,
  stopTimeoutSeconds: number,
): Promise<void> {
  for (const [index, old] of fleet.instances.entries()) {
    await fleet.runtime.stop(old, { timeoutSeconds: stopTimeoutSeconds });
    await fleet.runtime.remove(old);
    const next = await start(fleet, revision, image, index);
    const live = fleet.instances.map((i) => (i === old ? next : i));
    await fleet.edge.setUpstreams(fleet.routeId, live.map(upstream));
    fleet.instances = live;
  }
}
