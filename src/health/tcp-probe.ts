/** TCP health check: a connection to the published port at its host's address that stays open. */
import { connect } from 'node:net';
import { networkReason } from './detail.js';
import { LOOPBACK } from './dial-address.js';
import type { ProbeResult } from './probe-result.js';

/**
 * How long an accepted connection must stay open to count. Docker's userland proxy owns published
 * loopback ports: it accepts every connection, then closes it at once when nothing listens inside
 * the container. A connection that survives this long reached the app.
 */
export const TCP_SETTLE_MS = 150;

export function tcpProbe(
  hostPort: number,
  timeoutMs: number,
  address: string = LOOPBACK,
): Promise<ProbeResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    const socket = connect({ host: address, port: hostPort });
    const finish = (ok: boolean, detail: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(settle);
      socket.destroy();
      resolve({ ok, detail, at: Date.now() });
    };
    let settle: NodeJS.Timeout | undefined;
    const deadline = setTimeout(
      () => finish(false, `connect: no answer within ${timeoutMs} ms`),
      timeoutMs,
    );
    socket.once('connect', () => {
      const connectedMs = elapsed();
      const wait = Math.max(0, Math.min(TCP_SETTLE_MS, timeoutMs - connectedMs));
      settle = setTimeout(() => finish(true, `connected in ${connectedMs} ms`), wait);
    });
    // Data (a banner) proves a live peer; a close before the settle time proves the opposite.
    socket.once('data', () => finish(true, `connected in ${elapsed()} ms`));
    socket.once('end', () =>
      finish(
        false,
        `connection closed by the peer after ${elapsed()} ms (nothing listening behind the port?)`,
      ),
    );
    socket.once('close', () =>
      finish(
        false,
        `connection closed by the peer after ${elapsed()} ms (nothing listening behind the port?)`,
      ),
    );
    socket.once('error', (e) => finish(false, `connect ${networkReason(e)}`));
  });
}
