import type { Redis } from 'ioredis';
import { EventBus, type GantryEvent } from '../events/bus.js';
import { Keys } from './keys.js';
import type {
  AppOwner,
  AppRecord,
  BuildRecord,
  DeliveryRecord,
  ImageRef,
  Revision,
} from './records.js';

const DELIVERY_TTL_SECONDS = 7 * 24 * 3600;
const DELIVERIES_KEPT = 500;
const HEADS_KEPT = 20;
const CLAIM_REFUSED_TTL_SECONDS = 30 * 24 * 3600;
/** How long a skip is remembered against a redelivered push: as long as a refused claim. */
const SKIPPED_TTL_SECONDS = CLAIM_REFUSED_TTL_SECONDS;

/**
 * KEYS: the sync job's hash, the branch's coalescing pointer, the delivery's seen marker, the
 * delivery log. ARGV: job id, marker TTL (s), log record, last log index kept.
 */
const ACCEPT_DELIVERY = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], '1', 'EX', ARGV[2])
redis.call('LPUSH', KEYS[4], ARGV[3])
redis.call('LTRIM', KEYS[4], 0, ARGV[4])
return 1
`;

/** What an app's owner key holds once an admin released the name. */
type Released = { released: true; at: string };

type BuiltImage = Required<Pick<Revision, 'image' | 'buildId' | 'builtAt'>>;

/**
 * Claims an app name, atomically: the owner already recorded wins; else, when the name was never
 * owned (no key at all, not even a release mark), an app record from before ownership existed
 * makes its repo and path the owner; else the claimant becomes it.
 * KEYS: owner, app record. ARGV: claimant owner JSON, now. Returns the owner JSON.
 */
const CLAIM_APP = `
local owner = redis.call('GET', KEYS[1])
if owner and cjson.decode(owner).released ~= true then return owner end
local rec = (not owner) and redis.call('GET', KEYS[2])
owner = nil
if rec then
  local app = cjson.decode(rec)
  if type(app.repo) == 'string' and type(app.path) == 'string' then
    owner = cjson.encode({ repo = app.repo, path = app.path, at = ARGV[2], source = 'record' })
  end
