// One app environment's config: its vars with their values, its secrets as "set, changed by X at
// T" (the API never sends a secret's value, so none can reach this page), a form to set a var or
// a secret and a button to unset each (deployer). Every change is a new release rolling out; the
// page says which and links to its rollout.

import { actionError, api, enc } from '../api.js';
import { confirmButton } from '../dialog.js';
import { ago, badge, fmtTime, h, notice, replace } from '../dom.js';
import { crumbs, grid } from '../layout.js';

const KEY = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** PATCHes a change; resolves with the API's answer or throws the message to show. */
async function change(app, body, action) {
  try {
    return await api(`/api/apps/${enc(app)}/config`, { method: 'PATCH', body });
  } catch (e) {
    throw new Error(actionError(e, action), { cause: e });
  }
}

/** What a change made: the new release rolling out (with a link), or that nothing runs yet. */
function changedNotice(res) {
  if (!res.release) {
    return notice('info', 'Saved. Nothing runs in this environment yet: the next deploy takes it.');
  }
  return h(
    'p',
    {
      class: 'notice info',
      role: 'status',
      'data-release': res.release.version,
      'data-rollout': res.rolloutId ?? '',
    },
    `Release v${res.release.version} is rolling out (${res.release.line}). `,
    res.rolloutId
      ? h('a', { href: `#/rollouts/${enc(res.rolloutId)}` }, `Watch rollout ${res.rolloutId}`)
      : null,
  );
}

function rows(data, app, env, done) {
  const keys = [
    ...Object.entries(data.vars).map(([k, v]) => ({ k, kind: 'var', ...v })),
    ...Object.entries(data.secrets).map(([k, s]) => ({ k, kind: 'secret', ...s })),
  ].sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  return keys.map((e) =>
    h(
      'tr',
      { 'data-key': e.k, 'data-kind': e.kind },
      h('th', { scope: 'row' }, h('code', {}, e.k)),
      h(
        'td',
        {},
        e.kind === 'var'
          ? h('code', { class: 'wrap' }, e.value)
          : [badge('secret'), ' set (value hidden)'],
      ),
      h(
        'td',
        { class: 'small' },
        `changed by ${e.by} `,
        ago(e.at),
        h('span', { class: 'muted' }, ` (${fmtTime(e.at)})`),
      ),
      h(
        'td',
        { class: 'actions' },
        confirmButton(
          'Unset',
          { 'data-action': 'unset', 'aria-label': `Unset ${e.k} in ${env}` },
          {
            title: `Unset ${e.k}`,
            body: `Remove ${e.k} from ${env} of ${app}. This makes a new release, rolled out with the usual health checks.`,
            confirmLabel: `Unset ${e.k}`,
            danger: true,
            onConfirm: () => change(app, { env, unset: [e.k] }, `unset ${e.k}`),
          },
          done,
        ),
      ),
    ),
  );
}

function setForm(app, env, done) {
  const error = h('p', { class: 'notice error', role: 'alert', hidden: true });
  const key = h('input', {
    id: 'cfg-key',
    name: 'key',
    required: true,
    maxlength: 128,
    autocomplete: 'off',
    spellcheck: 'false',
    pattern: KEY.source,
  });
  const value = h('input', {
    id: 'cfg-value',
    name: 'value',
    maxlength: 65536,
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const secret = h('input', { id: 'cfg-secret', name: 'secret', type: 'checkbox' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Set');
  const form = h(
    'form',
    { class: 'config-set', 'aria-label': `Set a config var or secret in ${env}` },
    h('div', { class: 'field' }, h('label', { for: 'cfg-key' }, 'Key'), key),
    h('div', { class: 'field' }, h('label', { for: 'cfg-value' }, 'Value'), value),
    h(
      'div',
      { class: 'field check' },
      secret,
      ' ',
      h('label', { for: 'cfg-secret' }, 'Secret (encrypted at rest, never shown again)'),
    ),
    error,
    h('div', { class: 'actions' }, submit),
  );
  // A secret's value is typed like a password: not shown, not kept by the browser.
  secret.addEventListener('change', () =>
    value.setAttribute('type', secret.checked ? 'password' : 'text'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    const k = key.value.trim();
    if (!KEY.test(k)) {
      error.textContent = `${k || 'The key'} is not an environment variable name (letters, digits, _; not starting with a digit).`;
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    try {
      const body = { env, [secret.checked ? 'secrets' : 'set']: { [k]: value.value } };
      const res = await change(app, body, `set ${k}`);
      // The value leaves the page as soon as it is sent.
      value.value = '';
      done(res);
    } catch (err) {
      error.textContent = err?.message ?? String(err);
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function render(root, data, app, env, shown, refresh) {
  const done = async (res) => {
    await refresh(changedNotice(res));
  };
  const keys = rows(data, app, env, done);
  replace(
    root,
    crumbs(app, `config of ${env}`),
    h('h1', {}, `${app} · ${env} · config`),
    h(
      'p',
      { class: 'muted' },
      data.release ? `Release v${data.release} serves now. ` : 'Nothing deployed yet. ',
      'Changing the config makes a new release of the running image, rolled out with the same health checks; ',
      h('a', { href: `#/apps/${enc(app)}` }, 'releases and history'),
      ' are on the app page.',
    ),
    h('div', { id: 'config-result' }, shown),
    keys.length
      ? grid(
          { class: 'grid config', 'aria-label': `Config of ${env}` },
          ['Key', 'Value', 'Changed', 'Actions'],
          keys,
        )
      : notice('info', 'No config vars or secrets yet.'),
    h('h2', {}, 'Set a var or a secret'),
    setForm(app, env, done),
  );
}

export async function configPage(root, app, env) {
  document.title = `${app} ${env} config · Gantry`;
  const load = () => api(`/api/apps/${enc(app)}/config?env=${enc(env)}`);
  const refresh = async (shown) => render(root, await load(), app, env, shown, refresh);
  await refresh(null);
  return () => {};
}
