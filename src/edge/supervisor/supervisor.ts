/**
 * `gantry edge --dir DIR`: the process that keeps the managed edge (front and back Caddy) running
 * independently of any controller, so a controller restart or `kill -9` takes no app offline.
 *
 * - Each Caddy is adopted if a previous supervisor left it running, else started; a Caddy that
 *   dies, even by kill -9, is started again within about a second with the config it had
 *   (see caddy-keeper.ts).
 * - The supervisor dying does not stop the edge: Caddy runs in sessions of its own, keeps
 *   serving, and the next supervisor (started by the next `ensureEdge`) adopts it.
 * - SIGTERM or SIGINT to the supervisor stops the supervisor AND both Caddy processes: that is
 *   an operator (or systemd, or `stopEdge`) stopping the edge service, and meaning it. Routes are
 *   not lost: Caddy's autosave brings them back on the next start.
 * - One supervisor per DIR, enforced by DIR/supervisor.lock.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { GantryError, errorMessage } from '../../errors.js';
import { tryLock } from '../../process/lock-file.js';
import type { ArgvMatch } from '../../process/pid.js';
import type { Tier } from '../caddy/names.js';
import { CaddyKeeper } from './caddy-keeper.js';
import {
  TIERS,
  edgePaths,
  readEdgeState,
  writeEdgeState,
  type EdgeState,
  type TierState,
} from './edge-state.js';

/** Matches the argv of `gantry edge --dir <dir>` (however node was started). */
export function supervisorRunning(dir: string): ArgvMatch {
  return (argv) => argv.includes('edge') && (argv.includes(`--dir=${dir}`) || argv.includes(dir));
}

export interface EdgeSupervisor {
  /** Stops both Caddy processes, then the supervision; records the edge as stopped. */
  stop(): Promise<void>;
}

/** Adopts or starts both tiers of the edge in `dir`, keeps them running until `stop()`. */
export async function runEdgeSupervisor(opts: {
  dir: string;
  log?: (line: string) => void;
}): Promise<EdgeSupervisor> {
  const dir = resolve(opts.dir);
  const log = opts.log ?? ((line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`));
  const paths = edgePaths(dir);
  await mkdir(dir, { recursive: true });
  const release = await tryLock(paths.supervisorLock, supervisorRunning(dir));
  if (!release) {
    throw new GantryError(
      'GANTRY_ERR_EDGE_UNAVAILABLE',
      `another supervisor holds ${paths.supervisorLock}: the edge in ${dir} is already supervised`,
    );
  }

  const previous = await readEdgeState(dir);
  let state: EdgeState = { front: previous.front, back: previous.back };
  // Writes go one after another, each with the state as it is then: the last one wins.
  let saving = Promise.resolve();
  const save = (): Promise<void> => {
    saving = saving
      .then(() => writeEdgeState(dir, state))
      .catch((e: unknown) => log(`cannot write ${paths.state}: ${errorMessage(e)}`));
    return saving;
  };
  const keeperOf = (tier: Tier) =>
    new CaddyKeeper({
      tier,
      paths: paths[tier],
      log,
      onChange: (t: TierState) => {
        state = { ...state, [tier]: t };
        void save();
      },
    });
  const keepers = { front: keeperOf('front'), back: keeperOf('back') };

  const stopAll = async (): Promise<void> => {
    await Promise.all(TIERS.map((t) => keepers[t].stop()));
    // Admin URLs stay recorded: the next start looks there first.
    state = {
      front: state.front && { adminUrl: state.front.adminUrl },
      back: state.back && { adminUrl: state.back.adminUrl },
    };
    await save();
    await release();
  };

  const started = await Promise.allSettled(TIERS.map((t) => keepers[t].start(previous[t])));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    // One tier alone serves nothing: do not leave the other half running.
    await stopAll();
    throw new GantryError(
      'GANTRY_ERR_EDGE_UNAVAILABLE',
      `cannot start the edge in ${dir}: ${errorMessage(failed.reason)}`,
      { cause: failed.reason },
    );
  }
  state = { ...state, supervisorPid: process.pid };
  await save();
  log(`edge in ${dir} supervised by pid ${process.pid}`);

  let stopping: Promise<void> | undefined;
  return {
    stop: () => {
      stopping ??= stopAll().then(() => log('edge stopped'));
      return stopping;
    },
  };
}

/** The CLI verb: supervises until SIGTERM or SIGINT, then stops the edge and exits. */
export async function superviseUntilSignal(dir: string): Promise<void> {
  const supervisor = await runEdgeSupervisor({ dir });
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stdout.write(`${new Date().toISOString()} ${signal}: stopping the edge\n`);
    supervisor.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`stopping the edge failed: ${errorMessage(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
