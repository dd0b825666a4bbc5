/** The periodic registry prune: once every `everyMs` (none when 0), never two at once in a process. */
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { PruneReport } from './registry-prune.js';

/**
 * Starts the timer; the first prune comes one interval after start, not at boot (a controller
 * restarting in a loop must not turn into a loop of registry deletes). Returns a stopper.
 */
export function startRegistryPrune(
  prune: () => Promise<PruneReport>,
  everyMs: number,
  log: Logger,
): () => void {
  if (everyMs <= 0) return () => undefined;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    prune()
      .then((r) => {
        const deleted = r.apps.reduce((n, a) => n + a.deleted.length, 0);
        if (deleted > 0) log.info({ deleted, gc: r.gc }, 'registry prune done');
      })
      .catch((e: unknown) => log.warn({ err: errorMessage(e) }, 'registry prune failed'))
      .finally(() => (running = false));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
