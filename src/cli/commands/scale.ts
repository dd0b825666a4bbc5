/**
 * `gantry scale` and `gantry restart`: each queues a rollout of what runs (a scale makes a new
 * release first) and follows it live, like `config:set`.
 */
import { api, appPath } from '../client.js';
import { EXIT, type ExitCode } from '../exit.js';
import { restartText, scaleText, type RestartAnswer, type ScaleAnswer } from '../scale-format.js';
import { printJson, type Ctx } from './context.js';
import { followToOutcome } from './follow.js';

/** `gantry scale APP PROCESS=N… [--env E]` */
export async function scale(
  ctx: Ctx,
  cmd: { app: string; env?: string | undefined; processes: Record<string, number> },
): Promise<ExitCode> {
  const res = await api<ScaleAnswer>(ctx.client(), appPath(cmd.app, '/scale'), {
    method: 'POST',
    body: JSON.stringify({ env: cmd.env, processes: cmd.processes }),
  });
  if (!ctx.common.json) ctx.out(scaleText(res));
  if (!res.rolloutId) {
    if (ctx.common.json) printJson(ctx, res);
    return EXIT.ok;
  }
  return followToOutcome(ctx, res.rolloutId);
}

/** `gantry restart APP [--env E] [--process P]` */
export async function restart(
  ctx: Ctx,
  cmd: { app: string; env?: string | undefined; process?: string | undefined },
): Promise<ExitCode> {
  const res = await api<RestartAnswer>(ctx.client(), appPath(cmd.app, '/restart'), {
    method: 'POST',
    body: JSON.stringify({ env: cmd.env, process: cmd.process }),
  });
  if (!ctx.common.json) ctx.out(restartText(res));
  return followToOutcome(ctx, res.rolloutId);
}
