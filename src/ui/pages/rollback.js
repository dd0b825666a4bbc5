// The one-click rollback's confirmation: which environment moves from what to what, the commits
// (and pull requests) it takes out of production, and that nothing is rebuilt.

import { actionError, api, ApiError, enc, postAction } from '../api.js';
import { changesBetween } from '../changes.js';
import { commitList } from '../commits.js';
import { confirmDialog } from '../dialog.js';
import { h, shortSha } from '../dom.js';

/** What the controller says the rollback does; computed from the revisions when it cannot say. */
async function preview(data, env, to, ref) {
  const app = data.app.name;
  try {
    return await api(`/api/apps/${enc(app)}/rollback-preview?env=${enc(env.env)}&to=${enc(ref)}`);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404 || e.message.includes('not known')) throw e;
    // No preview endpoint on this controller: the same answer from the revisions we have.
    const from = env.current;
    return {
      env: env.env,
      from: { sha: from?.sha, image: from?.image },
      to: { sha: to.sha, image: to.image },
      removed: changesBetween(data.revisions, from?.sha, to.sha).commits,
    };
  }
}

/** Digest of a pinned image reference (`repo@sha256:…`), or the reference as given. */
function digestOf(image) {
  if (!image) return null;
  const i = String(image).indexOf('@');
  return i >= 0 ? String(image).slice(i + 1) : String(image);
}

/**
 * Opens the confirmation; resolves with the API's answer ({rolloutId, …}) or undefined. With
 * `release` (a number) it restores that release, its image and its config, as `vN`.
 */
export async function rollbackDialog({ data, env, entry, release }) {
  const app = data.app.name;
  const ref = release ? `v${release}` : entry.to.sha;
  let p;
  try {
    p = await preview(data, env, entry.to, ref);
  } catch (e) {
    p = { error: actionError(e, 'preview this rollback') };
  }
  const from = shortSha(p.from?.sha ?? env.current?.sha);
  const to = shortSha(entry.to.sha);
  const image = digestOf(p.to?.image ?? entry.to.image);
  const body = [
    h(
      'p',
      { class: 'lead' },
      release
        ? `Roll ${env.env} of ${app} back to release v${release}: ${to} with the config it ran with.`
        : `Roll ${env.env} of ${app} back from ${from} to ${to}.`,
    ),
    p.error
      ? h('p', { class: 'notice error' }, p.error)
      : [
          h('p', {}, 'This takes out of production:'),
          commitList(p.removed, 'no commits (same revision)'),
        ],
    h(
      'p',
      {},
      'No rebuild: the recorded image ',
      h('code', { class: 'wrap' }, image ?? '(unknown)'),
      ' will be rolled out with the same health checks. ',
      `${env.env} then stays pinned to ${to} until a newer commit is pushed or someone unpins it.`,
    ),
  ];
  return confirmDialog({
    title: `Roll back ${env.env}`,
    body,
    danger: true,
    confirmLabel: `Roll back ${env.env} to ${release ? `v${release}` : to}`,
    onConfirm: () =>
      postAction('roll back', `/api/apps/${enc(app)}/rollback`, { env: env.env, to: ref }),
  });
}
