// Small DOM and formatting helpers. Everything is built with createElement and textContent, never
// innerHTML, so text from commits, logs and the API cannot become markup.

/**
 * Builds an element: `h('a', { href: '#/', class: 'x', onclick: fn }, 'text', child)`.
 * Attributes set to null, undefined or false are left out; `on*` functions become listeners.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** The first 12 characters of a commit, as the CLI and image tags show it. */
export function shortSha(sha) {
  return sha ? String(sha).slice(0, 12) : '—';
}

/** The first line of a commit message. */
export function firstLine(message) {
  return String(message ?? '').split('\n')[0];
}

/** `2026-11-23 15:04:03 UTC`: absolute, unambiguous, sortable. */
export function fmtTime(t) {
  if (t === null || t === undefined) return '—';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return '—';
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A `<time>` element showing how long ago, with the exact time as its title. */
export function ago(t) {
  if (!t) return h('span', { class: 'muted' }, '—');
  const d = new Date(t);
  const s = Math.max(0, Math.round((Date.now() - d.getTime()) / 1000));
  let text;
  if (s < 60) text = `${s}s ago`;
  else if (s < 3600) text = `${Math.floor(s / 60)} min ago`;
  else if (s < 86400) text = `${Math.floor(s / 3600)} h ago`;
  else text = `${Math.floor(s / 86400)} d ago`;
  return h('time', { datetime: d.toISOString(), title: fmtTime(d) }, text);
}

/** `1m 05s`, `12.3s`. */
export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m}m ${String(s).padStart(2, '0')}s`;
}

/** How long a rollout ran (or has been running). */
export function rolloutDuration(r) {
  if (typeof r.durationMs === 'number') return r.durationMs;
  const start = Date.parse(r.createdAt);
  const end = r.finishedAt ? Date.parse(r.finishedAt) : Date.now();
  return Number.isNaN(start) ? null : end - start;
}

// Status words → colour class, by their first word. The word itself is always shown: colour is
// never the only signal.
const TONES = [
  [/^(succeeded|healthy|running|reused|routed|synced)/, 'ok'],
  [/^(failed|unhealthy|exited|dead|degraded|missing)/, 'bad'],
  [
    /^(rolled back|rolling back|aborted|aborting|paused|locked|pinned|rollback|auto-rollback|out-of-sync|orphaned|drift|self-heal|pruned|stray|surplus)/,
    'warn',
  ],
  [/^(queued|pending|starting|progressing|baking|created)/, 'info'],
];

/** A coloured label that always carries its word. */
export function badge(word, extra) {
  const text = String(word ?? 'unknown');
  const tone = TONES.find(([re]) => re.test(text))?.[1] ?? 'muted';
  return h('span', { class: `badge ${tone}` }, extra ? `${text} ${extra}` : text);
}

/** The phase of a rollout in words: the API's derived phase, or its outcome. */
export function phaseWord(r) {
  return r.phase ?? r.outcome ?? 'pending';
}

/** Who or what started a rollout, in words. */
export function triggerText(t) {
  if (!t) return 'unknown';
  switch (t.kind) {
    case 'webhook':
      return `push${t.actor ? ` by ${t.actor}` : ''} (${t.provider})`;
    case 'poll':
      return 'push (seen by polling)';
    case 'manual':
      return `${t.via ?? 'manual'} by ${t.actor}`;
    default:
      return String(t.kind);
  }
}

/**
 * What a rollout did, in a word: its kind, except that a scale or a restart rolls the running
 * revision out as a deploy and is told apart by what asked for it.
 */
export function rolloutKind(r) {
  const via = r.trigger?.kind === 'manual' ? r.trigger.via : undefined;
  return r.kind === 'deploy' && (via === 'scale' || via === 'restart') ? via : r.kind;
}

/** A link to a pull request when its URL is known, else its number as text. */
export function prLink(pr) {
  if (!pr || pr.number === undefined) return null;
  // The number only: the title is usually the commit's first line, shown already.
  const attrs = { class: 'pr', title: pr.title ?? null };
  return pr.url
    ? h('a', { ...attrs, href: pr.url, rel: 'noreferrer', target: '_blank' }, `PR #${pr.number}`)
    : h('span', attrs, `PR #${pr.number}`);
}

/** A page-level message, in a live region so screen readers hear it. */
export function notice(kind, ...text) {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...text);
}
