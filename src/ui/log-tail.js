// The app page's live log tail: `GET /api/apps/:app/logs?follow=1` read with fetch (EventSource
// cannot send the Authorization header), each line prefixed by its instance's slot. Instances a
// rollout starts join the tail and stopped ones leave it. Started by a button, not on every page
// view: a tail holds a stream to the engine per instance. Lines are redacted by the controller.

import { authHeaders, enc } from './api.js';
import { h } from './dom.js';
import { readFrames } from './sse.js';

/** Lines kept on the page; older ones scroll away. */
const MAX_LINES = 500;

/** One frame as the text shown, or null. Pure. */
export function tailLine(event, data) {
  if (event === 'line') return `${data.env}/${data.slot} | ${data.line}`;
  if (event === 'joined')
    return `--- ${data.env}/${data.slot} joined (${String(data.revision).slice(0, 7)})`;
  if (event === 'left') return `--- ${data.env}/${data.slot} left`;
  if (event === 'error') return `--- the stream ended on an error: ${data.message}`;
  return null;
}

/** The section (kept across the page's re-renders) and a stop function. */
export function logTail(app) {
  let ctrl = null;
  const pre = h('pre', { class: 'log', tabindex: '0', id: 'log-tail', 'aria-label': 'live logs' });
  const state = h('span', { class: 'small muted', id: 'log-tail-state' }, '');
  const add = (text) => {
    const stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.append(document.createTextNode(`${text}\n`));
    while (pre.childNodes.length > MAX_LINES) pre.firstChild.remove();
    if (stick) pre.scrollTop = pre.scrollHeight;
  };
  const stop = () => {
    ctrl?.abort();
    ctrl = null;
    button.textContent = 'Start live tail';
    state.textContent = 'stopped';
  };
  const start = async () => {
    ctrl = new AbortController();
    button.textContent = 'Stop';
    state.textContent = 'connecting…';
    try {
      const res = await fetch(`/api/apps/${enc(app)}/logs?follow=1&lines=50`, {
        headers: authHeaders({ accept: 'text/event-stream' }),
        signal: ctrl.signal,
        credentials: 'omit',
      });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      state.textContent = 'live';
      await readFrames(res.body, (f) => {
        try {
          const text = tailLine(f.event, JSON.parse(f.data));
          if (text !== null) add(text);
        } catch {
          // Not one of ours; skip it.
        }
      });
      stop();
    } catch (e) {
      if (e?.name === 'AbortError') return;
      ctrl = null;
      button.textContent = 'Start live tail';
      state.textContent = `could not follow the logs: ${e.message}`;
    }
  };
  const button = h(
    'button',
    { type: 'button', id: 'log-tail-toggle', onclick: () => (ctrl ? stop() : void start()) },
    'Start live tail',
  );
  const el = h(
    'section',
    { class: 'log-tail' },
    h('h2', {}, 'Live logs'),
    h('p', {}, button, ' ', state),
    pre,
  );
  return { el, stop: () => ctrl?.abort() };
}
