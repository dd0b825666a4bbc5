// One rollout, live: what it ships, its steps as they happen, each instance's health, and when it
// fails, the evidence (probe results, the failing instance's log tail). Pause, resume and abort
// while it runs; retry once it failed.

import { api, ApiError, apiOr, enc, postAction } from '../api.js';
import { changesBetween, commitSummary } from '../changes.js';
import { commitList } from '../commits.js';
import { confirmButton } from '../dialog.js';
import {
  badge,
  duration,
  fmtTime,
  h,
  notice,
  phaseWord,
  replace,
  rolloutDuration,
  rolloutKind,
  shortSha,
  triggerText,
} from '../dom.js';
import { crumbs, grid } from '../layout.js';
import { go } from '../nav.js';
import { live } from '../sse.js';

/** The page's heading word for each kind of rollout (rollbacks of either kind otherwise). */
const HEADINGS = { deploy: 'Rollout', scale: 'Scale', restart: 'Restart' };

function summary(r) {
  return h(
    'dl',
    { class: 'summary' },
    h('dt', {}, 'Environment'),
    h('dd', {}, h('a', { href: `#/apps/${enc(r.app)}` }, r.app), ` / ${r.env}`),
    h('dt', {}, 'Kind'),
    h('dd', {}, rolloutKind(r)),
    h('dt', {}, 'From → to'),
    h('dd', {}, h('code', {}, shortSha(r.from?.sha)), ' → ', h('code', {}, shortSha(r.to.sha))),
    h('dt', {}, 'Image'),
    h('dd', {}, h('code', { class: 'wrap' }, r.to.image)),
    h('dt', {}, 'Trigger'),
    h('dd', {}, triggerText(r.trigger)),
    h('dt', {}, 'Started'),
    h('dd', {}, fmtTime(r.createdAt)),
    h('dt', {}, 'Duration'),
    h('dd', {}, duration(rolloutDuration(r)), r.outcome ? '' : ' so far'),
    r.reason ? [h('dt', {}, 'Reason'), h('dd', { class: 'reason' }, r.reason)] : null,
  );
}

/**
 * The commits this rollout ships (or, moving back, takes out of production): from git when the
 * controller could read them (`fromGit`, every commit of the range), else from the revisions
 * Gantry recorded (the heads it saw).
 */
function ships(r, revisions, fromGit) {
  const ch = fromGit ?? changesBetween(revisions, r.from?.sha, r.to.sha);
  let commits = ch.commits;
  if (commits.length === 0 && r.commit) commits = [commitSummary({ ...r.commit, pr: r.pr })];
  const back = ch.direction === 'back';
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'ships' },
    h('h2', { id: 'ships' }, back ? 'What it takes out of production' : 'What it ships'),
    h(
      'p',
      { class: 'muted' },
      r.from
        ? `From ${shortSha(r.from.sha)} to ${shortSha(r.to.sha)}${back ? ' (an earlier revision)' : ''}.`
        : `First rollout: ${shortSha(r.to.sha)}.`,
    ),
    commitList(commits, back ? 'no commits' : 'no new commits (same revision)'),
  );
}

