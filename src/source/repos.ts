import path from 'node:path';
import type { RepoConfig } from '../config/controller-config.js';
import { GantryError } from '../errors.js';
import { RepoCache } from './repo-cache.js';
import type { SourceLimits } from './source-limits.js';

/** A configured repo and its fetch cache. */
export interface TrackedRepo {
  config: RepoConfig;
  cache: RepoCache;
}

/**
 * The repos this controller follows, each with one cache directory under the data dir. A config
 * reload replaces the set (`replace`); whoever keeps per-repo state (the poller) subscribes.
 */
export class RepoRegistry {
  private repos = new Map<string, TrackedRepo>();
  private readonly listeners = new Set<() => void>();
  private readonly dataDir: string;
  private readonly limits: SourceLimits | undefined;

  /** `limits`: the caps every repo's fetches and reads are held to (DEFAULT_SOURCE_LIMITS). */
  constructor(configs: readonly RepoConfig[], dataDir: string, limits?: SourceLimits) {
    this.dataDir = dataDir;
    this.limits = limits;
    this.repos = this.track(configs);
  }

  /**
   * Follows exactly `configs` from now on. A repo whose URL and credentials are unchanged keeps
   * its cache object; the cache directory is per name, so a repo removed and added again finds
   * what it had fetched. Apps of a removed repo stay in the store: the reconciler shows their
   * environments as orphaned.
   */
  replace(configs: readonly RepoConfig[]): void {
    this.repos = this.track(configs);
    for (const listener of this.listeners) listener();
  }

  /** Subscribes to `replace`; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private track(configs: readonly RepoConfig[]): Map<string, TrackedRepo> {
    const next = new Map<string, TrackedRepo>();
    for (const config of configs) {
      const kept = this.repos.get(config.name);
      // Unchanged repos keep their object: followers (the poller) tell edits by identity.
      if (kept && JSON.stringify(kept.config) === JSON.stringify(config)) {
        next.set(config.name, kept);
        continue;
      }
      const cache =
        kept && sameRemote(kept.config, config)
          ? kept.cache
          : new RepoCache({
              url: config.url,
              dir: path.join(this.dataDir, 'repos', config.name),
              credentials: config.credentials,
              limits: this.limits,
            });
      next.set(config.name, { config, cache });
    }
    return next;
  }

  all(): TrackedRepo[] {
    return [...this.repos.values()];
  }

  get(name: string): TrackedRepo {
    const repo = this.repos.get(name);
    if (!repo) throw new GantryError('GANTRY_ERR_NOT_FOUND', `repo ${name} is not configured`);
    return repo;
  }

  tracks(name: string, branch: string): boolean {
    return this.repos.get(name)?.config.branches.includes(branch) ?? false;
  }
}

function sameRemote(a: RepoConfig, b: RepoConfig): boolean {
  return (
    a.url === b.url &&
    a.credentials?.username === b.credentials?.username &&
    a.credentials?.password === b.credentials?.password
  );
}

/** Normalizes a repo URL for matching: no scheme, credentials, `.git` suffix or case in host. */
export function normalizeRepoUrl(url: string): string {
  const scp = /^[\w.-]+@([\w.-]+):(.+)$/.exec(url);
  if (scp) return `${scp[1]!.toLowerCase()}/${scp[2]!.replace(/\.git$/, '').replace(/\/+$/, '')}`;
  try {
    const u = new URL(url);
    const host = u.port ? `${u.hostname.toLowerCase()}:${u.port}` : u.hostname.toLowerCase();
    return `${host}${u.pathname.replace(/\.git$/, '').replace(/\/+$/, '')}`;
  } catch {
    return url.replace(/\.git$/, '');
  }
}
