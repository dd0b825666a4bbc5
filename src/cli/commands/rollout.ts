/** One rollout: show it, follow it, steer it (pause, resume, abort). */
import { api } from '../client.js';
import { EXIT, type ExitCode } from '../exit.js';
import { duration, healthText, short, table, triggerText } from '../format.js';
import { eventLine, outcomeLines, title } from '../progress.js';
import type { RolloutEvent, RolloutView } from '../views.js';
import { printJson, type Ctx } from './context.js';
import { followToOutcome } from './follow.js';

const path = (id: string, rest = '') => `/api/rollouts/${encodeURIComponent(id)}${rest}`;

/** `gantry rollout ID [--follow]`. */
export async function rollout(ctx: Ctx, id: string, follow: boolean): Promise<ExitCode> {
  if (follow) {
    // A typed id must exist: "not known" is an error here, not a queued rollout.
    return followToOutcome({ ...ctx, common: { ...ctx.common, wait: true } }, id, {
      queued: false,
    });
  }
  const res = await api<{ rollout: RolloutView; events: RolloutEvent[] }>(ctx.client(), path(id));
  if (ctx.common.json) return (printJson(ctx, res), EXIT.ok);
  for (const l of rolloutLines(res.rollout, res.events, ctx.now())) ctx.out(l);
  return EXIT.ok;
}

/** The detail view of a rollout. Pure. */
export function rolloutLines(
  r: RolloutView,
  events: readonly RolloutEvent[],
  now: number,
): string[] {
  const lines = [
    `${title(r)}  (${r.id})`,
    `by ${triggerText(r.trigger)}, ${r.createdAt}`,
    `phase: ${r.phase}${r.outcome ? '' : ` for ${duration(now - Date.parse(r.createdAt))}`}`,
  ];
  if (r.instances && r.instances.length > 0) {
    lines.push(
      '',
      table(
        ['SLOT', 'REVISION', 'HOST', 'RUNTIME', 'HEALTH', 'ROUTED', 'RETIRING'],
        r.instances.map((i) => [
          i.slot,
          short(i.revision),
          i.host,
          i.runtime ?? '-',
          healthText(i.health),
          i.routed ? 'yes' : '-',
          i.retiring ?? '-',
        ]),
      ),
    );
  }
  if (events.length > 0) {
    lines.push('');
    const start = Date.parse(r.createdAt);
    for (const e of events) if (e.kind !== 'outcome') lines.push(eventLine(e, start));
  }
  if (r.outcome) lines.push('', ...outcomeLines(r));
  return lines;
}

/** `gantry pause|resume|abort ID`: asks; the rollout applies it at its next step. */
export async function steer(
  ctx: Ctx,
  intent: 'pause' | 'resume' | 'abort',
  id: string,
): Promise<ExitCode> {
  const res = await api<{ accepted: string; rollout: string }>(
    ctx.client(),
    path(id, `/${intent}`),
    {
      method: 'POST',
    },
  );
  if (ctx.common.json) printJson(ctx, res);
  else ctx.out(`${intent} requested for ${id}; the rollout applies it at its next step`);
  return EXIT.ok;
}
