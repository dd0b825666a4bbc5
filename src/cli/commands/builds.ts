import type { BuildRecord } from '../../store/records.js';
import { EXIT, type ExitCode } from '../exit.js';
import { followBuildLog } from '../follow.js';
import type { Ctx } from './context.js';

/** `gantry build-log BUILD_ID [--follow]`: exits 1 when the build failed. */
export async function buildLog(ctx: Ctx, buildId: string, follow: boolean): Promise<ExitCode> {
  const build = await followBuildLog(ctx.client(), buildId, { follow, write: (l) => ctx.out(l) });
  const state = buildState(build);
  if (state) ctx.out(state);
  return build.status === 'failed' ? EXIT.failed : EXIT.ok;
}

/**
 * Where the build stands, in a line, when its log alone does not say: waiting for a retry
 * (attempt n of m failed, next try at T), or failed for good (after how many attempts).
 */
export function buildState(build: BuildRecord): string | null {
  const r = build.retry;
  if (build.status === 'queued' && r?.nextAt) {
    return `waiting: attempt ${r.attempt} of ${r.of} failed (${r.lastError?.message ?? 'unknown error'}); next try at ${r.nextAt}`;
  }
  if (build.status === 'failed' && build.failure) {
    const tries = r && r.attempt > 1 ? ` after ${r.attempt} of ${r.of} attempts` : '';
    return `✘ build ${build.id} failed${tries}: ${build.failure.code}: ${build.failure.message.split('\n')[0]}`;
  }
  return null;
}
