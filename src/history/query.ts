/**
 * History queries: "what did PR #42 ship, where, and is it still running?". Reads go through the
 * sorted-set indexes the rollout store keeps (by environment, app, commit, PR), then one MGET for
 * the page of records and one for the environments they touched — a fixed number of round trips
 * whatever the history's size.
 */
import type { Redis } from 'ioredis';
import { GantryError } from '../errors.js';
import type { Keys } from '../store/keys.js';
import type { CommitMeta, EnvState, RolloutRecord } from '../store/records.js';
import { commitSummary, type CommitSummary } from './changes.js';

export interface HistoryQuery {
  app: string;
  env?: string | undefined;
  /** A full commit id, or a prefix of at least 7 hex digits. */
  sha?: string | undefined;
  pr?: number | undefined;
  limit: number;
  /** Cursor from a previous page's `next`. */
  before?: string | undefined;
}

/** One rollout with what a person asks of it in a history list. */
export interface HistoryItem {
  record: RolloutRecord;
  commit: CommitSummary;
  /** This rollout succeeded and its revision still serves its environment. */
  running: boolean;
  durationMs?: number | undefined;
}

export interface HistoryPage {
  items: HistoryItem[];
  /** Pass as `before` for the next (older) page; absent on the last page. */
  next?: string | undefined;
}

/** A position in an index: creation time in ms, and the id that breaks ties. */
interface Cursor {
  score: number;
  id: string;
}

const CURSOR = /^([0-9]{1,16}):(r-[a-z0-9]+-[a-z0-9]+)$/;

/** `<score>:<id>`: opaque to clients, stable under inserts (ids only ever get newer). */
export function encodeCursor(c: Cursor): string {
  return `${c.score}:${c.id}`;
}

export function decodeCursor(text: string): Cursor {
  const m = CURSOR.exec(text);
  if (!m) throw new GantryError('GANTRY_ERR_BAD_REQUEST', `"${text}" is not a history cursor`);
  return { score: Number(m[1]), id: m[2]! };
}

/**
 * Whether an index entry comes after the cursor in newest-first order. Redis lists equal scores
 * in reverse lexicographic order of members, so at the cursor's score only smaller ids follow.
 */
export function isAfterCursor(entry: Cursor, cursor: Cursor | undefined): boolean {
  if (!cursor) return true;
  return entry.score < cursor.score || (entry.score === cursor.score && entry.id < cursor.id);
}

/** Runs history queries against the store's Redis records. */
export class HistoryReader {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** A page of rollouts matching `q`, newest first. */
  async query(q: HistoryQuery): Promise<HistoryPage> {
    const sha = q.sha ? await this.resolveSha(q.app, q.sha) : undefined;
    if (q.sha && sha === undefined) return { items: [] };
    const index =
      q.pr !== undefined
        ? this.keys.rolloutsByPr(q.app, q.pr)
        : sha
          ? this.keys.rolloutsBySha(q.app, sha)
          : q.env
            ? this.keys.rollouts(q.app, q.env)
            : this.keys.appRollouts(q.app);
    const keep = (r: RolloutRecord) =>
      r.app === q.app &&
      (!q.env || r.env === q.env) &&
      (!sha || r.to.sha === sha) &&
      (q.pr === undefined || r.pr?.number === q.pr);
    const { records, more } = await this.scan(index, q.limit, keep, q.before);
    const items = await this.describe(records);
    const last = records[records.length - 1];
    return {
      items,
      ...(more && last
        ? { next: encodeCursor({ score: Date.parse(last.createdAt), id: last.id }) }
        : {}),
    };
  }

