// The dashboard's shell: hash routes to pages, the login gate, and cleanup of a page's live updates
// when the user leaves it. Routes: #/ (apps), #/apps/<app>, #/apps/<app>/config/<env>,
// #/rollouts/<id>, #/builds/<id>, #/login.

import { clearToken, getToken, handleUnauthorized } from './api.js';
import { h, notice, replace } from './dom.js';
import { go, onRerender } from './nav.js';
import { appPage } from './pages/app.js';
import { appsPage } from './pages/apps.js';
import { buildPage } from './pages/build.js';
import { configPage } from './pages/config.js';
import { loginPage } from './pages/login.js';
import { rolloutPage } from './pages/rollout.js';

const ROUTES = [
  [/^#?\/?$/, () => appsPage],
  [/^#\/apps\/([a-z][a-z0-9-]*)$/, () => appPage],
  [/^#\/apps\/([a-z][a-z0-9-]*)\/config\/([a-z][a-z0-9-]*)$/, () => configPage],
  [/^#\/rollouts\/([A-Za-z0-9-]+)$/, () => rolloutPage],
  [/^#\/builds\/([A-Za-z0-9-]+)$/, () => buildPage],
];

const main = () => document.getElementById('main');
let cleanup = null;
let navigations = 0;
/** The route to return to after logging in. */
let wanted = '#/';

function toLogin() {
  if (location.hash !== '#/login') wanted = location.hash || '#/';
  go('#/login');
}

async function render() {
  cleanup?.();
  cleanup = null;
  navigations += 1;
  // Each page renders into a container of its own: a page still loading when the user moved on
  // writes into a detached element, never over the page that replaced it.
  const root = h('div', { class: 'page' });
  replace(main(), root);
  const signout = document.getElementById('signout');
  signout.hidden = !getToken();
  const hash = location.hash || '#/';

  if (hash === '#/login' || !getToken()) {
    if (hash !== '#/login') return toLogin();
    document.title = 'Sign in · Gantry';
    loginPage(root, () => go(wanted === '#/login' ? '#/' : wanted));
    return;
  }
  for (const [re, page] of ROUTES) {
    const m = re.exec(hash);
    if (!m) continue;
    replace(root, h('p', { class: 'muted' }, 'Loading…'));
    const nav = navigations;
    try {
      const stop = (await page()(root, ...m.slice(1).map(decodeURIComponent))) ?? null;
      // The user moved on while this page loaded: its live updates must not outlive it.
      if (nav !== navigations) return stop?.();
      cleanup = stop;
    } catch (e) {
      if (nav !== navigations) return;
      if (e?.status === 401) return;
      replace(root, notice('error', `Could not load this page: ${e?.message ?? e}`));
    }
    main().focus({ preventScroll: true });
    return;
  }
  replace(root, notice('error', 'No such page. '), h('a', { href: '#/' }, 'Back to the apps'));
}

onRerender(() => void render());
handleUnauthorized(toLogin);
document.getElementById('signout').addEventListener('click', () => {
  clearToken();
  wanted = '#/';
  go('#/login');
});
window.addEventListener('hashchange', () => void render());
void render();
