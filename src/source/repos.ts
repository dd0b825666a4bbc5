import path from 'node:path';
import type { RepoConfig } from '../config/controller-config.js';
import { GantryError } from '../errors.js';
import { RepoCache } from './repo-cache.js';

/** A configured repo and its fetch cache. */
export interface TrackedRepo {
  config: RepoConfig;
  cache: RepoCache;
}

/** The repos this controller follows, each with one cache directory under the data dir. */
export class RepoRegistry {
  private readonly repos = new Map<string, TrackedRepo>();

  constructor(configs: RepoConfig[], dataDir: string) {
    for (const config of configs) {
      const cache = new RepoCache({
        url: config.url,
        dir: path.join(dataDir, 'repos', config.name),
        credentials: config.credentials,
      });
      this.repos.set(config.name, { config, cache });
    }
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
