/**
 * A TCP relay between the controller under test and the API server (TLS passes through
 * untouched). It exists for faults: while the API server restarts, new connections wait for it
 * (up to a minute) instead of being refused, as behind a load balancer, so a restart cuts every
 * watch without failing the calls that happen to fall into it; `cut()` resets every connection.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ApiProxy {
  readonly port: number;
  /** Destroys every relayed connection (both sides); returns how many. */
  cut(): number;
  /** New connections wait (not refused) until `release`: the API server is being restarted. */
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

async function dial(port: number, deadline: number): Promise<Socket> {
  for (;;) {
    try {
      return await new Promise<Socket>((ok, fail) => {
        const s = connect({ host: '127.0.0.1', port });
        s.once('connect', () => ok(s));
        s.once('error', fail);
      });
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(100);
    }
  }
}

/** Relays 127.0.0.1:<any free port> to 127.0.0.1:`target`. */
export async function startApiProxy(target: number): Promise<ApiProxy> {
  const pairs = new Set<[Socket, Socket | undefined]>();
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => undefined;
  const server: Server = createServer((client) => {
    const pair: [Socket, Socket | undefined] = [client, undefined];
    pairs.add(pair);
    client.pause();
    client.on('error', () => undefined);
    client.once('close', () => {
      pair[1]?.destroy();
      pairs.delete(pair);
    });
    void gate
      .then(() => dial(target, Date.now() + 60_000))
      .then(
        (upstream) => {
          if (client.destroyed) return upstream.destroy();
          pair[1] = upstream;
          upstream.on('error', () => undefined);
          upstream.once('close', () => client.destroy());
          client.pipe(upstream);
          upstream.pipe(client);
          client.resume();
        },
        () => client.destroy(),
      );
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const addr = server.address();
  const cut = (): number => {
    const n = pairs.size;
    for (const [a, b] of pairs) {
      a.destroy();
      b?.destroy();
    }
    pairs.clear();
    return n;
  };
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    cut,
    hold() {
      gate = new Promise((ok) => (open = ok));
    },
    release() {
      open();
    },
    async close() {
      open();
      cut();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
