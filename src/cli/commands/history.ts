import type { Revision } from '../../store/records.js';
import { api, apiFailure, appPath, withQuery, type ClientOptions } from '../client.js';
import { EXIT, type ExitCode } from '../exit.js';
import { historyTable } from '../format.js';
import type { EnvView, HistoryEntry, RolloutView } from '../views.js';
import { printJson, type Ctx } from './context.js';

export interface HistoryQuery {
  app: string;
  env?: string | undefined;
  pr?: number | undefined;
  sha?: string | undefined;
  limit?: number | undefined;
}

/** `gantry history APP [--env E] [--pr N] [--sha S]`: what was deployed where, newest first. */
export async function history(ctx: Ctx, q: HistoryQuery): Promise<ExitCode> {
  const entries = await fetchHistory(ctx.client(), q);
  if (ctx.common.json) return (printJson(ctx, entries), EXIT.ok);
  if (entries.length === 0) {
    const what = [q.env && `in ${q.env}`, q.pr && `of PR #${q.pr}`, q.sha && `of ${q.sha}`]
      .filter(Boolean)
      .join(' ');
    ctx.out(`no rollouts of ${q.app}${what ? ` ${what}` : ''}`);
    return EXIT.ok;
  }
  ctx.out(historyTable(entries, ctx.now()));
  return EXIT.ok;
}

/** GET /api/history; against a controller without it, the same answer built from older routes. */
export async function fetchHistory(
  client: ClientOptions,
  q: HistoryQuery,
): Promise<HistoryEntry[]> {
  try {
    const res = await api<{ rollouts: HistoryEntry[] }>(
      client,
      withQuery('/api/history', { app: q.app, env: q.env, pr: q.pr, sha: q.sha, limit: q.limit }),
    );
    return res.rollouts;
  } catch (e) {
    const f = apiFailure(e);
    if (f?.status !== 404 || !f.message.startsWith('no route')) throw e;
    return historyFromRollouts(client, q);
  }
}

async function historyFromRollouts(
  client: ClientOptions,
  q: HistoryQuery,
): Promise<HistoryEntry[]> {
  const [{ environments, rollouts }, { revisions }] = await Promise.all([
    api<{ environments: EnvView[]; rollouts: RolloutView[] }>(
      client,
      withQuery(appPath(q.app, '/rollouts'), { env: q.env }),
    ),
    api<{ revisions: Revision[] }>(client, appPath(q.app)),
  ]);
  return joinHistory(rollouts, environments, revisions, q);
}

/**
 * History entries from rollouts, the environments' current revisions and the commits. As
 * /api/history says it, a rollout is `running` when it succeeded and its revision still serves
 * its environment. Pure (exported for tests).
 */
export function joinHistory(
  rollouts: readonly RolloutView[],
  environments: readonly EnvView[],
  revisions: readonly Revision[],
  q: HistoryQuery,
): HistoryEntry[] {
  const commits = new Map(revisions.map((r) => [r.sha, r.commit]));
  const serving = new Map(environments.map((e) => [e.env, e.current?.sha]));
  const running = (r: RolloutView) => r.outcome === 'succeeded' && serving.get(r.env) === r.to.sha;
  const entries = rollouts.map((r): HistoryEntry => {
    const c = commits.get(r.to.sha);
    const commit = c
      ? {
          sha: c.sha,
          message: c.message.split('\n')[0] ?? '',
          author: c.author.name,
          prNumber: c.prNumber,
        }
      : r.commit
        ? {
            sha: r.to.sha,
            message: r.commit.message.split('\n')[0] ?? '',
            prNumber: r.commit.prNumber,
          }
        : undefined;
    return { ...r, commit, running: running(r) };
  });
  return entries
    .filter((e) => q.pr === undefined || (e.pr?.number ?? e.commit?.prNumber) === q.pr)
    .filter((e) => q.sha === undefined || e.to.sha.startsWith(q.sha.toLowerCase()))
    .slice(0, q.limit ?? 50);
}
