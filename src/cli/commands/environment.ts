/** An environment's standing: lock, unlock, unpin, and prune (removing an orphaned one). */
import { api, appPath } from '../client.js';
import { EXIT, type ExitCode } from '../exit.js';
import { untilTime } from '../args.js';
import { printJson, type Ctx } from './context.js';
import { followToOutcome } from './follow.js';

const post = (body: unknown): RequestInit => ({ method: 'POST', body: JSON.stringify(body) });
const where = (app: string, env: string | undefined) => (env ? `${app}/${env}` : app);

/** `gantry lock APP --env E --reason … [--until 2h|TIME]`: deploys wait; rollbacks still run. */
export async function lock(
  ctx: Ctx,
  cmd: { app: string; env?: string | undefined; reason: string; until?: string | undefined },
): Promise<ExitCode> {
  const until = cmd.until === undefined ? undefined : untilTime(cmd.until, ctx.now());
  const res = await api<{ lock: { reason: string; by: string; until?: string } }>(
    ctx.client(),
    appPath(cmd.app, '/lock'),
    post({ env: cmd.env, reason: cmd.reason, until }),
  );
  if (ctx.common.json) return (printJson(ctx, res), EXIT.ok);
  const u = res.lock.until ? ` until ${res.lock.until}` : '';
  ctx.out(
    `locked ${where(cmd.app, cmd.env)}${u}: ${res.lock.reason} (deploys wait; rollbacks still run)`,
  );
  return EXIT.ok;
}

/** `gantry unlock APP --env E`. */
export async function unlock(
  ctx: Ctx,
  cmd: { app: string; env?: string | undefined },
): Promise<ExitCode> {
  const res = await api<object>(ctx.client(), appPath(cmd.app, '/unlock'), post({ env: cmd.env }));
  if (ctx.common.json) printJson(ctx, res);
  else ctx.out(`unlocked ${where(cmd.app, cmd.env)}`);
  return EXIT.ok;
}

/** `gantry unpin APP --env E`: automation may deploy again; follows the re-deploy it starts. */
export async function unpin(
  ctx: Ctx,
  cmd: { app: string; env?: string | undefined },
): Promise<ExitCode> {
  const res = await api<{ rolloutId?: string }>(
    ctx.client(),
    appPath(cmd.app, '/unpin'),
    post({ env: cmd.env }),
  );
  if (!res.rolloutId) {
    if (ctx.common.json) printJson(ctx, res);
    else ctx.out(`unpinned ${where(cmd.app, cmd.env)}; the branch head already runs`);
    return EXIT.ok;
  }
  if (!ctx.common.json)
    ctx.out(
      `unpinned ${where(cmd.app, cmd.env)}; deploying the branch head: rollout ${res.rolloutId}`,
    );
  return followToOutcome(ctx, res.rolloutId);
}

/** `gantry prune APP --env E [--force]`: removes an orphaned environment's instances and route. */
export async function prune(
  ctx: Ctx,
  cmd: { app: string; env: string; force: boolean },
): Promise<ExitCode> {
  const res = await api<{ instances: number; route: string | null; forced: boolean }>(
    ctx.client(),
    appPath(cmd.app, '/prune'),
    post({ env: cmd.env, ...(cmd.force ? { force: true } : {}) }),
  );
  if (ctx.common.json) return (printJson(ctx, res), EXIT.ok);
  const route = res.route ? `, route ${res.route}` : '';
  const forced = res.forced ? ' (forced: it was not orphaned)' : '';
  ctx.out(`pruned ${cmd.app}/${cmd.env}: ${res.instances} instance(s) removed${route}${forced}`);
  return EXIT.ok;
}
