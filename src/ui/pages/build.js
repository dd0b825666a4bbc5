// A build and its log, followed while the build runs.

import { api, enc } from '../api.js';
import { badge, fmtTime, h, notice, replace, shortSha } from '../dom.js';
import { crumbs } from '../layout.js';

export async function buildPage(root, id) {
  document.title = `Build ${id} · Gantry`;
  const build = await api(`/api/builds/${enc(id)}`);
  const status = h('span', { role: 'status' }, badge(build.status));
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
    ),
    build.failure ? notice('error', `${build.failure.code}: ${build.failure.message}`) : null,
    h('h2', {}, 'Log'),
    log,
  );

  let from = 0;
  let stopped = false;
  let timer = null;
  const tick = async () => {
    try {
      const res = await api(`/api/builds/${enc(id)}/log?from=${from}`);
      if (res.lines.length) log.append(document.createTextNode(res.lines.join('\n') + '\n'));
      from = res.next;
      replace(status, badge(res.status));
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
