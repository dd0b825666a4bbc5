/**
 * The release phase: `release.command` from gantry.yaml, run once per rollout before any new
 * instance starts, in a one-off container of the new release's image with its config.
 *
 * - A non-zero exit or a timeout fails the rollout before anything changed: the old release keeps
 *   serving, and the command's last lines (redacted) are the evidence.
 * - Its output streams as rollout events (capped), so every follower sees it like a build log.
 * - Rollbacks skip it: they restore a release whose command already ran, against a database that
 *   has since moved on; running an old migration tool there can only make the way back riskier.
 * - Crash safety: the container is named after the rollout, so a resumed attempt attaches to the
 *   one still running (or reads the result of one that finished) instead of starting a second.
 *   Only a run that finished and was removed before its result was saved runs again: release
 *   commands must be safe to repeat (migration tools skip what they applied).
 */
import type { AppSpec } from '../config/app-spec.js';
import { secretRedactor } from '../release/redact-secrets.js';
import type { ReleasePhaseResult, RolloutEventRecord, RolloutRecord } from '../store/records.js';
import type { ReleaseConfig } from './instance-spec.js';
import { oneOffSpec } from './one-off-spec.js';
import { OutputLines } from './output-lines.js';
import { configOf } from './release-config.js';
import type { Fence, RolloutDeps } from './rollout-deps.js';
import { runnerLine, type RunnerEvent } from './runner-events.js';
import { finishRecord, persist } from './settle.js';

/** Output lines stored as events (a rollout keeps 500 events in all). */
export const RELEASE_OUTPUT_LINES = 200;
/** Lines kept as the evidence of a failure. */
export const RELEASE_EVIDENCE_LINES = 40;
const FLUSH_MS = 250;
/** Output lines quoted in the rollout's one-line reason. */
const REASON_LINES = 3;

export type ReleasePhaseOutcome =
  | { readonly kind: 'go'; readonly rec: RolloutRecord }
  | { readonly kind: 'failed'; readonly rec: RolloutRecord };

/** Whether this rollout runs the release command, or why not. Pure. */
export function releasePhaseDecision(
  spec: AppSpec,
  rec: Pick<RolloutRecord, 'kind' | 'releasePhase'> & Partial<Pick<RolloutRecord, 'to' | 'plan'>>,
): { run: true } | { run: false; why?: string } {
  if (!spec.release) return { run: false };
  if (rec.kind !== 'deploy') {
    return { run: false, why: 'a rollback restores a release whose command already ran' };
  }
  // Neither brings new code or config: the command already ran for what they run.
  if (rec.to?.instancesOf !== undefined)
    return { run: false, why: 'a scale change runs the release that already ran it' };
  if ((rec.plan as { restart?: unknown } | undefined)?.restart !== undefined)
    return { run: false, why: 'a restart runs the release that already ran it' };
  if (rec.releasePhase && rec.releasePhase.exitCode === 0 && !rec.releasePhase.timedOut) {
    return { run: false, why: 'it succeeded before this attempt resumed' };
  }
  return { run: true };
}

/** Runs the release phase when the rollout has one; `failed` ends the rollout (record closed). */
export async function runReleasePhase(
  deps: RolloutDeps,
  rec: RolloutRecord,
  spec: AppSpec,
  configs: ReadonlyMap<number | undefined, ReleaseConfig>,
  fence: Fence | undefined,
): Promise<ReleasePhaseOutcome> {
  const decision = releasePhaseDecision(spec, rec);
  const release = spec.release;
  if (!decision.run || !release) {
    const why = decision.run ? undefined : decision.why;
    if (why) await append(deps, rec, [{ kind: 'release-skipped', at: Date.now(), why }]);
    return { kind: 'go', rec };
  }
  fence?.check();
  const config = configOf(configs, rec.to.release);
  const redact = secretRedactor(Object.values(config.secrets));
  const host = deps.runtime.hosts()[0] ?? 'local';
  const command = release.command.map(redact);
  await append(deps, rec, [
    { kind: 'release-started', at: Date.now(), command, timeoutMs: release.timeoutMs },
  ]);

  // Lines are batched into one Redis write per FLUSH_MS: a chatty command stays cheap.
  let pending: RunnerEvent[] = [];
  const flush = async () => {
    const batch = pending;
    pending = [];
    await append(deps, rec, batch);
  };
  const output = new OutputLines(redact, {
    keep: RELEASE_OUTPUT_LINES,
    tail: RELEASE_EVIDENCE_LINES,
    onLine: (line) => pending.push({ kind: 'release-output', at: Date.now(), line }),
  });
  const timer = setInterval(() => void flush().catch(() => undefined), FLUSH_MS);
  const started = Date.now();
  let result;
  try {
    result = await deps.runtime.runOnce(
      oneOffSpec({
        spec,
        env: rec.env,
        purpose: 'release',
        key: rec.id,
        command: release.command,
        revision: rec.to.sha,
        image: rec.to.image,
        host,
        config,
        release: rec.to.release,
      }),
      { timeoutMs: release.timeoutMs, onOutput: (chunk) => output.push(chunk) },
    );
  } finally {
    clearInterval(timer);
    output.end();
    await flush().catch(() => undefined);
  }
  const durationMs = Date.now() - started;
  const extra: RunnerEvent[] = [];
  if (output.droppedLines > 0) {
    extra.push({
      kind: 'release-output',
      at: Date.now(),
      line: `… ${output.droppedLines} more lines not stored (the last ${RELEASE_EVIDENCE_LINES} are the evidence)`,
    });
  }
  const { exitCode, timedOut } = result;
  await append(deps, rec, [
    ...extra,
    { kind: 'release-finished', at: Date.now(), exitCode, timedOut, durationMs },
  ]);
  const phase: ReleasePhaseResult = {
    exitCode,
    timedOut,
    durationMs,
    finishedAt: new Date().toISOString(),
  };
  let next: RolloutRecord = { ...rec, releasePhase: phase };
  if (exitCode === 0 && !timedOut) {
    // Saved before any instance starts: a resumed attempt skips the phase.
    await persist(deps, next, fence);
    return { kind: 'go', rec: next };
  }
  const tail = output.tail();
  // The last few lines in the reason itself: what a list of rollouts shows in one line.
  const last = tail.slice(-REASON_LINES).join(' ⏎ ');
  const reason = timedOut
    ? `release command timed out after ${Math.round(release.timeoutMs / 1000)} s${last ? `: ${last}` : ''}; nothing changed`
    : `release command exited ${exitCode}${last ? `: ${last}` : ''}; nothing changed`;
  next = { ...next, failureLogs: { slot: 'release', lines: tail } };
  // Not retried automatically for the same commit, as any failed rollout (settle.ts).
  await deps.rollouts.markFailed(rec.app, rec.env, rec.to.sha);
  deps.log.info(
    { rollout: rec.id, app: rec.app, env: rec.env, exitCode, timedOut },
    'release phase failed',
  );
  return { kind: 'failed', rec: await finishRecord(deps, next, 'failed', reason, fence) };
}

async function append(
  deps: RolloutDeps,
  rec: RolloutRecord,
  events: readonly RunnerEvent[],
): Promise<void> {
  if (events.length === 0) return;
  const lines: RolloutEventRecord[] = events.map(runnerLine);
  await deps.rollouts.appendEvents(rec, lines);
}
