/**
 * What every change of a running environment that needs no build does next (`config:set`,
 * `config:unset`, `scale`): a release of the running image with the environment's config as it
 * is now, rolled out through the same health gates as a deploy (a freeze holds it like one).
 */
import type { DeployedRevision } from '../../store/records.js';
import type { ReleaseChange, ReleaseRecord } from '../../release/releases.js';
import { enqueueRollout } from '../enqueue.js';
import type { ConfigStore } from '../../release/config-store.js';
import type { ReleaseStore } from '../../release/releases.js';
import type { OpsDeps } from './context.js';

/** What operations that change an environment's config or scale need. */
export type ConfigDeps = OpsDeps & { config: ConfigStore; releases: ReleaseStore };

export async function releaseRunning(
  deps: ConfigDeps,
  req: {
    app: string;
    env: string;
    current: DeployedRevision;
    change: ReleaseChange;
    actor: string;
    via: 'config' | 'scale';
  },
): Promise<{ release: ReleaseRecord; rolloutId: string }> {
  const { app, env, current } = req;
  const release = await deps.releases.create({
    app,
    env,
    sha: current.sha,
    image: current.image,
    config: await deps.config.snapshot(app, env),
    change: req.change,
    by: req.actor,
  });
  const rolloutId = await enqueueRollout(deps, {
    app,
    env,
    sha: current.sha,
    kind: 'deploy',
    trigger: { kind: 'manual', actor: req.actor, via: req.via },
    release: release.version,
  });
  return { release, rolloutId };
}
