/**
 * What a rollout ships (or a rollback takes out of production): the commits between two
 * revisions, with the pull requests their messages say they landed.
 */
import { isGantryError } from '../errors.js';
import { prNumberFromMessage } from '../source/commit-meta.js';
import type { RepoCache } from '../source/repo-cache.js';

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

// "Merge pull request #12 from owner/branch" puts the PR's title on the first body line.
const GITHUB_MERGE = /^Merge pull request #\d+ from \S/;
// "Merge pull request 'Title' (#12) from owner/branch into main" (Gitea).
const GITEA_MERGE = /^Merge pull request '(.*)' \(#\d+\) from \S/;
// "Title (#12)" (GitHub / Gitea squash merge).
const SQUASH = /^(.*\S)[ \t]*\(#\d+\)$/;
// GitLab: "Merge branch 'x' into 'main'" with the MR title on the first body line.
const GITLAB_MERGE = /^Merge branch '.*' into '.*'$/;

/** The PR title a commit message carries, in the forms forges write (only when it names a PR). */
export function prTitleFromMessage(message: string): string | undefined {
  if (prNumberFromMessage(message) === undefined) return undefined;
  const lines = message.split(/\r?\n/).map((l) => l.trim());
  const subject = lines[0] ?? '';
  const firstBodyLine = lines.slice(1).find((l) => l !== '');
  if (GITHUB_MERGE.test(subject) || GITLAB_MERGE.test(subject)) return firstBodyLine;
  const gitea = GITEA_MERGE.exec(subject)?.[1];
  if (gitea) return gitea;
  return SQUASH.exec(subject)?.[1] ?? subject;
}

/** A commit as a list entry. `prUrl` builds the link when the forge is known. */
export function commitSummary(
  meta: CommitLike,
  prUrl?: (prNumber: number) => string | undefined,
): CommitSummary {
  const prNumber = meta.prNumber ?? prNumberFromMessage(meta.message);
  const prTitle = prNumber === undefined ? undefined : prTitleFromMessage(meta.message);
  const url = prNumber === undefined ? undefined : prUrl?.(prNumber);
  return {
    sha: meta.sha,
    message: (meta.message.split(/\r?\n/)[0] ?? '').trim(),
    author: meta.author.name,
    at: new Date(meta.author.timestamp * 1000).toISOString(),
    ...(prNumber === undefined ? {} : { prNumber }),
    ...(prTitle === undefined ? {} : { prTitle }),
    ...(url === undefined ? {} : { prUrl: url }),
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
  opts: {
    branch?: string | undefined;
    limit?: number | undefined;
    prUrl?: (prNumber: number) => string | undefined;
  } = {},
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

/** A link to a PR on the forges whose URL scheme is known from the repo URL (GitHub, GitLab, Gitea). */
export function prUrlFor(repoUrl: string): (prNumber: number) => string | undefined {
  let base: URL;
  try {
    base = new URL(repoUrl.replace(/\.git$/, ''));
  } catch {
    return () => undefined;
  }
  if (base.protocol !== 'https:') return () => undefined;
  const root = `${base.origin}${base.pathname.replace(/\/+$/, '')}`;
  if (base.hostname === 'github.com') return (n) => `${root}/pull/${n}`;
  if (base.hostname === 'gitlab.com') return (n) => `${root}/-/merge_requests/${n}`;
  return () => undefined;
}
