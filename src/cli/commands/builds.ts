import { EXIT, type ExitCode } from '../exit.js';
import { followBuildLog } from '../follow.js';
import type { Ctx } from './context.js';

/** `gantry build-log BUILD_ID [--follow]`: exits 1 when the build failed. */
export async function buildLog(ctx: Ctx, buildId: string, follow: boolean): Promise<ExitCode> {
  const build = await followBuildLog(ctx.client(), buildId, { follow, write: (l) => ctx.out(l) });
  return build.status === 'failed' ? EXIT.failed : EXIT.ok;
}
