// The reconciler's view of an environment: sync and health badges, the instances with their
// verdicts, the orphaned notice with its Prune button, and the timeline of repairs and drift.

import { enc, postAction } from './api.js';
import { confirmButton } from './dialog.js';
import { ago, badge, h, shortSha } from './dom.js';
import { grid } from './layout.js';

/** Sync in a word: `synced`, `out-of-sync`, or `sync unknown` before the reconciler's first pass. */
function syncWord(status) {
  const s = status?.sync?.status ?? 'unknown';
  return s === 'unknown' ? 'sync unknown' : s;
}

/** Health and sync badges (and `orphaned`), each carrying its word. */
export function statusBadges(status) {
  if (!status) return null;
  return h(
    'span',
    {
      class: 'status-badges',
      'data-health': status.health?.status ?? 'unknown',
      'data-sync': status.sync?.status ?? 'unknown',
    },
    badge(status.health?.status ?? 'unknown'),
    ' ',
    badge(syncWord(status)),
    status.orphaned ? [' ', badge('orphaned')] : null,
  );
}

/** Why it is out of sync and how healthy, as short lines under the badges. */
export function statusDetail(status) {
  if (!status) return null;
  const reasons = status.sync?.reasons ?? [];
  return h(
    'div',
    { class: 'small status-detail' },
    status.health?.detail ? h('div', { 'data-health-detail': '' }, status.health.detail) : null,
    reasons.map((r) =>
      h('div', { class: 'muted', 'data-sync-reason': r.reason }, `${r.reason}: ${r.detail}`),
    ),
    h(
      'div',
      { class: 'muted' },
      `self-heal ${status.selfHeal ? 'on' : 'off'}`,
      status.observedAt ? [' · observed ', ago(status.observedAt)] : ' · not reconciled yet',
    ),
  );
}

/** The instances as the reconciler judged them (healthy, starting, unhealthy, stray, surplus). */
export function instancesTable(env, status) {
  const list = status?.instances ?? [];
  if (list.length === 0) return null;
  // Instances labelled with their process type (web, worker…) say which; older ones are web.
  const typed = list.some((i) => i.process);
  return grid(
    { class: 'grid instances', 'aria-label': `Instances of ${env}` },
    [...(typed ? ['Process'] : []), 'Slot', 'Revision', 'Host', 'State', 'Verdict', 'Routed'],
    list.map((i) =>
      h(
        'tr',
        { 'data-slot': i.slot, 'data-verdict': i.verdict, 'data-process': i.process ?? 'web' },
        typed ? h('td', {}, h('code', {}, i.process ?? 'web')) : null,
        h('td', {}, h('code', {}, i.slot)),
        h('td', {}, h('code', {}, shortSha(i.revision))),
        h('td', {}, i.host),
        h('td', {}, i.state),
        h(
          'td',
          {},
          badge(i.verdict),
          i.detail ? h('div', { class: 'small muted' }, i.detail) : null,
        ),
        h('td', {}, i.routed ? 'yes' : 'no'),
      ),
    ),
  );
}

/** The orphaned notice with its Prune button (the API refuses viewers; the dialog says so). */
export function orphanedNotice(app, env, status, refresh) {
  if (!status?.orphaned) return null;
  const n = status.instances?.length ?? 0;
  return h(
    'div',
    { class: 'standing orphaned', 'data-orphaned': env },
    badge('orphaned'),
    h(
      'p',
      {},
      `${status.orphaned.why}. Its instances and route stay until someone prunes it: nothing is removed silently.`,
    ),
    confirmButton(
      `Prune ${env}`,
      { class: 'danger', 'data-action': 'prune', 'aria-label': `Prune ${env} of ${app}` },
      {
        title: `Prune ${env}`,
        body: [
          h('p', { class: 'lead' }, `Remove ${env} of ${app}.`),
          h(
            'p',
            {},
            `This stops and removes its ${n} instance(s)`,
            status.route?.id ? `, removes the edge route ${status.route.id}` : '',
            ` and forgets the environment (its record, lock and pin). Its timeline is kept. This cannot be undone: to serve ${env} again, add it back to gantry.yaml and deploy.`,
          ),
        ],
        danger: true,
        confirmLabel: `Prune ${env}`,
        onConfirm: () => postAction('prune', `/api/apps/${enc(app)}/prune`, { env }),
      },
      () => void refresh(),
    ),
  );
}

/** The environment's timeline between rollouts, newest first. */
export function timelineList(env, events) {
  if (!events?.length) return null;
  return h(
    'div',
    { class: 'timeline' },
    h('h3', {}, 'Timeline'),
    h(
      'ol',
      { class: 'timeline', 'aria-label': `Timeline of ${env}`, 'data-timeline': env },
      events.map((e) =>
        h(
          'li',
          { 'data-kind': e.kind },
          ago(e.at),
          ' ',
          badge(e.kind),
          ' ',
          h('span', { class: 'text' }, e.text),
        ),
      ),
    ),
  );
}
