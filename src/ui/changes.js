// Pure helpers over API data (no DOM): what a rollout ships or takes out, which revisions may be
// rolled back to, how healthy an environment is. Kept apart so they can be tested without a browser.

/** A commit as the UI shows it, from a Revision, a CommitMeta or an API CommitSummary. */
export function commitSummary(x) {
  if (!x) return null;
  const c = x.commit && typeof x.commit === 'object' ? { ...x.commit, ...pick(x) } : x;
  const author = typeof c.author === 'string' ? c.author : (c.author?.name ?? '');
  return {
    sha: c.sha ?? x.sha,
    message: String(c.message ?? '').split('\n')[0],
    author,
    prNumber: c.prNumber ?? x.pr?.number,
    prTitle: c.prTitle ?? x.pr?.title,
    prUrl: c.prUrl ?? x.pr?.url,
  };
}

function pick(x) {
  return x.sha ? { sha: x.sha } : {};
}

/**
 * The commits between two revisions, from the app's revisions (newest first): for a forward
 * rollout those it ships (`to` included, `from` not); for a move back those it takes out of
 * production (`from` included, `to` not). `direction` is 'first' when nothing ran before.
 */
export function changesBetween(revisions, fromSha, toSha) {
  const list = revisions ?? [];
  const at = (sha) => list.findIndex((r) => r.sha === sha);
  const iTo = at(toSha);
  if (!fromSha) {
    return { direction: 'first', commits: iTo >= 0 ? [commitSummary(list[iTo])] : [] };
  }
  if (fromSha === toSha) return { direction: 'same', commits: [] };
  const iFrom = at(fromSha);
  if (iTo < 0 || iFrom < 0) {
    return { direction: 'unknown', commits: iTo >= 0 ? [commitSummary(list[iTo])] : [] };
  }
  if (iTo < iFrom) {
    return { direction: 'forward', commits: list.slice(iTo, iFrom).map(commitSummary) };
  }
  return { direction: 'back', commits: list.slice(iFrom, iTo).map(commitSummary) };
}

/** Whether a rollout is still going (no outcome yet). */
export function isActive(r) {
  return !r.outcome;
}

/**
 * History entries that get a "Roll back to this" button: the newest succeeded rollout of each
 * revision that is older than what runs now and is not running. Returns their ids.
 */
export function rollbackTargets(entries, current) {
  const out = new Set();
  if (!current) return out;
  const currentEntry = entries.find((e) => e.id === current.rolloutId);
  const since = currentEntry ? Date.parse(currentEntry.createdAt) : Date.parse(current.since);
  const seen = new Set([current.sha]);
  // Entries come newest first: the first succeeded one of each sha is its newest.
  for (const e of entries) {
    if (e.outcome !== 'succeeded' || seen.has(e.to.sha)) continue;
    seen.add(e.to.sha);
    if (Number.isNaN(since) || Date.parse(e.createdAt) <= since) out.add(e.id);
  }
  return out;
}

/**
 * History entries from the rollouts list, for controllers without /api/history: each with its
 * commit (from the record or the revisions) and whether its revision still serves.
 */
export function entriesFromRollouts(rollouts, revisions, environments) {
  const bySha = new Map((revisions ?? []).map((r) => [r.sha, r]));
  const runningSeen = new Set();
  return (rollouts ?? []).map((r) => {
    const env = (environments ?? []).find((e) => e.env === r.env);
    let running = false;
    if (!runningSeen.has(r.env) && r.outcome === 'succeeded' && env?.current?.sha === r.to.sha) {
      running = true;
      runningSeen.add(r.env);
    }
    const commit = r.commit
      ? commitSummary({ ...r.commit, pr: r.pr })
      : commitSummary(bySha.get(r.to.sha));
    return { ...r, commit: commit ?? { sha: r.to.sha, message: '', author: '' }, running };
  });
}

/** How many instances of the running revision are healthy, from the newest rollout's view. */
export function healthOf(env, rollouts) {
  const sha = env?.current?.sha;
  if (!sha) return { healthy: 0, total: 0, known: false };
  const latest = (rollouts ?? []).find((r) => r.env === env.env && (r.instances ?? []).length);
  const serving = (latest?.instances ?? []).filter(
    (i) => i.revision === sha && !i.retiring && i.runtime === 'running',
  );
  return {
    healthy: serving.filter((i) => i.health?.status === 'healthy').length,
    total: serving.length,
    known: serving.length > 0,
  };
}

/**
 * How many of an environment's own instances are healthy, as the reconciler last judged them
 * (strays and surplus are not its own); null before its first pass. Preferred to the rollout's
 * view, which stops at the end of the rollout.
 */
export function healthFromStatus(status) {
  if (!status?.observedAt) return null;
  const own = (status.instances ?? []).filter((i) => !['stray', 'surplus'].includes(i.verdict));
  return {
    healthy: own.filter((i) => i.verdict === 'healthy').length,
    total: own.length,
    known: own.length > 0,
    word: status.health?.status,
  };
}
