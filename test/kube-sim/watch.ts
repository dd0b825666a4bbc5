/**
 * Watch streams: `?watch=true` answers 200 with newline-delimited JSON events, as the API server
 * does; selectors are applied to both sides of a change, so an object leaving a selector is
 * DELETED for that watcher and one entering it is ADDED.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiVersionOf, type ResourceDef } from './resources.js';
import {
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
} from './selectors.js';
import { StatusError } from './status.js';
import type { Change, Store } from './store.js';
import type { KObject } from './types.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchOptions {
  /** How often a watch that allows bookmarks gets one. */
  bookmarkIntervalMs: number;
}

/** The open watch connections, so faults can cut them all. */
export class WatchHub {
  private readonly open = new Set<ServerResponse>();

  constructor(
    private readonly store: Store,
    private readonly opts: WatchOptions,
  ) {}

  /** How many watch connections are open. */
  get count(): number {
    return this.open.size;
  }

  /** Ends every open watch connection abruptly (the socket is destroyed, no final chunk). */
  dropAll(): void {
    for (const res of [...this.open]) res.socket?.destroy();
    this.open.clear();
  }

  /** Ends every open watch connection cleanly, as the server's own timeout does. */
  endAll(): void {
    for (const res of [...this.open]) res.end();
    this.open.clear();
  }

  /** Serves one watch request on a collection. */
  serve(
    req: IncomingMessage,
    res: ServerResponse,
    def: ResourceDef,
    namespace: string | undefined,
    query: URLSearchParams,
  ): void {
    const labels = parseLabelSelector(query.get('labelSelector') ?? undefined);
    const fields = parseFieldSelector(query.get('fieldSelector') ?? undefined);
    const matches = (o: KObject | undefined, ns: string): boolean =>
      o !== undefined &&
      (namespace === undefined || ns === namespace) &&
      matchesLabels(labels, o.metadata.labels) &&
      matchesFields(fields, o);
    const rvParam = query.get('resourceVersion') ?? '';
    const bookmarks =
      query.get('allowWatchBookmarks') === 'true' || query.get('allowWatchBookmarks') === '1';
    const initialEvents = query.get('sendInitialEvents') === 'true';

    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
    });
    res.flushHeaders();
    const send = (type: WatchEventType, object: unknown): void => {
      res.write(`${JSON.stringify({ type, object })}\n`);
    };

    let backlog: Change[] = [];
    const initial: KObject[] = [];
    if (rvParam === '' || rvParam === '0' || initialEvents) {
      initial.push(
        ...this.store.list(def, namespace).filter((o) => matches(o, o.metadata.namespace ?? '')),
      );
    } else {
      const rv = Number(rvParam);
      try {
        if (!Number.isInteger(rv) || rv < 0)
          throw new StatusError(400, 'BadRequest', `invalid resource version "${rvParam}"`);
        backlog = this.store.changesSince(rv);
      } catch (e) {
        // The real server answers 200 and then one ERROR event carrying the Status, and closes.
        if (!(e instanceof StatusError)) throw e;
        send('ERROR', e.toStatus());
        res.end();
        return;
      }
    }

    const bookmark = (annotations?: Record<string, string>): void =>
      send('BOOKMARK', {
        kind: def.kind,
        apiVersion: apiVersionOf(def),
        metadata: {
          resourceVersion: String(this.store.resourceVersion),
          ...(annotations ? { annotations } : {}),
        },
      });
    const deliver = (c: Change): void => {
      if (c.def.plural !== def.plural || c.def.group !== def.group) return;
      const now = matches(c.object, c.namespace);
      const before = matches(c.previous, c.namespace);
      if (c.type === 'ADDED' && now) send('ADDED', c.object);
      else if (c.type === 'DELETED' && before) send('DELETED', c.object);
      else if (c.type === 'MODIFIED') {
        if (now && before) send('MODIFIED', c.object);
        else if (now) send('ADDED', c.object);
        else if (before) send('DELETED', c.object);
      }
    };

    for (const o of initial) send('ADDED', o);
    if (initialEvents && bookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });
    for (const c of backlog) deliver(c);
    const unsubscribe = this.store.subscribe(deliver);
    this.open.add(res);

    const timers: NodeJS.Timeout[] = [];
    if (bookmarks) timers.push(setInterval(() => bookmark(), this.opts.bookmarkIntervalMs));
    const timeout = Number(query.get('timeoutSeconds') ?? '0');
    if (timeout > 0) timers.push(setTimeout(() => res.end(), timeout * 1000));
    const cleanup = (): void => {
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      this.open.delete(res);
    };
    // Not `req`'s 'close': it fires once the request body is read, long before the client leaves.
    res.on('close', cleanup);
  }
}
