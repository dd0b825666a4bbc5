// What every page is laid out with: the breadcrumb trail above it and its data tables.

import { enc } from './api.js';
import { h } from './dom.js';

/**
 * The breadcrumb trail: `Apps / <app>`, and with `here`, `Apps / <app> / <here>` where the app
 * is a link to its page.
 */
export function crumbs(app, here) {
  return h(
    'p',
    { class: 'crumbs' },
    h('a', { href: '#/' }, 'Apps'),
    ' / ',
    here === undefined ? app : [h('a', { href: `#/apps/${enc(app)}` }, app), ` / ${here}`],
  );
}

/** A data table: `attrs` of the `<table>` (its class and aria-label), column headings, body rows. */
export function grid(attrs, headings, rows) {
  return h(
    'table',
    attrs,
    h('thead', {}, h('tr', {}, ...headings.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows),
  );
}
