// How a commit is shown everywhere: short sha, first line, author, and its pull request.

import { commitSummary } from './changes.js';
import { h, prLink, shortSha } from './dom.js';

/** `abc123def456 Fix the thing — Ada · #12 Fix the thing` */
export function commitLine(x) {
  const c = commitSummary(x) ?? { sha: x?.sha };
  const pr =
    c.prNumber !== undefined
      ? prLink({ number: c.prNumber, title: c.prTitle, url: c.prUrl })
      : null;
  return h(
    'span',
    { class: 'commit', 'data-sha': c.sha ?? '' },
    h('code', { title: c.sha ?? '' }, shortSha(c.sha)),
    c.message ? ` ${c.message}` : '',
    c.author ? h('span', { class: 'muted' }, ` — ${c.author}`) : null,
    pr ? [' · ', pr] : null,
  );
}

/** A list of commits (what a rollout ships or takes out), or a line saying there are none. */
export function commitList(commits, empty = 'no commits') {
  if (!commits || commits.length === 0) return h('p', { class: 'muted' }, empty);
  return h(
    'ul',
    { class: 'commits' },
    commits.map((c) => h('li', {}, commitLine(c))),
  );
}
