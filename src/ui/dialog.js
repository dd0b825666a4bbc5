// A modal confirmation: says what will happen, and does it only when the user confirms. Built on
// <dialog> (focus stays inside, Escape cancels); an action's error is shown inside the dialog.

import { h } from './dom.js';

let counter = 0;

/**
 * Opens a dialog. `body` is a sentence (shown as a paragraph), a node or a list of nodes describing
 * what will happen; `onConfirm` runs on confirm and may throw: its message is shown and nothing
 * else happens. `fields` are form controls whose values `onConfirm` receives as an object of
 * name → value.
 */
export function confirmDialog({
  title,
  body,
  confirmLabel,
  danger = false,
  fields = [],
  onConfirm,
}) {
  const id = `dlg-${++counter}`;
  const content = typeof body === 'string' ? h('p', {}, body) : body;
  const error = h('p', { class: 'notice error', role: 'alert', hidden: true });
  const confirm = h(
    'button',
    { type: 'submit', class: danger ? 'danger' : 'primary', 'data-confirm': '' },
    confirmLabel,
  );
  const cancel = h('button', { type: 'button', value: 'cancel' }, 'Cancel');
  const form = h(
    'form',
    { method: 'dialog' },
    h('h2', { id: `${id}-title` }, title),
    h('div', { id: `${id}-desc`, class: 'dialog-body' }, content),
    fields.length ? h('div', { class: 'fields' }, fields) : null,
    error,
    h('div', { class: 'actions' }, cancel, confirm),
  );
  const dialog = h(
    'dialog',
    {
      role: 'dialog',
      'aria-modal': 'true',
      'aria-labelledby': `${id}-title`,
      'aria-describedby': `${id}-desc`,
    },
    form,
  );
  document.body.append(dialog);

  return new Promise((resolve) => {
    const close = (result) => {
      dialog.close();
      dialog.remove();
      resolve(result);
    };
    cancel.addEventListener('click', () => close(undefined));
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      close(undefined);
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const values = Object.fromEntries(new FormData(form).entries());
      confirm.disabled = true;
      confirm.textContent = 'Working…';
      try {
        const result = await onConfirm(values);
        close(result);
      } catch (err) {
        error.textContent = err?.message ?? String(err);
        error.hidden = false;
        // Nothing happened; the only way on is to close.
        confirm.remove();
        cancel.textContent = 'Close';
        cancel.focus();
      }
    });
    dialog.showModal();
    (fields[0]?.querySelector?.('input') ?? confirm).focus();
  });
}

/**
 * A button labelled `label` (with `attrs`) that opens a confirmDialog of `dialog`; once the user
 * confirmed and the action succeeded, `then` gets its result.
 */
export function confirmButton(label, attrs, dialog, then = () => {}) {
  return h(
    'button',
    { type: 'button', ...attrs, onclick: () => confirmDialog(dialog).then((r) => r && then(r)) },
    label,
  );
}