function controls(r, refresh) {
  const post = (what, path) => postAction(what, path).then(() => refresh());
  const error = h('p', { class: 'notice error', role: 'alert', hidden: true });
  const run = (what, path) => async () => {
    error.hidden = true;
    try {
      await post(what, path);
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  };
  const base = `/api/rollouts/${enc(r.id)}`;
  if (!r.outcome) {
    const paused = /^paused/.test(r.phase ?? '');
    return h(
      'div',
      { class: 'actions' },
      paused
        ? h('button', { type: 'button', onclick: run('resume', `${base}/resume`) }, 'Resume')
        : h('button', { type: 'button', onclick: run('pause', `${base}/pause`) }, 'Pause'),
      confirmButton(
        'Abort',
        { class: 'danger' },
        {
          title: 'Abort this rollout',
          body: `Stop moving ${r.env} to ${shortSha(r.to.sha)} and bring ${r.from ? shortSha(r.from.sha) : 'nothing'} back to full strength.`,
          danger: true,
          confirmLabel: 'Abort rollout',
          onConfirm: () => post('abort', `${base}/abort`),
        },
      ),
      error,
    );
  }
  if (['failed', 'aborted', 'superseded'].includes(r.outcome)) {
    return h(
      'div',
      { class: 'actions' },
      confirmButton(
        'Retry',
        {},
        {
          title: 'Retry this rollout',
          body: `Roll ${r.env} out to ${shortSha(r.to.sha)} again with its recorded image (no rebuild) and the same health checks.`,
          confirmLabel: 'Retry',
          onConfirm: () => postAction('retry', `${base}/retry`),
        },
        (res) => res.rolloutId && go(`#/rollouts/${enc(res.rolloutId)}`),
      ),
    );
  }
  return null;
}

function instances(r) {
  if (!r.instances?.length) return h('p', { class: 'muted' }, 'No instances yet.');
  return grid(
    { class: 'grid', 'aria-label': 'Instances' },
    ['Slot', 'Role', 'Revision', 'Host', 'Runtime', 'Traffic', 'Health'],
    r.instances.map((i) =>
      h(
        'tr',
        { 'data-slot': i.slot, 'data-health': i.health?.status ?? 'unknown' },
        h('td', {}, i.slot),
        h('td', {}, i.role === 'to' ? 'new' : i.role === 'from' ? 'old' : 'other'),
        h('td', {}, h('code', {}, shortSha(i.revision))),
        h('td', {}, i.host),
        h(
          'td',
          {},
          badge(i.runtime),
          i.retiring ? h('span', { class: 'small muted' }, ` leaving: ${i.retiring}`) : null,
        ),
        h('td', {}, i.routed ? 'routed' : 'not routed'),
        h(
          'td',
          {},
          badge(i.health?.status ?? 'unknown'),
          i.health?.detail ? h('span', { class: 'small muted' }, ` ${i.health.detail}`) : null,
        ),
      ),
    ),
  );
}

function probeList(probes) {
  return h(
    'ul',
    { class: 'probes' },
    probes.map((p) =>
      h(
        'li',
        { class: p.ok ? 'ok' : 'bad' },
        `${p.ok ? 'pass' : 'FAIL'} ${fmtTime(p.at)}: ${p.detail}`,
      ),
    ),
  );
}

function evidence(r) {
  const f = r.failure;
  const bad = (r.evidence ?? []).filter((e) => e.status === 'unhealthy');
  if (!f && bad.length === 0 && !r.failureLogs) return null;
  return h(
    'section',
    { class: 'card evidence', 'aria-labelledby': 'evidence' },
    h('h2', { id: 'evidence' }, 'Why it failed'),
    f
      ? [
          h('p', { class: 'lead' }, `${f.check} (while ${f.during}): ${f.detail}`),
          f.probes?.length
            ? [h('h3', {}, 'Health checks that decided it'), probeList(f.probes)]
            : null,
        ]
      : null,
    bad.length && !f?.probes?.length
      ? bad.map((e) => [
          h('h3', {}, `${e.slot}: ${e.detail ?? e.status}`),
          probeList(e.probes ?? []),
        ])
      : null,
    r.failureLogs
      ? [
          h('h3', {}, `Log tail of ${r.failureLogs.slot}`),
          h('pre', { class: 'log', tabindex: '0' }, r.failureLogs.lines.join('\n')),
        ]
      : null,
  );
}

function eventItem(e) {
  return h(
    'li',
    { 'data-kind': e.kind },
    h('time', { datetime: new Date(e.at).toISOString() }, fmtTime(e.at).slice(11, 19)),
    ' ',
    h('span', { class: 'kind' }, e.kind),
    ' ',
    e.text,
  );
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The rollout's first view. A rollout just asked for (deploy, rollback, retry) is queued before
 * its record exists, so a 404 is waited out for a while rather than shown as an error.
 */
async function firstView(root, id, isGone) {
  for (let i = 0; ; i++) {
    try {
      return await api(`/api/rollouts/${enc(id)}?from=0`);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404 || i >= 120 || isGone()) throw e;
      if (i === 0)
        replace(root, notice('info', `Rollout ${id} is queued; waiting for it to start…`));
      await sleep(1000);
    }
  }
}

export async function rolloutPage(root, id) {
  document.title = `Rollout ${id} · Gantry`;
  const here = location.hash;
  const first = await firstView(root, id, () => location.hash !== here);
  let r = first.rollout;
  let next = first.next;
  const detail = await apiOr(`/api/apps/${enc(r.app)}`, { revisions: [] });
  // Older controllers have no such route, and git may be out of reach: the revisions then do.
  const fromGit = await api(`/api/rollouts/${enc(id)}/commits`).catch(() => null);

  const phase = h('span', { id: 'phase', role: 'status', 'aria-live': 'polite' });
  const parts = {
    summary: h('div'),
    controls: h('div'),
    instances: h('div'),
    evidence: h('div'),
    ships: h('div'),
  };
  const steps = h('ol', { class: 'steps', 'aria-label': 'Steps', 'aria-live': 'polite' });
  replace(
    root,
    crumbs(r.app, `rollout ${id}`),
    h(
      'h1',
      {},
      `${HEADINGS[rolloutKind(r)] ?? 'Rollback'} of ${shortSha(r.to.sha)} to ${r.env} `,
      phase,
    ),
    parts.controls,
    h('div', { class: 'two' }, parts.summary, parts.ships),
    parts.evidence,
    h('h2', {}, 'Instances'),
    parts.instances,
    h('h2', {}, 'Steps'),
    steps,
  );

  const show = () => {
    replace(phase, badge(phaseWord(r)));
    phase.dataset.phase = phaseWord(r);
    phase.dataset.outcome = r.outcome ?? '';
    replace(parts.summary, summary(r));
    replace(parts.controls, controls(r, refresh));
    replace(parts.ships, ships(r, detail.revisions, fromGit));
    replace(parts.instances, instances(r));
    replace(parts.evidence, evidence(r));
  };
  const addEvents = (events) => steps.append(...events.map(eventItem));

  let busy = false;
  let again = false;
  let stop = () => {};
  async function refresh() {
    // One fetch at a time; events arriving meanwhile ask for one more.
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      do {
        again = false;
        const res = await api(`/api/rollouts/${enc(id)}?from=${next}`);
        r = res.rollout;
        next = res.next;
        addEvents(res.events);
        show();
      } while (again);
      if (r.outcome) stop();
    } catch {
      // Keep what is shown; the next event or tick tries again.
    } finally {
      busy = false;
    }
  }

  addEvents(first.events);
  show();
  if (!r.outcome) {
    stop = live({
      filter: { rollout: id },
      onEvent: (e) => (e.rolloutId === id ? void refresh() : undefined),
      poll: refresh,
      pollMs: 2000,
    });
  }
  return () => stop();
}