end
owner = owner or ARGV[1]
redis.call('SET', KEYS[1], owner)
return owner
`;

/** Redis-backed records of apps, revisions, builds and deliveries. All writes are idempotent. */
export class Store {
  readonly keys: Keys;
  /** Build status changes go to the controller's one event stream (metrics, SSE). */
  readonly bus: EventBus;

  constructor(
    readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = new Keys(prefix);
    this.bus = new EventBus(redis, this.keys);
  }

  private async getJson<T>(key: string): Promise<T | undefined> {
    const raw = await this.redis.get(key);
    return raw === null ? undefined : (JSON.parse(raw) as T);
  }

  /** A sortable, unique id: time first so ids list in creation order. */
  async nextId(kind: string): Promise<string> {
    const n = await this.redis.incr(this.keys.sequence());
    return `${kind}-${Date.now().toString(36)}-${n.toString(36)}`;
  }

  // ── apps ────────────────────────────────────────────────────────────────

  async putApp(app: AppRecord): Promise<void> {
    await this.redis
      .multi()
      .set(this.keys.app(app.name), JSON.stringify(app))
      .sadd(this.keys.apps(), app.name)
      .hset(this.keys.appByPath(), `${app.repo}:${app.path}`, app.name)
      .exec();
  }

  /**
   * Claims `app` for a repo folder (see CLAIM_APP) and returns who owns it now, which is the
   * claimant when the claim held.
   */
  async claimApp(app: string, claimant: { repo: string; path: string }): Promise<AppOwner> {
    const now = new Date().toISOString();
    const mine: AppOwner = { ...claimant, at: now, source: 'claim' };
    const owner = (await this.redis.eval(
      CLAIM_APP,
      2,
      this.keys.appOwner(app),
      this.keys.app(app),
      JSON.stringify(mine),
      now,
    )) as string;
    return JSON.parse(owner) as AppOwner;
  }

  /** Records the owner the controller config names (explicit config wins over a first claim). */
  async setAppOwner(app: string, owner: AppOwner): Promise<void> {
    await this.redis.set(this.keys.appOwner(app), JSON.stringify(owner));
  }

  async getAppOwner(app: string): Promise<AppOwner | undefined> {
    const owner = await this.getJson<AppOwner | Released>(this.keys.appOwner(app));
    return owner && !('released' in owner) ? owner : undefined;
  }

  /**
   * Forgets who owns `app`, so the next sync to name it claims it; returns the owner it had. A
   * release mark stays behind: the app record of the old owner must not count as a claim again.
   */
  async releaseApp(app: string): Promise<AppOwner | undefined> {
    const key = this.keys.appOwner(app);
    const mark: Released = { released: true, at: new Date().toISOString() };
    const old = await this.redis.call('SET', key, JSON.stringify(mark), 'GET');
    if (typeof old !== 'string') {
      // Recorded before ownership existed: its record was the claim, and the mark now voids it.
      const rec = await this.getApp(app);
      return rec && { repo: rec.repo, path: rec.path, at: rec.updatedAt, source: 'record' };
    }
    const owner = JSON.parse(old) as AppOwner | Released;
    return 'released' in owner ? undefined : owner;
  }

  /**
   * Marks a refused claim of `app` by one commit of a repo folder; true the first time, so a
   * redelivered push records its refusal once.
   */
  async markClaimRefused(app: string, repo: string, path: string, sha: string): Promise<boolean> {
    const key = this.keys.claimRefused(app, repo, path, sha);
    return (await this.redis.set(key, '1', 'EX', CLAIM_REFUSED_TTL_SECONDS, 'NX')) === 'OK';
  }

  /**
   * Marks that a sync skipped `app` at commit `sha` because the push changed none of its paths;
   * true the first time, so a redelivered push records the skip once.
   */
  async markSkipped(app: string, sha: string): Promise<boolean> {
    const key = this.keys.skipped(app, sha);
    return (await this.redis.set(key, '1', 'EX', SKIPPED_TTL_SECONDS, 'NX')) === 'OK';
  }

  getApp(name: string): Promise<AppRecord | undefined> {
    return this.getJson<AppRecord>(this.keys.app(name));
  }

  async appAtPath(repo: string, path: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.appByPath(), `${repo}:${path}`)) ?? undefined;
  }

  async listApps(): Promise<AppRecord[]> {
    const names = (await this.redis.smembers(this.keys.apps())).sort();
    const apps = await Promise.all(names.map((n) => this.getApp(n)));
    return apps.filter((a): a is AppRecord => a !== undefined);
  }

  // ── revisions ───────────────────────────────────────────────────────────

  /** A revision with its image, if one was built. */
  async getRevision(app: string, sha: string): Promise<Revision | undefined> {
    const [rev, built] = await Promise.all([
      this.getJson<Revision>(this.keys.revision(app, sha)),
      this.getJson<BuiltImage>(this.keys.revisionImage(app, sha)),
    ]);
    return rev && (built ? { ...rev, ...built } : rev);
  }

  /** Records a commit the first time it is seen (true); later sightings keep the original. */
  async addRevision(rev: Revision): Promise<boolean> {
    const { image: _i, builtAt: _b, buildId: _id, ...commit } = rev;
    const created = await this.redis.set(
      this.keys.revision(rev.app, rev.sha),
      JSON.stringify(commit),
      'NX',
    );
    if (created === 'OK') {
      await this.redis.zadd(this.keys.revisions(rev.app), Date.parse(rev.firstSeenAt), rev.sha);
    }
    return created === 'OK';
  }

  /**
   * Attaches the built image to a revision, once (SET NX on a key of its own): an image already
   * recorded wins and is returned, which keeps revisions immutable even if two builders raced.
   */
  async setRevisionImage(
    app: string,
    sha: string,
    image: ImageRef,
    buildId: string,
  ): Promise<ImageRef> {
    const built: BuiltImage = { image, buildId, builtAt: new Date().toISOString() };
    const key = this.keys.revisionImage(app, sha);
    const created = await this.redis.set(key, JSON.stringify(built), 'NX');
    if (created === 'OK') return image;
    const existing = await this.getJson<BuiltImage>(key);
    return existing?.image ?? image;
  }

  /**
   * Drops a revision's image record once its image left the registry (src/registry/), only if it
   * still names `digest`: a deploy of that commit then builds it again.
   */
  async forgetRevisionImage(app: string, sha: string, digest: string): Promise<void> {
    const built = await this.getJson<BuiltImage>(this.keys.revisionImage(app, sha));
    if (built?.image.digest === digest) await this.redis.del(this.keys.revisionImage(app, sha));
  }

  /** Newest first. */
  async listRevisions(app: string, limit = 50): Promise<Revision[]> {
    const shas = await this.redis.zrevrange(this.keys.revisions(app), 0, limit - 1);
    const revs = await Promise.all(shas.map((s) => this.getRevision(app, s)));
    return revs.filter((r): r is Revision => r !== undefined);
  }

  // ── builds ──────────────────────────────────────────────────────────────

  async putBuild(build: BuildRecord): Promise<void> {
    const multi = this.redis
      .multi()
      .set(this.keys.build(build.id), JSON.stringify(build))
      .zadd(this.keys.builds(build.app), Date.parse(build.createdAt), build.id);
    this.bus.addTo(multi, [buildEvent(build)]);
    await multi.exec();
  }

  getBuild(id: string): Promise<BuildRecord | undefined> {
    return this.getJson<BuildRecord>(this.keys.build(id));
  }

  async updateBuild(id: string, patch: Partial<BuildRecord>): Promise<BuildRecord> {
    const build = await this.getBuild(id);
    if (!build) throw new Error(`build ${id} is not recorded`);
    const next = { ...build, ...patch };
    const multi = this.redis.multi().set(this.keys.build(id), JSON.stringify(next));
    // Events only on transitions: a patch that keeps the status (attempts, notes) is not one.
    if (next.status !== build.status) this.bus.addTo(multi, [buildEvent(next)]);
    await multi.exec();
    return next;
  }

  /** Newest first. */
  async listBuilds(app: string, limit = 50): Promise<BuildRecord[]> {
    const ids = await this.redis.zrevrange(this.keys.builds(app), 0, limit - 1);
    const builds = await Promise.all(ids.map((id) => this.getBuild(id)));
    return builds.filter((b): b is BuildRecord => b !== undefined);
  }

  async appendBuildLog(id: string, lines: string[], keep: number): Promise<void> {
    if (lines.length === 0) return;
    await this.redis
      .multi()
      .rpush(this.keys.buildLog(id), ...lines)
      .ltrim(this.keys.buildLog(id), -keep, -1)
      .exec();
  }

  /** Log lines from `from` on (0-based), so a reader can follow a running build. */
  async readBuildLog(id: string, from = 0): Promise<string[]> {
    return this.redis.lrange(this.keys.buildLog(id), from, -1);
  }

  // ── heads (coalescing) ──────────────────────────────────────────────────

  /**
   * Records a fetched branch head, scored by when its fetch *started*: a slow fetch that began
   * earlier can finish later, but it can never rank above a fetch that began after it.
   */
  async recordHead(repo: string, branch: string, sha: string, fetchStartedAt: number) {
    const key = this.keys.heads(repo, branch);
    await this.redis
      .multi()
      .zadd(key, 'GT', String(fetchStartedAt), sha)
      .zremrangebyrank(key, 0, -HEADS_KEPT - 1)
      .exec();
  }

  /** The latest head recorded for a branch, and when the sync that saw it started (epoch ms). */
  async latestHeadAt(
    repo: string,
    branch: string,
  ): Promise<{ sha: string; at: number } | undefined> {
    const [sha, at] = await this.redis.zrange(
      this.keys.heads(repo, branch),
      '-1',
      '-1',
      'WITHSCORES',
    );
    return sha === undefined ? undefined : { sha, at: Number(at) };
  }

  async latestHead(repo: string, branch: string): Promise<string | undefined> {
    return (await this.latestHeadAt(repo, branch))?.sha;
  }

  async setLatestSync(repo: string, branch: string, jobId: string): Promise<void> {
    await this.redis.set(this.keys.latestSync(repo, branch), jobId);
  }

  async latestSync(repo: string, branch: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.latestSync(repo, branch))) ?? undefined;
  }

  // ── webhook deliveries ──────────────────────────────────────────────────

  async deliverySeen(provider: string, id: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.delivery(provider, id))) === 1;
  }

  /**
   * After a delivery's sync job was sent on `via`: point the branch's coalescing pointer at it,
   * mark the delivery seen and log it, in one script, only if the job is in Redis (`jobKey`).
   * Sent on the connection that sent the job, right behind it, it runs after the add without
   * waiting for its answer; the check keeps a failed add from being marked seen (the forge's
   * redelivery would be answered "duplicate" and the push lost). Resolves false when not marked.
   */
  async acceptDelivery(
    rec: DeliveryRecord,
    sync: { repo: string; branch: string; jobId: string; jobKey: string },
    via: Redis = this.redis,
  ): Promise<boolean> {
    const marked = await via.eval(
      ACCEPT_DELIVERY,
      4,
      sync.jobKey,
      this.keys.latestSync(sync.repo, sync.branch),
      this.keys.delivery(rec.provider, rec.deliveryId),
      this.keys.deliveries(),
      sync.jobId,
      String(DELIVERY_TTL_SECONDS),
      JSON.stringify(rec),
      String(DELIVERIES_KEPT - 1),
    );
    return marked === 1;
  }

  async logDelivery(rec: DeliveryRecord): Promise<void> {
    await this.redis
      .multi()
      .lpush(this.keys.deliveries(), JSON.stringify(rec))
      .ltrim(this.keys.deliveries(), 0, DELIVERIES_KEPT - 1)
      .exec();
  }

  async listDeliveries(limit = 100): Promise<DeliveryRecord[]> {
    const raw = await this.redis.lrange(this.keys.deliveries(), 0, limit - 1);
    return raw.map((r) => JSON.parse(r) as DeliveryRecord);
  }
}

function buildEvent(b: BuildRecord): GantryEvent {
  const text = b.failure?.message ?? b.note ?? `build ${b.status}`;
  return {
    type: 'build',
    at: Date.now(),
    buildId: b.id,
    app: b.app,
    sha: b.sha,
    status: b.status,
    text,
  };
}