  /**
   * Walks `index` newest first from the cursor, a batch at a time, until `limit` records pass
   * `keep` (one more tells whether there is a next page). Only a filter the index does not
   * already express (an environment within a PR's rollouts) ever needs a second batch.
   */
  private async scan(
    index: string,
    limit: number,
    keep: (r: RolloutRecord) => boolean,
    before: string | undefined,
  ): Promise<{ records: RolloutRecord[]; more: boolean }> {
    let cursor = before ? decodeCursor(before) : undefined;
    const out: RolloutRecord[] = [];
    const batch = limit + 1;
    for (;;) {
      const max = cursor ? String(cursor.score) : '+inf';
      // Entries at the cursor's own score come back again; the ones already seen are dropped.
      const raw = await this.redis.zrevrangebyscore(
        index,
        max,
        '-inf',
        'WITHSCORES',
        'LIMIT',
        0,
        batch + 8,
      );
      const entries: Cursor[] = [];
      for (let i = 0; i + 1 < raw.length; i += 2) {
        entries.push({ id: raw[i]!, score: Number(raw[i + 1]) });
      }
      const fresh = entries.filter((e) => isAfterCursor(e, cursor)).slice(0, batch);
      if (fresh.length === 0) return { records: out, more: false };
      const recs = await this.redis.mget(fresh.map((e) => this.keys.rollout(e.id)));
      for (const json of recs) {
        if (json === null) continue; // removed by retention between the two reads
        const rec = JSON.parse(json) as RolloutRecord;
        if (!keep(rec)) continue;
        if (out.length === limit) return { records: out, more: true };
        out.push(rec);
      }
      cursor = fresh[fresh.length - 1];
      if (entries.length < batch + 8 && fresh.length === entries.length)
        return { records: out, more: false };
    }
  }

  /** Adds the commit summary, whether the revision still serves, and the duration. */
  private async describe(records: RolloutRecord[]): Promise<HistoryItem[]> {
    if (records.length === 0) return [];
    const envs = [...new Set(records.map((r) => r.env))];
    const states = await this.redis.mget(envs.map((e) => this.keys.envState(records[0]!.app, e)));
    const current = new Map<string, string | undefined>();
    envs.forEach((e, i) => {
      const s = states[i] ? (JSON.parse(states[i]!) as EnvState) : undefined;
      current.set(e, s?.current?.sha);
    });
    // Records written before commits were copied onto them: read the revision's commit instead.
    const missing = [...new Set(records.filter((r) => !r.commit).map((r) => r.to.sha))];
    const commits = new Map<string, CommitMeta>();
    if (missing.length > 0) {
      const revs = await this.redis.mget(
        missing.map((s) => this.keys.revision(records[0]!.app, s)),
      );
      missing.forEach((sha, i) => {
        const rev = revs[i] ? (JSON.parse(revs[i]!) as { commit?: CommitMeta }) : undefined;
        if (rev?.commit) commits.set(sha, rev.commit);
      });
    }
    return records.map((record) => ({
      record,
      commit: summaryOf(record, record.commit ?? commits.get(record.to.sha)),
      running: record.outcome === 'succeeded' && current.get(record.env) === record.to.sha,
      ...(record.finishedAt
        ? { durationMs: Date.parse(record.finishedAt) - Date.parse(record.createdAt) }
        : {}),
    }));
  }

  /** A full commit id from a prefix, among the app's known revisions. */
  private async resolveSha(app: string, sha: string): Promise<string | undefined> {
    if (sha.length === 40) return sha;
    const all = await this.redis.zrange(this.keys.revisions(app), '0', '-1');
    const hits = all.filter((s) => s.startsWith(sha));
    if (hits.length > 1) {
      throw new GantryError(
        'GANTRY_ERR_REF_INVALID',
        `${sha} matches ${hits.length} commits of ${app}; give more digits`,
      );
    }
    return hits[0];
  }
}

/** The commit as a list entry; the PR recorded on the rollout wins over the message's. */
export function summaryOf(rec: RolloutRecord, commit: CommitMeta | undefined): CommitSummary {
  const base: CommitSummary = commit
    ? commitSummary(commit)
    : { sha: rec.to.sha, message: '', author: '' };
  if (!rec.pr) return base;
  return {
    ...base,
    prNumber: rec.pr.number,
    ...(rec.pr.title ? { prTitle: rec.pr.title } : {}),
    ...(rec.pr.url ? { prUrl: rec.pr.url } : {}),
  };
}
