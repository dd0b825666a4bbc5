/**
 * What a rollout does about its instances once an unreachable engine answers again. A stopping
 * Docker engine stops every container; when it starts again it restarts only those its restart
 * policy asks for (on-failure: a non-zero exit, such as 143 after SIGTERM), so an app that exits 0
 * on SIGTERM, as a graceful one does, stays stopped. Nobody asked for that and the revision is
 * not to blame: such instances are started again before anything is judged, or the core would
 * read "exited with code 0" as a failed revision and roll back. Pure.
 */
import type { Action, RolloutState } from '../rollout/index.js';
import type { Instance } from '../runtime/runtime.js';

type StartAction = Extract<Action, { kind: 'start' }>;

/**
 * Start actions for the instances the core tracks and still wants that are stopped now. A crash
 * loop that used up its restarts is left for the core to judge.
 */
export function restartsAfterOutage(
  state: RolloutState,
  instances: readonly Instance[],
  maxRestarts: number,
): StartAction[] {
  // By id once the core has seen it, by slot before (started, then the engine went away).
  const wanted = state.instances.filter((t) => t.retire === null);
  const isWanted = (i: Instance): boolean =>
    wanted.some((t) => (t.id === null ? t.slot === i.slot : t.id === i.id));
  return instances
    .filter((i) => i.state === 'exited' && i.restartCount < maxRestarts && isWanted(i))
    .map((i) => ({
      kind: 'start',
      slot: i.slot,
      revision: i.revision,
      image: i.image,
      host: i.host,
      ...(typeof i.release === 'number' ? { release: i.release } : {}),
      // Started again as the process it was: the start finds its container by its name.
      ...(typeof i.process === 'string' && i.process !== 'web' ? { process: i.process } : {}),
    }));
}
