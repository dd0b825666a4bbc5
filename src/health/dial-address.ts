/** Where a published instance is dialled, by the edge and by the probes alike. */
import { isIP } from 'node:net';

/** The IP a published port is on when the runtime names none: the controller's machine. */
export const LOOPBACK = '127.0.0.1';

/** `host:port` for an instance's published port, IPv6 in brackets (`[fd00::2]:32768`). Pure. */
export function dialAddress(address: string | undefined, port: number): string {
  const ip = address ?? LOOPBACK;
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}
