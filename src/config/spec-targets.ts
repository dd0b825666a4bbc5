/**
 * gantry.yaml against the controller that reads it: every environment's `target:` must name one
 * of the controller's targets (`local`, the default, always does: it means the default target).
 */
import { isRecord, type RuleIssue } from './app-spec-rules.js';

/** What gantry.yaml's `target:` defaults to; it always means the controller's default target. */
export const DEFAULT_TARGET_NAME = 'local';

/** The controller's targets as a spec check needs them. */
export interface KnownTargets {
  readonly names: readonly string[];
  readonly defaultTarget: string;
}

/** One issue per environment whose `target:` the controller does not have (pure). */
export function targetIssues(data: unknown, known: KnownTargets): RuleIssue[] {
  const envs = isRecord(data) ? data.environments : undefined;
  if (!isRecord(envs)) return [];
  return Object.entries(envs).flatMap(([env, value]): RuleIssue[] => {
    const target = isRecord(value) ? value.target : undefined;
    if (typeof target !== 'string' || resolveTargetName(known, target) !== undefined) return [];
    return [
      {
        path: ['environments', env, 'target'],
        predicate: `names target "${target}", which this controller does not have (its targets: ${known.names.join(', ')})`,
      },
    ];
  });
}

/**
 * The target an environment's `target:` names (pure): itself when the controller has it, the
 * default for `local` (gantry.yaml's default) when no target has that name; undefined otherwise.
 */
export function resolveTargetName(
  plan: KnownTargets,
  target: string | undefined,
): string | undefined {
  const wanted = target ?? DEFAULT_TARGET_NAME;
  if (plan.names.includes(wanted)) return wanted;
  return wanted === DEFAULT_TARGET_NAME ? plan.defaultTarget : undefined;
}
