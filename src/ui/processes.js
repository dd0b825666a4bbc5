// An environment's process types with their counts (ready/desired), a form to scale them and a
// rolling restart. Both are deployer actions: a scale is a new release of what runs (no rebuild,
// instances added or removed), a restart replaces every instance through the health gates. A
// viewer's token is refused by the API, and the page says so.

import { postAction, enc } from './api.js';
import { confirmButton } from './dialog.js';
import { badge, h } from './dom.js';
import { formationChange, processCounts } from './formation.js';
import { grid } from './layout.js';

// The app page re-renders on every event and poll: what a person typed, the error they were shown
// and where the cursor was are kept here across renders, until a scale is sent.
const drafts = new Map();
const errors = new Map();
let focusedId = null;

function replicasInput(app, env, c) {
  const id = `scale-${env}-${c.name}`;
  const key = `${app}/${id}`;
  const input = h('input', {
    id,
    name: c.name,
    type: 'number',
    min: 0,
    step: 1,
    required: true,
    class: 'replicas',
    value: drafts.get(key) ?? c.desired ?? c.ready,
    'aria-label': `${c.name} instances in ${env}`,
    oninput: () => drafts.set(key, input.value),
    onfocus: () => (focusedId = id),
    onblur: () => (focusedId = focusedId === id ? null : focusedId),
  });
  // Once the new page is in place, the cursor goes back where it was.
  if (focusedId === id) queueMicrotask(() => input.isConnected && input.focus());
  return input;
}

function scaleForm(app, env, counts, followed) {
  const errorKey = `${app}/${env}`;
  const error = h(
    'p',
    { class: 'notice error', role: 'alert', hidden: !errors.has(errorKey) },
    errors.get(errorKey) ?? '',
  );
  const submit = h('button', { type: 'submit', class: 'primary', 'data-action': 'scale' }, 'Scale');
  const form = h(
    'form',
    { class: 'scale', 'aria-label': `Scale the processes of ${env}` },
    grid(
      { class: 'grid processes', 'aria-label': `Processes of ${env}` },
      ['Process', 'Ready', 'Scale to'],
      counts.map((c) =>
        h(
          'tr',
          {
            'data-process': c.name,
            'data-desired': c.desired ?? '',
            'data-ready': c.ready,
          },
          h('th', { scope: 'row' }, h('code', {}, c.name)),
          h(
            'td',
            {},
            badge(
              c.desired !== undefined && c.ready >= c.desired ? 'healthy' : 'progressing',
              `${c.ready}/${c.desired ?? '?'}`,
            ),
          ),
          h('td', {}, replicasInput(app, env, c)),
        ),
      ),
    ),
    error,
    h('div', { class: 'actions' }, submit),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    errors.delete(errorKey);
    const values = Object.fromEntries(new FormData(form).entries());
    submit.disabled = true;
    try {
      const processes = formationChange(counts, values);
      const res = await postAction('scale', `/api/apps/${enc(app)}/scale`, { env, processes });
      for (const c of counts) drafts.delete(`${app}/scale-${env}-${c.name}`);
      followed(res);
    } catch (err) {
      errors.set(errorKey, err?.message ?? String(err));
      error.textContent = errors.get(errorKey);
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function restartButton(app, env, counts, followed) {
  const select = h(
    'select',
    { id: `restart-${env}-process`, name: 'process' },
    h('option', { value: '' }, 'every process'),
    counts.map((c) => h('option', { value: c.name }, c.name)),
  );
  return confirmButton(
    `Restart ${env}`,
    { 'data-action': 'restart' },
    {
      title: `Restart ${env}`,
      body: `Replace every instance of ${env} of ${app} with a fresh one of the same release, one by one through the health checks: no rebuild, no config change, no downtime.`,
      fields: [
        h(
          'div',
          { class: 'field' },
          h('label', { for: `restart-${env}-process` }, 'Which processes'),
          select,
        ),
      ],
      confirmLabel: `Restart ${env}`,
      onConfirm: ({ process }) =>
        postAction('restart', `/api/apps/${enc(app)}/restart`, {
          env,
          ...(process ? { process } : {}),
        }),
    },
    followed,
  );
}

/**
 * The process panel of an environment that runs something and is still in the app's spec (an
 * orphaned one can only be pruned); `followed` gets the API's answer.
 */
export function processesPanel(app, env, status, running, followed) {
  if (!running || status?.orphaned) return null;
  const counts = processCounts(status);
  if (counts.length === 0) counts.push({ name: 'web', desired: undefined, ready: 0 });
  return h(
    'div',
    { class: 'processes', 'data-processes': env },
    h('h3', {}, 'Processes'),
    scaleForm(app, env, counts, followed),
    h('div', { class: 'actions' }, restartButton(app, env, counts, followed)),
  );
}
