/**
 * Releases, as Heroku and Dokku have them: an image digest plus the config it runs with, per app
 * and environment, numbered v1, v2… A build makes one; so does every config change and every
 * rollback (a copy of the release rolled back to). Immutable once written.
 */
import type { Redis } from 'ioredis';
import { GantryError } from '../errors.js';
import type { Keys } from '../store/keys.js';
import type { ConfigSnapshot } from './config-store.js';
import { formationText, instancesOfFor } from './formation.js';

/** Why a release exists. Keys only: secret values never go in a release record. */
export type ReleaseChange =
  | { readonly kind: 'build'; readonly sha: string }
  | {
      readonly kind: 'config';
      readonly set: readonly string[];
      readonly secrets: readonly string[];
      readonly unset: readonly string[];
    }
  | { readonly kind: 'rollback'; readonly to: number }
  | { readonly kind: 'promote'; readonly from: string }
  /** `gantry scale`: the process types it named, with their new replicas. */
  | { readonly kind: 'scale'; readonly processes: Readonly<Record<string, number>> };

export interface ReleaseRecord {
  readonly app: string;
  readonly env: string;
  readonly version: number;
  readonly sha: string;
  /** `repo@sha256:…` */
  readonly image: string;
  readonly config: ConfigSnapshot;
  /**
   * The release whose instances run this one, when it differs only in scale from that one (same
   * image, vars and secret versions): a scale change adds or removes instances, never replaces
   * them. Absent: the release's instances are its own.
   */
  readonly instancesOf?: number | undefined;
  readonly change: ReleaseChange;
  /** Who made it: a token's name, `webhook <provider> (<pusher>)`, `poll`. */
  readonly by: string;
  readonly createdAt: string;
}

/** One line for history, CLI and UI, e.g. "v7: set LOG_LEVEL, DATABASE_URL (secret) by ada". */
export function describeRelease(
  r: Pick<ReleaseRecord, 'version' | 'change' | 'by' | 'sha'>,
): string {
  const c = r.change;
  const what = (() => {
    switch (c.kind) {
      case 'build':
        return `deploy ${c.sha.slice(0, 12)}`;
      case 'config': {
        const parts = [
          ...(c.set.length > 0 ? [`set ${c.set.join(', ')}`] : []),
          ...(c.secrets.length > 0
            ? [`set ${c.secrets.map((k) => `${k} (secret)`).join(', ')}`]
            : []),
          ...(c.unset.length > 0 ? [`unset ${c.unset.join(', ')}`] : []),
        ];
        return parts.join('; ') || 'config';
      }
      case 'rollback':
        return `rollback to v${c.to}`;
      case 'promote':
        return `promote from ${c.from}`;
      case 'scale':
        return `scale ${formationText(c.processes)}`;
    }
  })();
  return `v${r.version}: ${what} by ${r.by}`;
}

/** The release an environment runs now, if any (the rollout store's record of it). */
export type CurrentRelease = (app: string, env: string) => Promise<number | undefined>;

export class ReleaseStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly currentRelease: CurrentRelease,
  ) {}

  /**
   * Writes the next release of the environment; its number comes from an atomic counter. Every
   * release is made here, so here alone it is decided whether it shares the running release's
   * instances (`instancesOf`: it differs from that one only in scale).
   */
  async create(
    input: Omit<ReleaseRecord, 'version' | 'createdAt' | 'instancesOf'>,
  ): Promise<ReleaseRecord> {
    const { app, env } = input;
    const running = await this.currentRelease(app, env);
    const current = running === undefined ? undefined : await this.get(app, env, running);
    const instancesOf = instancesOfFor(input, current);
    const version = await this.redis.incr(this.keys.releaseSeq(app, env));
    const rec: ReleaseRecord = {
      ...input,
      ...(instancesOf === undefined ? {} : { instancesOf }),
      version,
      createdAt: new Date().toISOString(),
    };
    await this.redis
      .multi()
      .set(this.keys.release(app, env, version), JSON.stringify(rec))
      .zadd(this.keys.releases(app, env), version, String(version))
      .exec();
    return rec;
  }

  async get(app: string, env: string, version: number): Promise<ReleaseRecord | undefined> {
    const raw = await this.redis.get(this.keys.release(app, env, version));
    return raw === null ? undefined : (JSON.parse(raw) as ReleaseRecord);
  }

  async require(app: string, env: string, version: number): Promise<ReleaseRecord> {
    const rec = await this.get(app, env, version);
    if (!rec)
      throw new GantryError(
        'GANTRY_ERR_RELEASE_UNKNOWN',
        `${app}/${env} has no release v${version}`,
      );
    return rec;
  }

  /** Newest first. */
  async list(app: string, env: string, limit = 50): Promise<ReleaseRecord[]> {
    const versions = await this.redis.zrevrange(this.keys.releases(app, env), 0, limit - 1);
    const recs = await Promise.all(versions.map((v) => this.get(app, env, Number(v))));
    return recs.filter((r): r is ReleaseRecord => r !== undefined);
  }
}
