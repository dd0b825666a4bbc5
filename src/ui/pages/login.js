// Sign in with an API token (the same tokens the CLI uses). It is checked against the API before
// it is kept, and kept only for this tab (sessionStorage).

import { ApiError, clearToken, setToken } from '../api.js';
import { h, replace } from '../dom.js';

export function loginPage(root, done) {
  document.getElementById('signout').hidden = true;
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    required: true,
    spellcheck: 'false',
  });
  const error = h('p', { class: 'notice error', role: 'alert', hidden: true });
  const form = h(
    'form',
    { class: 'login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Sign in to Gantry'),
    h('label', { for: 'token' }, 'API token'),
    input,
    h(
      'p',
      { class: 'muted' },
      'A token from the controller config (viewer, deployer or admin). It is kept only in this tab and sent as a bearer token.',
    ),
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    setToken(input.value.trim());
    try {
      const res = await fetch('/api/apps', {
        headers: { authorization: `Bearer ${input.value.trim()}`, accept: 'application/json' },
        credentials: 'omit',
      });
      if (!res.ok) throw new ApiError(res.status, '', res.statusText);
      done();
    } catch (err) {
      clearToken();
      error.textContent =
        err instanceof ApiError && err.status === 401
          ? 'That token is not valid for this controller.'
          : `Could not sign in: ${err.message ?? err}`;
      error.hidden = false;
      input.focus();
    }
  });
  replace(root, form);
  input.focus();
}
