// One app: its environments (running revision, lock, pin; the reconciler's sync and health, its
// instances, its timeline of repairs) and the history of rollouts, with the actions a deployer
// takes from it: roll back to an earlier healthy revision, redeploy, retry, lock and unlock,
// unpin, prune an orphaned environment, scale its processes, restart them. Each action says what
// it will do before doing it.

import { api, apiOr, enc, postAction } from '../api.js';
import { entriesFromRollouts, healthFromStatus, healthOf, rollbackTargets } from '../changes.js';
import { commitLine } from '../commits.js';
import { confirmButton } from '../dialog.js';
import {
  instancesTable,
  orphanedNotice,
  statusBadges,
  statusDetail,
  timelineList,
} from '../env-status.js';
import {
  ago,
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
import { logTail } from '../log-tail.js';
import { processesPanel } from '../processes.js';
import { live, oncePerBurst } from '../sse.js';
import { rollbackDialog } from './rollback.js';

async function load(name) {
  const [detail, rolls] = await Promise.all([
    api(`/api/apps/${enc(name)}`),
    api(`/api/apps/${enc(name)}/rollouts`),
  ]);
  const history = await apiOr(`/api/history?app=${enc(name)}&limit=50`, null);
  const entries = history?.rollouts
    ? history.rollouts
    : entriesFromRollouts(rolls.rollouts, detail.revisions, rolls.environments);
  // Each environment's timeline between rollouts (repairs, drift); none from older controllers.
  const timelines = Object.fromEntries(
    await Promise.all(
      rolls.environments.map(async (e) => [
        e.env,
        (await apiOr(`/api/apps/${enc(name)}/timeline?env=${enc(e.env)}&limit=10`, null))?.events ??
          [],
      ]),
    ),
  );
  // Each environment's releases (image + config); none from controllers before releases.
  const releases = Object.fromEntries(
    await Promise.all(
      rolls.environments.map(async (e) => [
        e.env,
        (await apiOr(`/api/apps/${enc(name)}/releases?env=${enc(e.env)}&limit=20`, null))
          ?.releases ?? [],
      ]),
    ),
  );
  return {
    ...detail,
    environments: rolls.environments,
    rollouts: rolls.rollouts,
    entries,
    timelines,
    releases,
  };
}

/** Where to go after an action that started a rollout (or a build that leads to one). */
function follow(res, refresh) {
  if (res?.rolloutId) go(`#/rollouts/${enc(res.rolloutId)}`);
  else if (res?.buildId) go(`#/builds/${enc(res.buildId)}`);
  else void refresh();
}

function envCard(data, env, refresh) {
  const app = data.app.name;
  const spec = data.app.environments?.[env.env] ?? {};
  const current = env.current;
  const rev = data.revisions.find((r) => r.sha === current?.sha);
  const health = healthFromStatus(env.status) ?? healthOf(env, data.rollouts);
  const active = data.rollouts.find((r) => r.env === env.env && !r.outcome);

  const lockButton = env.lock
    ? confirmButton(
        `Unlock ${env.env}`,
        {},
        {
          title: `Unlock ${env.env}`,
          body: `Lift the deploy freeze on ${env.env} of ${app}: pushes deploy again.`,
          confirmLabel: `Unlock ${env.env}`,
          onConfirm: () => postAction('unlock', `/api/apps/${enc(app)}/unlock`, { env: env.env }),
        },
        refresh,
      )
    : confirmButton(
        `Lock ${env.env}`,
        {},
        {
          title: `Lock ${env.env}`,
          body: `Freeze deploys to ${env.env} of ${app}: new commits wait until it is unlocked. Rollbacks still work.`,
          fields: [
            h(
              'div',
              { class: 'field' },
              h('label', { for: 'lock-reason' }, 'Reason (shown to everyone)'),
              h('input', { id: 'lock-reason', name: 'reason', required: true, maxlength: 200 }),
            ),
          ],
          confirmLabel: `Lock ${env.env}`,
          onConfirm: ({ reason }) =>
            postAction('lock', `/api/apps/${enc(app)}/lock`, { env: env.env, reason }),
        },
        refresh,
      );

  const unpinButton = env.pin
    ? confirmButton(
        `Unpin ${env.env}`,
        {},
        {
          title: `Unpin ${env.env}`,
          body: `Let automation manage ${env.env} again: if the head of ${spec.branch ?? 'its branch'} differs from ${shortSha(env.pin.sha)}, it is deployed now.`,
          confirmLabel: `Unpin ${env.env}`,
          onConfirm: () => postAction('unpin', `/api/apps/${enc(app)}/unpin`, { env: env.env }),
        },
        (r) => follow(r, refresh),
      )
    : null;

  return h(
    'section',
    { class: 'card env', 'aria-labelledby': `env-${env.env}`, 'data-env': env.env },
    h(
      'h2',
      { id: `env-${env.env}` },
      env.env,
      ' ',
      h('span', { class: 'muted small' }, `branch ${spec.branch ?? '?'}`),
      ' ',
      statusBadges(env.status),
    ),
    statusDetail(env.status),
    h(
      'dl',
      {},
      h('dt', {}, 'Running'),
      h(
        'dd',
        { 'data-running': current?.sha ?? '' },
        current
          ? commitLine(rev ?? { sha: current.sha })
          : h('span', { class: 'muted' }, 'nothing yet'),
      ),
      h('dt', {}, 'Health'),
      h(
        'dd',
        {},
        health.known
          ? badge(
              health.word ?? (health.healthy === health.total ? 'healthy' : 'unhealthy'),
              `${health.healthy}/${health.total}`,
            )
          : '—',
      ),
      h('dt', {}, 'Image'),
      h('dd', {}, current ? h('code', { class: 'wrap' }, current.image) : '—'),
      h('dt', {}, 'URL'),
      h(
        'dd',
        {},
        env.route?.url
          ? h('a', { href: env.route.url, rel: 'noreferrer', target: '_blank' }, env.route.url)
          : '—',
      ),
    ),
    active
      ? notice(
          'info',
          'A rollout is in progress: ',
          h('a', { href: `#/rollouts/${enc(active.id)}` }, `watch ${shortSha(active.to.sha)} live`),
        )
      : null,
    env.pin
      ? h(
          'div',
          { class: 'standing pinned', 'data-pinned': env.pin.sha },
          badge('pinned', `to ${shortSha(env.pin.sha)}`),
          h(
            'p',
            {},
            `Pinned by ${env.pin.by} ${fmtTime(env.pin.at)}: ${env.pin.reason}. `,
            `${env.env} stays on ${shortSha(env.pin.sha)} until a newer commit is pushed or someone unpins it.`,
          ),
          env.pin.excluded?.length
            ? h(
                'p',
                { class: 'small' },
                `Held out of ${env.env}: ${env.pin.excluded.map(shortSha).join(', ')}`,
              )
            : null,
        )
      : null,
    env.lock
      ? h(
          'div',
          { class: 'standing locked' },
          badge('locked', `by ${env.lock.by}`),
          h(
            'p',
            {},
            `Deploys are frozen: ${env.lock.reason}${env.lock.until ? ` (until ${fmtTime(env.lock.until)})` : ''}.`,
          ),
        )
      : null,
    orphanedNotice(app, env.env, env.status, refresh),
    instancesTable(env.env, env.status),
    processesPanel(app, env.env, env.status, current, (r) => follow(r, refresh)),
    h(
      'div',
      { class: 'actions' },
      h(
        'a',
        {
          class: 'button',
          href: `#/apps/${enc(app)}/config/${enc(env.env)}`,
          'data-action': 'config',
        },
        'Config and secrets',
      ),
      unpinButton,
      lockButton,
    ),
    timelineList(env.env, data.timelines?.[env.env]),
  );
}

function actionsFor(data, e, targets, refresh) {
  const app = data.app.name;
  const env = data.environments.find((x) => x.env === e.env);
  const followed = (r) => follow(r, refresh);
  const out = [];
  if (targets.has(e.id)) {
    out.push(
      h(
        'button',
        {
          type: 'button',
          class: 'primary',
          'data-action': 'rollback',
          'aria-label': `Roll back to this: ${shortSha(e.to.sha)} (${e.env})`,
          onclick: () => rollbackDialog({ data, env, entry: e }).then((r) => r && followed(r)),
        },
        'Roll back to this',
      ),
    );
  }
  if (['failed', 'aborted', 'superseded'].includes(e.outcome)) {
    out.push(
      confirmButton(
        'Retry',
        { 'data-action': 'retry', 'aria-label': `Retry the rollout of ${shortSha(e.to.sha)}` },
        {
          title: 'Retry this rollout',
          body: `Roll ${e.env} of ${app} out to ${shortSha(e.to.sha)} again, with the image already built (no rebuild) and the same health checks.`,
          confirmLabel: 'Retry',
          onConfirm: () => postAction('retry', `/api/rollouts/${enc(e.id)}/retry`),
        },
        followed,
      ),
    );
  }
  if (!e.running && e.outcome === 'succeeded' && env?.current?.sha !== e.to.sha) {
    out.push(
      confirmButton(
        'Redeploy',
        { 'data-action': 'redeploy', 'aria-label': `Redeploy ${shortSha(e.to.sha)} to ${e.env}` },
        {
          title: 'Redeploy this revision',
          body: `Deploy ${shortSha(e.to.sha)} to ${e.env} of ${app} (no rebuild: its recorded image is rolled out with the usual health checks).`,
          confirmLabel: `Redeploy ${shortSha(e.to.sha)}`,
          onConfirm: () =>
            postAction('redeploy', `/api/apps/${enc(app)}/deploy`, { env: e.env, ref: e.to.sha }),
        },
        followed,
      ),
    );
  }
  return out;
}

function historyTable(data, refresh) {
  const buildOf = new Map(data.revisions.map((r) => [r.sha, r.buildId]));
  const targets = new Set();
  for (const env of data.environments) {
    const own = data.entries.filter((e) => e.env === env.env);
    for (const id of rollbackTargets(own, env.current)) targets.add(id);
  }
  if (data.entries.length === 0) return notice('info', 'No rollouts yet.');
  return grid(
    { class: 'grid history', 'aria-label': 'Rollout history' },
    ['When', 'Env', 'Revision', 'Trigger', 'Duration', 'Outcome', 'Actions'],
    data.entries.map((e) => {
      const build = buildOf.get(e.to.sha);
      return h(
        'tr',
        {
          'data-rollout': e.id,
          'data-sha': e.to.sha,
          'data-kind': rolloutKind(e),
          'data-outcome': e.outcome ?? 'active',
          class: e.running ? 'running' : null,
        },
        h('td', { class: 'when' }, ago(e.createdAt)),
        h('td', {}, e.env),
        h(
          'td',
          {},
          commitLine(e.commit ?? { sha: e.to.sha }),
          rolloutKind(e) !== 'deploy' ? [' ', badge(rolloutKind(e))] : null,
          build
            ? [' ', h('a', { href: `#/builds/${enc(build)}`, class: 'small' }, 'build log')]
            : null,
        ),
        h('td', {}, triggerText(e.trigger)),
        h('td', {}, duration(rolloutDuration(e))),
        h(
          'td',
          {},
          h(
            'a',
            { href: `#/rollouts/${enc(e.id)}`, 'aria-label': `Rollout ${e.id}: ${phaseWord(e)}` },
            badge(phaseWord(e)),
          ),
          e.running ? [' ', badge('running')] : null,
          e.reason && e.outcome !== 'succeeded'
            ? h('div', { class: 'small muted reason' }, e.reason)
            : null,
        ),
        h('td', { class: 'actions' }, actionsFor(data, e, targets, refresh)),
      );
    }),
  );
}

/**
 * An environment's releases, newest first, the serving one marked. An earlier release that ran
 * here successfully can be rolled back to: its image and its config return, through the same
 * confirmation as a revision's rollback.
 */
function releasesTable(data, env, refresh) {
  const list = data.releases?.[env.env] ?? [];
  if (list.length === 0) return null;
  const ran = (version) =>
    data.entries.find(
      (e) => e.env === env.env && e.outcome === 'succeeded' && e.to.release === version,
    );
  return h(
    'section',
    { class: 'releases', 'data-env': env.env },
    h('h3', {}, `${env.env}`),
    grid(
      { class: 'grid releases', 'aria-label': `Releases of ${env.env}` },
      ['Release', 'Change', 'By', 'When', 'Actions'],
      list.map((r) => {
        const entry = r.current ? undefined : ran(r.version);
        return h(
          'tr',
          { 'data-release': r.version, class: r.current ? 'running' : null },
          h('td', {}, `v${r.version}`, r.current ? [' ', badge('running', 'now')] : null),
          h('td', {}, r.line.replace(/^v\d+: /, '').replace(` by ${r.by}`, '')),
          h('td', {}, r.by),
          h('td', { class: 'when' }, ago(r.createdAt)),
          h(
            'td',
            { class: 'actions' },
            entry
              ? h(
                  'button',
                  {
                    type: 'button',
                    'data-action': 'rollback-release',
                    'aria-label': `Roll back to this: v${r.version} (${env.env})`,
                    onclick: () =>
                      rollbackDialog({ data, env, entry, release: r.version }).then(
                        (res) => res && follow(res, refresh),
                      ),
                  },
                  'Roll back to this',
                )
              : null,
          ),
        );
      }),
    ),
  );
}

function render(root, data, refresh) {
  const a = data.app;
  replace(
    root,
    crumbs(a.name),
    h('h1', {}, a.name),
    h(
      'p',
      { class: 'muted' },
      `repo ${a.repo}${a.path && a.path !== '.' ? `, path ${a.path}` : ''}`,
    ),
    a.specError
      ? notice('error', `Spec error at ${shortSha(a.specError.sha)}: ${a.specError.message}`)
      : null,
    h(
      'div',
      { class: 'envs' },
      data.environments.map((env) => envCard(data, env, refresh)),
    ),
    h('h2', {}, 'History'),
    historyTable(data, refresh),
    data.environments.some((e) => data.releases?.[e.env]?.length)
      ? [h('h2', {}, 'Releases'), data.environments.map((e) => releasesTable(data, e, refresh))]
      : null,
    h('h2', {}, 'Builds'),
    h(
      'ul',
      { class: 'builds' },
      data.builds
        .slice(0, 10)
        .map((b) =>
          h(
            'li',
            {},
            badge(b.status),
            ' ',
            h('a', { href: `#/builds/${enc(b.id)}` }, `${shortSha(b.sha)} build log`),
            ' ',
            ago(b.finishedAt ?? b.createdAt),
            b.failure
              ? h('span', { class: 'small muted' }, ` — ${b.failure.message.split('\n')[0]}`)
              : b.status === 'skipped' && b.note
                ? h('span', { class: 'small muted' }, ` — ${b.note}`)
                : null,
          ),
        ),
    ),
  );
}

export async function appPage(root, name) {
  document.title = `${name} · Gantry`;
  let stopped = false;
  // Kept across re-renders: a refresh must not cut the live tail or lose its lines.
  const tail = logTail(name);
  const refresh = async () => {
    if (stopped) return;
    try {
      render(root, await load(name), refresh);
      root.append(tail.el);
    } catch {
      // Keep what is shown; the next event or tick tries again.
    }
  };
  render(root, await load(name), refresh);
  root.append(tail.el);
  const burst = oncePerBurst(refresh, 400);
  const stop = live({
    filter: { app: name },
    onEvent: (e) => (e.app === name ? burst.soon() : undefined),
    poll: refresh,
    pollMs: 3000,
  });
  return () => {
    stopped = true;
    stop();
    tail.stop();
    burst.cancel();
  };
}
