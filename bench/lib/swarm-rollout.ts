/**
 * The zero-downtime bench's peer: the same good and bad update done by Docker Swarm (start-first,
 * one at a time, rollback on failure, the same health check), unloaded (its routing mesh needs
 * IPVS, which not every kernel has). Leaves the swarm as it found it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { shellJoin, type Row } from './report.js';
import * as swarm from './swarm.js';

export interface SwarmRolloutResult {
  readonly rows: Row[];
  readonly notes: string[];
  readonly commands: string[];
  /** The good update's duration (ms), when it was measured. */
  readonly goodMs?: number;
}

export interface SwarmRolloutOptions {
  readonly service: string;
  readonly images: { readonly good1: string; readonly good2: string; readonly bad: string };
  readonly replicas: number;
  readonly health: Omit<swarm.SwarmHealth, 'cmd'>;
  readonly healthCmd: string;
  readonly timeoutMs: number;
}

/** Creates the service at good1, updates it to good2, then to bad (rolled back); removes it. */
export async function swarmRollouts(o: SwarmRolloutOptions): Promise<SwarmRolloutResult> {
  const rows: Row[] = [];
  const notes: string[] = [];
  const commands: string[] = [];
  let goodMs: number | undefined;
  let initialised = false;
  let created = false;
  try {
    ({ initialised } = await swarm.ensureSwarm());
    if (initialised) commands.push(`docker ${swarm.swarmInitArgs().join(' ')}`);
    const spec: swarm.SwarmServiceSpec = {
      name: o.service,
      image: o.images.good1,
      replicas: o.replicas,
      health: { cmd: o.healthCmd, ...o.health },
      monitorS: 1,
    };
    commands.push(`docker ${shellJoin(swarm.serviceCreateArgs(spec))}`);
    await swarm.docker(swarm.serviceCreateArgs(spec));
    created = true;
    await swarm.waitRunning(o.service, o.images.good1, o.replicas, 60_000);

    commands.push(`docker ${shellJoin(swarm.serviceUpdateImageArgs(o.service, o.images.good2))}`);
    const good = await swarm.updateAndWait(o.service, o.images.good2, { timeoutMs: o.timeoutMs });
    goodMs = good.endedAt - good.startedAt;
    rows.push({
      name: `swarm: ${o.replicas}-replica start-first update, no load`,
      rolloutMs: goodMs,
    });
    notes.push(`swarm: update ended ${good.status.State} (${good.status.Message ?? ''})`);

    commands.push(`docker ${shellJoin(swarm.serviceUpdateImageArgs(o.service, o.images.bad))}`);
    const bad = await swarm.updateAndWait(o.service, o.images.bad, { timeoutMs: o.timeoutMs });
    const firstFail = await swarm.firstCountedFailure(
      o.service,
      o.images.bad,
      o.health.startPeriodS * 1000,
    );
    rows.push({
      name: 'swarm: bad update → rollback, no load',
      rolloutMs: bad.endedAt - bad.startedAt,
      ...(firstFail === undefined ? {} : { detectMs: bad.endedAt - firstFail }),
    });
    notes.push(`swarm: bad update ended ${bad.status.State} (${bad.status.Message ?? ''})`);
    const back = (await swarm.tasks(o.service)).filter(
      (t) => t.desired === 'Running' && t.current.startsWith('Running'),
    );
    notes.push(
      `swarm: after the rollback, running: ${back.length} × ${[...new Set(back.map((t) => t.image))].join(', ')}`,
    );
  } catch (e) {
    notes.push(`swarm: not measured: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    if (created) await swarm.docker(swarm.serviceRemoveArgs(o.service)).catch(() => undefined);
    if (initialised) {
      // Tasks must be gone before the node leaves, or their containers linger.
      await sleep(2_000);
      await swarm.docker(swarm.swarmLeaveArgs()).catch(() => undefined);
    }
  }
  return { rows, notes, commands, ...(goodMs === undefined ? {} : { goodMs }) };
}
