// Navigation between hash routes, apart from the router so pages can navigate without importing it.

let rerender = () => {};

/** The router registers how to render the current route again. */
export function onRerender(fn) {
  rerender = fn;
}

/** Navigates to a hash route; going to the route already shown renders it again. */
export function go(hash) {
  if (location.hash === hash) rerender();
  else location.hash = hash;
}
