/** What falls outside a retention policy (pure): shared by the rollout and record sweeps. */

export interface IndexEntry {
  id: string;
  /** Creation time, ms. */
  createdAt: number;
}

/** Keep at most `keepPerEnvironment` newest entries, none older than `keepDays`. */
export interface ExpiryPolicy {
  keepDays: number;
  keepPerEnvironment: number;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The ids of one index's entries that fall outside the policy at `now`: past the newest
 * `keepPerEnvironment`, or created more than `keepDays` ago. `protect` (the current rollout)
 * is kept whatever its age or rank.
 */
export function expiredIds(
  entries: readonly IndexEntry[],
  policy: ExpiryPolicy,
  now: number,
  protect: ReadonlySet<string> = new Set(),
): string[] {
  const cutoff = now - policy.keepDays * DAY_MS;
  const newestFirst = [...entries].sort(
    (a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
  );
  return newestFirst
    .filter((e, rank) => rank >= policy.keepPerEnvironment || e.createdAt < cutoff)
    .filter((e) => !protect.has(e.id))
    .map((e) => e.id);
}

/** A sorted set read `WITHSCORES` (member, score, member, score…) as entries. */
export function toEntries(withScores: string[]): IndexEntry[] {
  const out: IndexEntry[] = [];
  for (let i = 0; i + 1 < withScores.length; i += 2) {
    out.push({ id: withScores[i]!, createdAt: Number(withScores[i + 1]) });
  }
  return out;
}
