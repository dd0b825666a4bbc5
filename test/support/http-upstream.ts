/** A plain HTTP server on a free loopback port, as an upstream for the edge tests. */
import { createServer, type RequestListener } from 'node:http';

export interface LocalUpstream {
  /** `127.0.0.1:<port>`, as the edge routes to it. */
  readonly address: string;
  /** Stops listening and drops open connections (keep-alive ones from the proxy included). */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 with an ephemeral port and answers with `handler`. */
export async function listenUpstream(handler: RequestListener): Promise<LocalUpstream> {
  const server = createServer(handler);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const a = server.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
