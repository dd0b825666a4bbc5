/** `gantry registry:prune [--dry-run]`: the registry's housekeeping now, as the controller's timer does it. */
import type { PruneReport } from '../../registry/registry-prune.js';
import { api } from '../client.js';
import { EXIT, type ExitCode } from '../exit.js';
import { printJson, type Ctx } from './context.js';

/** Lines for a person: per app what went (tags), what stayed, then what the GC did. Pure. */
export function pruneLines(report: PruneReport): string[] {
  const verb = report.dryRun ? 'would delete' : 'deleted';
  const lines = report.apps.map((a) => {
    if (a.error !== undefined) return `✘ ${a.app}: ${a.error}`;
    const tags = a.deleted.flatMap((d) => d.tags);
    const what =
      tags.length === 0 ? 'nothing to delete' : `${verb} ${tags.length} (${tags.join(', ')})`;
    return `${a.app}: ${what}; kept ${a.kept}`;
  });
  return [...lines, `garbage collection: ${report.gc}`];
}

export async function registryPrune(ctx: Ctx, dryRun: boolean): Promise<ExitCode> {
  const report = await api<PruneReport>(ctx.client(), '/api/registry/prune', {
    method: 'POST',
    body: JSON.stringify({ dryRun }),
  });
  if (ctx.common.json) printJson(ctx, report);
  else for (const line of pruneLines(report)) ctx.out(line);
  return report.apps.some((a) => a.error !== undefined) || report.gc.startsWith('failed')
    ? EXIT.failed
    : EXIT.ok;
}
