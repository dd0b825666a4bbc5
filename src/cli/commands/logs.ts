import { api, appPath, withQuery } from '../client.js';
import { EXIT, type ExitCode } from '../exit.js';
import { short } from '../format.js';
import type { InstanceLogs } from '../views.js';
import { printJson, type Ctx } from './context.js';

/** `gantry logs APP [--env E] [--lines N]`: each instance's last lines under a header. */
export async function logs(
  ctx: Ctx,
  cmd: { app: string; env?: string | undefined; lines?: number | undefined },
): Promise<ExitCode> {
  const res = await api<{ instances: InstanceLogs[] }>(
    ctx.client(),
    withQuery(appPath(cmd.app, '/logs'), { env: cmd.env, lines: cmd.lines }),
  );
  if (ctx.common.json) return (printJson(ctx, res), EXIT.ok);
  if (res.instances.length === 0)
    ctx.out(`no instances of ${cmd.app}${cmd.env ? `/${cmd.env}` : ''}`);
  for (const i of res.instances) ctx.out(logBlock(i));
  return EXIT.ok;
}

/** `==> production/web-1 (1a2b3c4 on local, running) <==` and the lines. Pure. */
export function logBlock(i: InstanceLogs): string {
  const where = i.env ? `${i.env}/${i.slot}` : i.slot;
  const state = i.state ? `, ${i.state}` : '';
  return [
    `==> ${where} (${short(i.revision).slice(0, 7)} on ${i.host}${state}) <==`,
    ...i.lines,
  ].join('\n');
}
