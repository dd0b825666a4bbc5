// A build and its log, followed while the build runs.

import { api, enc } from '../api.js';
import { badge, fmtTime, h, notice, replace, shortSha } from '../dom.js';
import { crumbs } from '../layout.js';

/**
 * Where the retries of a build stand, in a line: the attempt running or waiting, of how many,
 * when the next one starts and why the last one failed. Null before any attempt failed.
 */
export function retryText(build) {
  const r = build.retry;
  if (!r || !r.lastError) return null;
  const why = `${r.lastError.code}: ${r.lastError.message}`;
  if (r.nextAt)
    return `Attempt ${r.attempt} of ${r.of} failed (${why}); next try at ${fmtTime(r.nextAt)}.`;
  if (build.status === 'running')
    return `Attempt ${r.attempt} of ${r.of} running; the last one failed (${why}).`;
  return null;
}

export async function buildPage(root, id) {
  document.title = `Build ${id} · Gantry`;
  const build = await api(`/api/builds/${enc(id)}`);
  const status = h('span', { role: 'status' }, badge(build.status));
  const attempts = h('dd', {}, attemptsText(build));
  const retry = h('div', { 'aria-live': 'polite' }, retryNotice(build));
  const log = h('pre', { class: 'log', tabindex: '0', 'aria-label': 'Build log' });
  replace(
    root,
    crumbs(build.app, `build ${id}`),
    h('h1', {}, `Build of ${shortSha(build.sha)} `, status),
    h(
      'dl',
      { class: 'summary' },
      h('dt', {}, 'Branch'),
      h('dd', {}, build.branch),
      h('dt', {}, 'Started'),
      h('dd', {}, fmtTime(build.startedAt ?? build.createdAt)),
      h('dt', {}, 'Image'),
      h('dd', {}, build.image ? h('code', { class: 'wrap' }, build.image.pinned) : '—'),
      h('dt', {}, 'Attempts'),
      attempts,
    ),
    retry,
    build.failure ? notice('error', `${build.failure.code}: ${build.failure.message}`) : null,
    h('h2', {}, 'Log'),
    log,
  );

  let from = 0;
  let stopped = false;
  let timer = null;
  let lastStatus = build.status;
  const tick = async () => {
    try {
      const res = await api(`/api/builds/${enc(id)}/log?from=${from}`);
      if (res.lines.length) log.append(document.createTextNode(res.lines.join('\n') + '\n'));
      from = res.next;
      replace(status, badge(res.status));
      // A new status or new lines (an attempt failed, another started): the record moved on.
      if (res.status !== lastStatus || res.lines.length > 0) {
        const fresh = await api(`/api/builds/${enc(id)}`);
        replace(attempts, attemptsText(fresh));
        replace(retry, retryNotice(fresh));
      }
      lastStatus = res.status;
      if (res.finished) return;
    } catch {
      // Try again on the next tick.
    }
    if (!stopped) timer = setTimeout(tick, 1000);
  };
  await tick();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}

function attemptsText(build) {
  const r = build.retry;
  return r ? `${r.attempt} of ${r.of}` : String(build.attempts || '—');
}

function retryNotice(build) {
  const text = retryText(build);
  return text ? notice('info', text) : null;
}
