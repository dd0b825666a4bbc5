/** The verbs that start a rollout and follow it: deploy, rollback, promote, retry. */
import { api, appPath, withQuery } from '../client.js';
import { EXIT, type ExitCode } from '../exit.js';
import { followBuildLog } from '../follow.js';
import { findRollout } from '../follow-rollout.js';
import { short } from '../format.js';
import type { CommitSummary } from '../views.js';
import { printJson, type Ctx } from './context.js';
import { followToOutcome } from './follow.js';

const post = (body: unknown): RequestInit => ({ method: 'POST', body: JSON.stringify(body) });

/** A rollout now, or a build first (the rollout follows it), or (a race with a build) neither. */
interface Enqueued {
  rolloutId?: string;
  buildId?: string;
  env: string;
  sha: string;
}

/** `gantry deploy APP REF [--env E]`: builds first when the ref has no image yet. */
export async function deploy(
  ctx: Ctx,
  cmd: { app: string; ref: string; env?: string | undefined },
): Promise<ExitCode> {
  const client = ctx.client();
  const res = await api<Enqueued>(
    client,
    appPath(cmd.app, '/deploy'),
    post({ env: cmd.env, ref: cmd.ref }),
  );
  const say = (rolloutId: string) => {
    if (!ctx.common.json) {
      ctx.out(`deploying ${short(res.sha)} to ${cmd.app}/${res.env}: rollout ${rolloutId}`);
    }
  };
  if (res.rolloutId) {
    say(res.rolloutId);
    return followToOutcome(ctx, res.rolloutId);
  }
  if (!ctx.common.wait) {
    if (ctx.common.json) printJson(ctx, res);
    else ctx.out(res.buildId ?? `${res.env} ${res.sha}`);
    return EXIT.ok;
  }
  if (res.buildId) {
    if (!ctx.common.json) ctx.out(`building ${short(res.sha)} first (build ${res.buildId})`);
    const display = ctx.display();
    const build = await followBuildLog(client, res.buildId, {
      follow: true,
      write: (l) => display.line(`│ ${l}`),
    });
    if (build.status !== 'succeeded' && build.status !== 'reused') {
      const why = build.failure?.message.split('\n')[0] ?? build.note ?? '';
      if (ctx.common.json) printJson(ctx, build);
      else ctx.out(`✘ build ${build.id} ${build.status}${why ? `: ${why}` : ''}`);
      return EXIT.failed;
    }
  }
  // The rollout is queued after the build; it is listed once a worker starts it.
  const rolloutId = await findRollout(client, cmd.app, res.env, res.sha, { timeoutMs: Infinity });
  say(rolloutId);
  return followToOutcome(ctx, rolloutId);
}

interface Preview {
  env: string;
  from: CommitSummary;
  to: CommitSummary;
  removed: CommitSummary[];
}

/** `gantry rollback APP [--to SHA|vN] [--env E]`: says what it takes out, then follows it. */
export async function rollback(
  ctx: Ctx,
  cmd: { app: string; to?: string | undefined; env?: string | undefined },
): Promise<ExitCode> {
  const client = ctx.client();
  // Read before the rollback (it changes what runs), shown only once the rollback is accepted;
  // informative only: when it cannot be had, the rollback itself says why.
  const preview = ctx.common.json
    ? undefined
    : await api<Preview>(
        client,
        withQuery(appPath(cmd.app, '/rollback-preview'), { env: cmd.env, to: cmd.to }),
      ).catch(() => undefined);
  const res = await api<{
    rolloutId: string;
    env: string;
    from?: string;
    to: string;
    release?: number;
  }>(client, appPath(cmd.app, '/rollback'), post({ env: cmd.env, to: cmd.to }));
  if (!ctx.common.json) {
    if (preview) for (const l of previewLines(cmd.app, preview)) ctx.out(l);
    ctx.out(
      `rolling back ${cmd.app}/${res.env} ${short(res.from)} → ${short(res.to)}${res.release ? ` (release v${res.release}: its image and config)` : ''}: rollout ${res.rolloutId}`,
    );
  }
  return followToOutcome(ctx, res.rolloutId);
}

/** What a rollback takes out of production, one commit a line. Pure. */
export function previewLines(app: string, p: Preview): string[] {
  // Squash merges already say "(#42)"; the number is added only where the message lacks it.
  const pr = (c: CommitSummary) =>
    c.prNumber && !c.message.includes(`#${c.prNumber}`) ? ` (#${c.prNumber})` : '';
  const lines = [
    `${app}/${p.env}: ${short(p.from.sha)} → ${short(p.to.sha)} ${p.to.message}${pr(p.to)}`,
  ];
  if (p.removed.length > 0) {
    lines.push(`takes out ${p.removed.length} commit${p.removed.length === 1 ? '' : 's'}:`);
    for (const c of p.removed) lines.push(`  ${short(c.sha)} ${c.message}${pr(c)}`);
  }
  return lines;
}

/** `gantry promote APP --from E --to E`: the exact image running in one environment, in another. */
export async function promote(
  ctx: Ctx,
  cmd: { app: string; from: string; to: string },
): Promise<ExitCode> {
  const res = await api<{ rolloutId: string; env: string; sha: string }>(
    ctx.client(),
    appPath(cmd.app, '/promote'),
    post({ from: cmd.from, to: cmd.to }),
  );
  if (!ctx.common.json) {
    ctx.out(
      `promoting ${short(res.sha)} from ${cmd.from} to ${cmd.app}/${res.env}: rollout ${res.rolloutId}`,
    );
  }
  return followToOutcome(ctx, res.rolloutId);
}

/** `gantry retry ROLLOUT_ID`: a failed or aborted rollout's target, once more. */
export async function retry(ctx: Ctx, rolloutId: string): Promise<ExitCode> {
  const res = await api<{ rolloutId: string }>(
    ctx.client(),
    `/api/rollouts/${encodeURIComponent(rolloutId)}/retry`,
    { method: 'POST' },
  );
  if (!ctx.common.json) ctx.out(`retrying ${rolloutId}: rollout ${res.rolloutId}`);
  return followToOutcome(ctx, res.rolloutId);
}
