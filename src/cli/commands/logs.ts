import { api, appPath, withQuery } from '../client.js';
import { EXIT, type ExitCode } from '../exit.js';
import { short } from '../format.js';
import { readEventStream, type SseFrame } from '../sse.js';
import type { InstanceLogs } from '../views.js';
import { printJson, type Ctx } from './context.js';

/** What `gantry logs` was asked for. */
export interface LogsCommand {
  app: string;
  env?: string | undefined;
  lines?: number | undefined;
  since?: string | undefined;
  follow?: boolean | undefined;
}

/**
 * `gantry logs APP [--env E] [--lines N] [--since 10m] [--follow]`: each instance's last lines
 * under a header; with --since or --follow, one stream of lines each prefixed by its instance,
 * which with --follow carries on across rollouts (new instances join, stopped ones leave).
 */
export async function logs(ctx: Ctx, cmd: LogsCommand, signal?: AbortSignal): Promise<ExitCode> {
  if (cmd.follow || cmd.since !== undefined) return streamLogs(ctx, cmd, signal);
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

/** One frame of the log stream as the line to print; undefined for frames not printed. Pure. */
export function logStreamLine(f: SseFrame, withEnv: boolean): string | undefined {
  let d: { env?: string; slot?: string; revision?: string; line?: string; message?: string };
  try {
    d = JSON.parse(f.data) as typeof d;
  } catch {
    return undefined;
  }
  const where = withEnv ? `${d.env ?? '?'}/${d.slot ?? '?'}` : (d.slot ?? '?');
  switch (f.event) {
    case 'line':
      return `${where} | ${d.line ?? ''}`;
    case 'joined':
      return `--- ${where} joined (${(d.revision ?? '').slice(0, 7)})`;
    case 'left':
      return `--- ${where} left`;
    case 'error':
      return `--- the stream ended on an error: ${d.message ?? ''}`;
    default:
      return undefined;
  }
}

async function streamLogs(
  ctx: Ctx,
  cmd: LogsCommand,
  signal: AbortSignal | undefined,
): Promise<ExitCode> {
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  signal?.addEventListener('abort', onSigint, { once: true });
  if (!signal) process.once('SIGINT', onSigint);
  const path = withQuery(appPath(cmd.app, '/logs'), {
    env: cmd.env,
    lines: cmd.lines,
    since: cmd.since,
    follow: cmd.follow ? 1 : undefined,
  });
  try {
    const ran = await readEventStream(
      ctx.client(),
      path,
      (f) => {
        if (ctx.common.json) {
          if (f.event === 'line' || f.event === 'joined' || f.event === 'left') {
            ctx.out(JSON.stringify({ event: f.event, ...(JSON.parse(f.data) as object) }));
          }
          return;
        }
        const line = logStreamLine(f, cmd.env === undefined);
        if (line !== undefined) ctx.out(line);
      },
      stop.signal,
    );
    // Not a stream: the controller said why (unknown app, no deploys…); api() throws it.
    if (!ran && !stop.signal.aborted) await api(ctx.client(), path);
    return EXIT.ok;
  } finally {
    process.removeListener('SIGINT', onSigint);
    signal?.removeEventListener('abort', onSigint);
  }
}
