import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { SyncJob } from '../queue/jobs.js';
import { syncJobId } from '../queue/names.js';
import type { Queues } from '../queue/queues.js';
import type { Store } from '../store/store.js';
import type { RepoRegistry, TrackedRepo } from './repos.js';

export interface PollerDeps {
  repos: RepoRegistry;
  store: Store;
  queues: Queues;
  log: Logger;
}

/**
 * For repos no webhook can reach: asks the remote for its branch heads (ref advertisement only,
 * no objects) and queues a sync when a head differs from the newest one fetched.
 * Returns the branches it queued, for tests and logs.
 */
export async function pollRepo(deps: PollerDeps, repo: TrackedRepo): Promise<string[]> {
  const queued: string[] = [];
  for (const branch of repo.config.branches) {
    const head = await repo.cache.headOf(branch);
    if (head === null) continue;
    if ((await deps.store.latestHead(repo.config.name, branch)) === head) continue;
    const job: SyncJob = {
      repo: repo.config.name,
      branch,
      hintSha: head,
      trigger: { kind: 'poll' },
    };
    // One job per observed head: several controllers polling the same head queue it once.
    const nonce = createHash('sha256').update(`poll\0${head}`).digest('hex').slice(0, 24);
    const jobId = syncJobId(repo.config.name, branch, nonce);
    await deps.queues.sources.add('sync', job, { jobId });
    await deps.store.setLatestSync(repo.config.name, branch, jobId);
    queued.push(branch);
  }
  return queued;
}

interface PollTimer {
  readonly repo: TrackedRepo;
  readonly timer: NodeJS.Timeout;
}

/**
 * Polls every repo that asks for it on its own interval; returns a stop function. Follows the
 * registry: after a config reload, added repos start polling, removed ones stop, and an edited
 * one restarts with its new settings.
 */
export function startPoller(deps: PollerDeps): () => void {
  const timers = new Map<string, PollTimer>();
  const follow = (repo: TrackedRepo): PollTimer => {
    let running = false;
    const tick = async () => {
      // A slow remote must not pile up overlapping polls.
      if (running) return;
      running = true;
      try {
        const queued = await pollRepo(deps, repo);
        if (queued.length > 0)
          deps.log.info({ repo: repo.config.name, queued }, 'poll found new heads');
      } catch (e) {
        deps.log.warn({ repo: repo.config.name, err: errorMessage(e) }, 'poll failed');
      } finally {
        running = false;
      }
    };
    void tick();
    return { repo, timer: setInterval(() => void tick(), repo.config.pollIntervalSeconds * 1000) };
  };
  const sync = () => {
    const wanted = new Map(
      deps.repos
        .all()
        .filter((r) => r.config.pollIntervalSeconds > 0)
        .map((r) => [r.config.name, r]),
    );
    for (const [name, t] of timers) {
      // The registry hands out a new TrackedRepo whenever a repo's config changed.
      if (wanted.get(name) === t.repo) continue;
      clearInterval(t.timer);
      timers.delete(name);
    }
    for (const [name, repo] of wanted) if (!timers.has(name)) timers.set(name, follow(repo));
  };
  sync();
  const unsubscribe = deps.repos.onChange(sync);
  return () => {
    unsubscribe();
    for (const t of timers.values()) clearInterval(t.timer);
    timers.clear();
  };
}
