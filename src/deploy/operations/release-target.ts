/**
 * `rollback --to vN`: the rollout that last ran release N successfully, whose image and config a
 * rollback restores. Pure, like the sha form in choices.ts.
 */
import type { RollbackChoice, RollbackInput } from './choices.js';

/** A release number as people write it: `v7` (or `V7`). */
export const RELEASE_REF = /^[vV]([1-9][0-9]{0,8})$/;

/** The release number `to` names, or undefined when it is not of the `vN` form. */
export function releaseRef(to: string | undefined): number | undefined {
  const m = to === undefined ? null : RELEASE_REF.exec(to);
  return m ? Number(m[1]) : undefined;
}

/**
 * The rollout to restore release `version` from: it must have run here successfully (a release
 * whose rollout failed never served), and must not be the release serving now.
 */
export function chooseReleaseTarget(
  input: Pick<RollbackInput, 'records' | 'current'>,
  version: number,
): RollbackChoice {
  const { current } = input;
  if (current === null) {
    return { ok: false, code: 'GANTRY_ERR_NO_ROLLBACK_TARGET', why: 'nothing runs here yet' };
  }
  if (current.release === version) {
    return {
      ok: false,
      code: 'GANTRY_ERR_ROLLBACK_TARGET_INVALID',
      why: `v${version} is what runs now`,
    };
  }
  const rec = input.records.find((r) => r.outcome === 'succeeded' && r.to.release === version);
  if (!rec) {
    return {
      ok: false,
      code: 'GANTRY_ERR_ROLLBACK_TARGET_INVALID',
      why: `v${version} never ran successfully in this environment`,
    };
  }
  return { ok: true, sha: rec.to.sha, image: rec.to.image, rolloutId: rec.id };
}
