// Apps overview: per app and environment, the running revision, its health, the reconciler's
// health and sync (and orphaned), the last rollout, and whether the environment is locked or
// pinned. Refreshes when events arrive.

import { api, enc } from '../api.js';
import { healthFromStatus, healthOf } from '../changes.js';
import { ago, badge, firstLine, h, notice, phaseWord, replace, shortSha } from '../dom.js';
import { statusBadges } from '../env-status.js';
import { grid } from '../layout.js';
import { live, oncePerBurst } from '../sse.js';

async function load() {
  const { apps } = await api('/api/apps');
  return Promise.all(
    apps.map(async (a) => {
      const res = await api(`/api/apps/${enc(a.name)}/rollouts`).catch(() => ({
        environments: [],
        rollouts: [],
      }));
      return { app: a, ...res };
    }),
  );
}

function envRow(a, env, rollouts) {
  const last = rollouts.find((r) => r.env === env.env);
  const health = healthFromStatus(env.status) ?? healthOf(env, rollouts);
  const current = env.current;
  const rev = a.latestRevision?.sha === current?.sha ? a.latestRevision : null;
  return h(
    'tr',
    { 'data-app': a.name, 'data-env': env.env },
    h('th', { scope: 'row' }, h('a', { href: `#/apps/${enc(a.name)}` }, a.name)),
    h('td', {}, env.env),
    h(
      'td',
      {},
      current
        ? [h('code', {}, shortSha(current.sha)), rev ? ` ${firstLine(rev.commit?.message)}` : '']
        : h('span', { class: 'muted' }, 'nothing yet'),
    ),
    h(
      'td',
      {},
      health.known
        ? badge(
            health.word ?? (health.healthy === health.total ? 'healthy' : 'unhealthy'),
            `${health.healthy}/${health.total}`,
          )
        : h('span', { class: 'muted' }, '—'),
    ),
    h('td', {}, statusBadges(env.status) ?? h('span', { class: 'muted' }, '—')),
    h(
      'td',
      {},
      last
        ? [
            h('a', { href: `#/rollouts/${enc(last.id)}` }, badge(phaseWord(last))),
            ' ',
            ago(last.finishedAt ?? last.createdAt),
          ]
        : h('span', { class: 'muted' }, 'none'),
    ),
    h(
      'td',
      {},
      env.lock ? badge('locked', `by ${env.lock.by}`) : null,
      env.pin ? badge('pinned', `to ${shortSha(env.pin.sha)}`) : null,
      env.route?.url
        ? h('a', { href: env.route.url, rel: 'noreferrer', target: '_blank' }, env.route.url)
        : null,
    ),
  );
}

function render(root, data) {
  const rows = data.flatMap(({ app, environments, rollouts }) =>
    environments.length
      ? environments.map((env) => envRow(app, env, rollouts))
      : [
          h(
            'tr',
            { 'data-app': app.name },
            h('th', { scope: 'row' }, h('a', { href: `#/apps/${enc(app.name)}` }, app.name)),
            h(
              'td',
              { colspan: 6, class: 'muted' },
              app.specError ? `spec error: ${app.specError.message}` : 'no environment yet',
            ),
          ),
        ],
  );
  replace(
    root,
    h('h1', {}, 'Apps'),
    data.length === 0
      ? notice(
          'info',
          'No apps yet: push a repository with a gantry.yaml to one of the configured repos.',
        )
      : grid(
          { class: 'grid', 'aria-label': 'Apps and environments' },
          [
            'App',
            'Environment',
            'Running revision',
            'Health',
            'Status',
            'Last rollout',
            'Standing',
          ],
          rows,
        ),
  );
}

export async function appsPage(root) {
  document.title = 'Apps · Gantry';
  render(root, await load());
  const refresh = async () => {
    try {
      render(root, await load());
    } catch {
      // Keep what is shown; the next event or tick tries again.
    }
  };
  // Events come in bursts during a rollout: refresh once per burst.
  const burst = oncePerBurst(refresh, 400);
  const stop = live({ onEvent: burst.soon, poll: refresh, pollMs: 3000 });
  return () => {
    stop();
    burst.cancel();
  };
}
