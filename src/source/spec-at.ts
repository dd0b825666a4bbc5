import { parseAppSpec, type AppSpec } from '../config/app-spec.js';
import type { KnownTargets } from '../config/spec-targets.js';
import { DEFAULT_MAX_BYTES } from '../config/yaml-source.js';
import { GantryError } from '../errors.js';
import type { TrackedRepo } from './repos.js';
import { specPath } from './sync.js';

/**
 * The app spec exactly as the commit holds it (fetching the commit first if the cache lacks it);
 * with `targets`, checked against the controller's targets too.
 */
export async function specAt(
  repo: TrackedRepo,
  appPath: string,
  sha: string,
  branch: string,
  targets?: KnownTargets,
): Promise<AppSpec> {
  await repo.cache.ensureCommit(sha, branch);
  const file = specPath(appPath);
  // The parser refuses a larger file anyway: refuse it before it is read into memory.
  const text = await repo.cache.readFile(sha, file, { maxBytes: DEFAULT_MAX_BYTES });
  if (text === null) throw new GantryError('GANTRY_ERR_SPEC_MISSING', `${file}: not found`);
  return parseAppSpec(text.toString('utf8'), file, { targets });
}
