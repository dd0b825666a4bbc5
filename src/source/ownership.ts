/**
 * Who may deploy an app name: the repo folder that claimed it first, unless the controller config
 * gives it to one (`repos[].owns`). A push from anywhere else naming that app is refused before
 * anything of the app changes, so no repo can take over another's record, route or domain.
 */
import { GantryError } from '../errors.js';
import type { AppOwner } from '../store/records.js';
import type { Store } from '../store/store.js';
import type { RepoRegistry } from './repos.js';

/** A repo folder that names an app in its gantry.yaml. */
export interface Claimant {
  repo: string;
  path: string;
}

export type Ownership = { ok: true } | { ok: false; owner: AppOwner };

/** The owner the controller config names for `app`, if any. */
export function configuredOwner(repos: RepoRegistry, app: string): Claimant | undefined {
  for (const { config } of repos.all()) {
    const owned = config.owns?.find((o) => o.app === app);
    if (owned) return { repo: config.name, path: owned.path };
  }
  return undefined;
}

/**
 * Whether `claimant` may deploy `app`. Config wins and is written through, so the name stays with
 * its repo if the entry is later removed; otherwise the first claim in Redis decides (atomic).
 */
export async function claimApp(
  store: Store,
  repos: RepoRegistry,
  app: string,
  claimant: Claimant,
): Promise<Ownership> {
  const configured = configuredOwner(repos, app);
  if (configured) {
    const owner: AppOwner = { ...configured, at: new Date().toISOString(), source: 'config' };
    if (!sameFolder(configured, claimant)) return { ok: false, owner };
    const recorded = await store.getAppOwner(app);
    if (!recorded || !sameFolder(recorded, configured)) await store.setAppOwner(app, owner);
    return { ok: true };
  }
  const owner = await store.claimApp(app, claimant);
  return sameFolder(owner, claimant) ? { ok: true } : { ok: false, owner };
}

/** The refusal of a claim, naming who owns the app and how the name can be freed. */
export function appOwnedError(app: string, owner: Claimant, claimant: Claimant): GantryError {
  return new GantryError(
    'GANTRY_ERR_APP_OWNED',
    `app "${app}" belongs to repo ${owner.repo}, folder ${owner.path}; ` +
      `repo ${claimant.repo}, folder ${claimant.path} cannot deploy it. ` +
      `Rename the app in its gantry.yaml, or have an admin release the name (gantry apps:release ${app}).`,
    { details: { app, owner: { repo: owner.repo, path: owner.path } } },
  );
}

function sameFolder(a: Claimant, b: Claimant): boolean {
  return a.repo === b.repo && normalPath(a.path) === normalPath(b.path);
}

/** `./svc/` and `svc` are one folder. */
function normalPath(p: string): string {
  const trimmed = p.replace(/^\.\/+/, '').replace(/\/+$/, '');
  return trimmed === '' ? '.' : trimmed;
}
