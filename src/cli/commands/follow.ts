import { EXIT, type ExitCode } from '../exit.js';
import { followRolloutById } from '../follow-rollout.js';
import { exitCodeFor } from '../progress.js';
import { printJson, type Ctx } from './context.js';

/**
 * After a rollout was enqueued: with --no-wait print its id; otherwise follow it to its outcome
 * (live on a terminal, lines elsewhere) and exit by how it ended. With --json only the final
 * rollout is printed.
 */
export async function followToOutcome(
  ctx: Ctx,
  rolloutId: string,
  how: { queued: boolean } = { queued: true },
): Promise<ExitCode> {
  if (!ctx.common.wait) {
    if (ctx.common.json) printJson(ctx, { rolloutId });
    else ctx.out(rolloutId);
    return EXIT.ok;
  }
  const display = ctx.display();
  // Ctrl-C stops following, not the rollout: say so, and how to pick it up again.
  const interrupted = () => {
    display.done();
    process.stderr.write(
      `stopped following; ${rolloutId} carries on (gantry rollout ${rolloutId} --follow)\n`,
    );
    process.exit(EXIT.interrupted);
  };
  process.once('SIGINT', interrupted);
  try {
    const view = await followRolloutById(ctx.client(), rolloutId, {
      display,
      queued: how.queued,
    });
    if (ctx.common.json) printJson(ctx, view);
    return exitCodeFor(view);
  } finally {
    process.off('SIGINT', interrupted);
  }
}
