/**
 * What a rollout ships (or a rollback takes out of production): the commits between two
 * revisions, with the pull requests their messages say they landed.
 */
import { isGantryError } from '../errors.js';
import type { RepoCache } from '../source/repo-cache.js';
import { pullRequestOf } from './pull-request.js';

/** One commit as people read it in a list: first line, author, and the PR it landed. */
export interface CommitSummary {
  sha: string;
  /** The first line of the message. */
  message: string;
  /** The author's name. */
  author: string;
  /** When it was authored (ISO 8601), when known. */
  at?: string | undefined;
  prNumber?: number | undefined;
  prTitle?: string | undefined;
  prUrl?: string | undefined;
}

/** A revision as shown next to a rollout: its commit and, once built, its pinned image. */
export type RevisionSummary = CommitSummary & { image?: string | undefined };

/** The commit fields the summary needs: a stored CommitMeta and the cache's CommitInfo both fit. */
export interface CommitLike {
  sha: string;
  message: string;
  author: { name: string; timestamp: number };
  prNumber?: number | undefined;
}

/** How far a walk goes at most: a list longer than this is cut (and says so by its length). */
export const DEFAULT_LIMIT = 200;

/** A commit as a list entry. `prUrl` builds the link when the forge is known. */
export function commitSummary(
  meta: CommitLike,
  prUrl?: (prNumber: number) => string | undefined,
): CommitSummary {
  const pr = pullRequestOf(meta, prUrl);
  return {
    sha: meta.sha,
    message: (meta.message.split(/\r?\n/)[0] ?? '').trim(),
    author: meta.author.name,
    at: new Date(meta.author.timestamp * 1000).toISOString(),
    ...(pr ? { prNumber: pr.number } : {}),
    ...(pr?.title === undefined ? {} : { prTitle: pr.title }),
    ...(pr?.url === undefined ? {} : { prUrl: pr.url }),
  };
}

/** What a walk over history needs: the parents of a commit, or null when it is not at hand. */
export type ParentsOf = (sha: string) => Promise<string[] | null>;

/**
 * git's `from..to` over a parents function: commits reachable from `to` and not from `from`,
 * newest first in walk order (breadth-first from `to`). Ancestors of `from` are collected up to
 * `limit` commits, so a walk across a history that diverged further than that may list more.
 * A commit that is not at hand (the shallow boundary of a cache) ends its branch of the walk.
 */
export async function walkBetween(
  parentsOf: ParentsOf,
  from: string | null,
  to: string,
  limit = DEFAULT_LIMIT,
): Promise<string[]> {
  if (from === to) return [];
  const excluded = new Set<string>();
  if (from !== null) {
    const queue = [from];
    while (queue.length > 0 && excluded.size < limit * 4) {
      const sha = queue.shift()!;
      if (excluded.has(sha)) continue;
      excluded.add(sha);
      queue.push(...((await parentsOf(sha)) ?? []));
    }
  }
  const out: string[] = [];
  const seen = new Set<string>();
  const queue = [to];
  while (queue.length > 0 && out.length < limit) {
    const sha = queue.shift()!;
    if (seen.has(sha) || excluded.has(sha)) continue;
    seen.add(sha);
    const parents = await parentsOf(sha);
    if (parents === null) continue;
    out.push(sha);
    queue.push(...parents);
  }
  return out;
}

/** Where to fetch the commits from, how many to list at most, and how to link their PRs. */
export interface CommitListOptions {
  branch?: string | undefined;
  limit?: number | undefined;
  prUrl?: (prNumber: number) => string | undefined;
}

/**
 * The commits between two revisions: reachable from `toSha` and not from `fromSha` (git's
 * `from..to`), newest first, each with its PR. With `branch`, both commits are fetched into the
 * cache first (a shallow cache is deepened until they are there). `fromSha` null lists `toSha`'s
 * history up to `limit`. For a rollback's "what it takes out", pass (target, current).
 */
export async function commitsBetween(
  cache: RepoCache,
  fromSha: string | null,
  toSha: string,
  opts: CommitListOptions = {},
): Promise<CommitSummary[]> {
  if (opts.branch !== undefined) {
    await cache.ensureCommit(toSha, opts.branch);
    if (fromSha !== null) await cache.ensureCommit(fromSha, opts.branch).catch(() => undefined);
  }
  const infos = new Map<string, CommitLike>();
  const parentsOf: ParentsOf = async (sha) => {
    try {
      const info = await cache.commitInfo(sha);
      infos.set(sha, info);
      return info.parents;
    } catch (e) {
      if (isGantryError(e)) return null;
      throw e;
    }
  };
  const shas = await walkBetween(parentsOf, fromSha, toSha, opts.limit ?? DEFAULT_LIMIT);
  return shas.map((sha) => commitSummary(infos.get(sha)!, opts.prUrl));
}

/** Which way a move between two revisions goes, as far as git can tell. */
export type ChangeDirection = 'first' | 'same' | 'forward' | 'back';

/** What moving from one revision to another changes, each commit listed from git. */
export interface Changes {
  direction: ChangeDirection;
  /**
   * `forward`: the commits `to` brings (`from..to`, newest first); `back`: those it takes out of
   * production (`to..from`); `first`: `to` alone; `same`: none.
   */
  commits: CommitSummary[];
}

/**
 * "What's in this deploy": every commit between the revision that ran (`from`, null when none
 * did) and the one that replaces it, from the history in git — including commits no sync saw as
 * a head (several commits in one push, pushes coalesced, commits path filters skipped). A move to
 * an older revision lists what it takes out instead.
 */
export async function changesBetween(
  cache: RepoCache,
  fromSha: string | null,
  toSha: string,
  opts: CommitListOptions = {},
): Promise<Changes> {
  if (fromSha === null) {
    return {
      direction: 'first',
      commits: await commitsBetween(cache, null, toSha, { ...opts, limit: 1 }),
    };
  }
  if (fromSha === toSha) return { direction: 'same', commits: [] };
  const forward = await commitsBetween(cache, fromSha, toSha, opts);
  if (forward.length > 0) return { direction: 'forward', commits: forward };
  // Nothing in from..to: `to` is an ancestor of `from`, so the move takes to..from out.
  return { direction: 'back', commits: await commitsBetween(cache, toSha, fromSha, opts) };
}
