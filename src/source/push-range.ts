/**
 * What a sync of a branch changed since the last one: the paths that differ between the trees of
 * the earlier head(s) and the new head, or "everything" when there is no trustworthy earlier head
 * (a first push, a force-push, a head the cache does not hold). Path filters decide on this.
 */
import { isSha } from '../git/commit-id.js';
import type { ChangesSince } from './repo-cache.js';

/** The change a sync acts on; `all` builds every app, with the reason it has to. */
export type PushChange =
  | { readonly kind: 'all'; readonly reason: string }
  | {
      readonly kind: 'paths';
      /** The earlier head(s) diffed against `head`, each an ancestor of it. */
      readonly bases: readonly string[];
      readonly head: string;
      /** Sorted repository paths that differ from at least one base. */
      readonly paths: readonly string[];
    };

/** The earlier heads to diff against, or why there is none. */
export type RangeBases =
  | { readonly kind: 'all'; readonly reason: string }
  | { readonly kind: 'bases'; readonly bases: readonly string[] };

/**
 * Which earlier heads a sync diffs against: the push's `before` (webhooks) and the last head this
 * controller synced (every trigger). Both, when they differ: a push whose sync was coalesced into
 * a later one, or pushes made while the controller was away, leave commits between the two that
 * no sync has looked at, and diffing from either one alone could miss an app they touched.
 * An all-zero `before` is a new branch; no earlier head at all is a first sync.
 */
export function rangeBases(before: string | undefined, lastHead: string | undefined): RangeBases {
  if (before !== undefined && /^0+$/.test(before)) {
    return { kind: 'all', reason: 'the branch is new (its first push)' };
  }
  if (before !== undefined && !isSha(before)) {
    return {
      kind: 'all',
      reason: `the push's previous head ${JSON.stringify(before)} is not a commit id`,
    };
  }
  const bases = [...new Set([before, lastHead].filter((s): s is string => s !== undefined))];
  if (bases.length === 0) {
    return { kind: 'all', reason: 'no earlier head of the branch is known (first sync)' };
  }
  return { kind: 'bases', bases };
}

/**
 * The change a sync acts on, from the bases it chose and what the cache found diffing them against
 * `head` (`RepoCache.changesSince`). A base the cache does not hold, or that is not
 * an ancestor of `head` (a force-push), makes it `all`: the diff would not say what the new
 * history changed.
 */
export function pushChange(range: RangeBases, head: string, found: ChangesSince): PushChange {
  if (range.kind === 'all') return range;
  switch (found.kind) {
    case 'unknown':
      return { kind: 'all', reason: `the previous head ${short(found.base)} is unknown here` };
    case 'diverged':
      return {
        kind: 'all',
        reason: `force-push: ${short(found.base)} is not an ancestor of ${short(head)}`,
      };
    case 'unreadable':
      return {
        kind: 'all',
        reason: `the change since ${short(found.base)} cannot be read: ${found.message}`,
      };
    case 'paths':
      return { kind: 'paths', bases: range.bases, head, paths: found.paths };
  }
}

function short(sha: string): string {
  return sha.slice(0, 12);
}
