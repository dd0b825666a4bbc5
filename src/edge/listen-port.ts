import { createServer } from 'node:net';

/** How many taken ports the edge skips before it gives up finding a listener for a route. */
const MAX_SKIPPED = 50;

/** Whether `port` on `host` can be listened on right now (bound and released at once). */
export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * The next listener port for a new route: `next()` hands out base, base+1, … (a counter kept in
 * Redis so every controller agrees), and ports something else already listens on are skipped —
 * a port taken by another program must not fail a rollout.
 */
export async function nextListenPort(
  host: string,
  next: () => Promise<number>,
  free: (host: string, port: number) => Promise<boolean> = portFree,
): Promise<number> {
  for (let i = 0; i <= MAX_SKIPPED; i++) {
    const port = await next();
    if (await free(host, port)) return port;
  }
  throw new Error(`no free edge listener port on ${host} after skipping ${MAX_SKIPPED} taken ones`);
}
