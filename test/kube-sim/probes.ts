/**
 * One probe run (httpGet, tcpSocket, exec) against a container: network probes go to the
 * container's published port on 127.0.0.1, never to a container IP.
 */
import { connect } from 'node:net';
import type Docker from 'dockerode';
import type { Probe } from './types.js';

export interface ProbeTarget {
  /** The host port on 127.0.0.1 published for a container port (number or port name). */
  hostPort(port: number | string): number | undefined;
  container: Docker.Container;
  /** Where the ports are: 127.0.0.1 (published ports) unless given, e.g. a pod IP. */
  host?: string;
}

export interface ProbeResult {
  ok: boolean;
  /** Why it failed, as the kubelet words it in the Unhealthy event. */
  message: string;
}

/** Runs a probe once, within `timeoutMs`. */
export async function runProbe(
  probe: Probe,
  target: ProbeTarget,
  timeoutMs: number,
): Promise<ProbeResult> {
  try {
    if (probe.httpGet) return await httpProbe(probe.httpGet, target, timeoutMs);
    if (probe.tcpSocket) return await tcpProbe(probe.tcpSocket.port, target, timeoutMs);
    if (probe.exec) return await execProbe(probe.exec.command ?? [], target, timeoutMs);
    return { ok: true, message: '' };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

function portOf(port: number | string, target: ProbeTarget): number {
  const p = target.hostPort(port);
  if (p === undefined) throw new Error(`port ${port} is not published`);
  return p;
}

async function httpProbe(
  get: NonNullable<Probe['httpGet']>,
  target: ProbeTarget,
  timeoutMs: number,
): Promise<ProbeResult> {
  const url = `http://${target.host ?? '127.0.0.1'}:${portOf(get.port, target)}${get.path ?? '/'}`;
  const res = await fetch(url, {
    signal: AbortSignal.timeout(timeoutMs),
    headers: { 'User-Agent': 'kube-probe/1.31' },
  });
  await res.arrayBuffer();
  if (res.status >= 200 && res.status < 400) return { ok: true, message: '' };
  return { ok: false, message: `HTTP probe failed with statuscode: ${res.status}` };
}

function tcpProbe(
  port: number | string,
  target: ProbeTarget,
  timeoutMs: number,
): Promise<ProbeResult> {
  const host = portOf(port, target);
  const addr = target.host ?? '127.0.0.1';
  return new Promise((resolve) => {
    const sock = connect({ host: addr, port: host });
    const done = (r: ProbeResult): void => {
      sock.destroy();
      resolve(r);
    };
    sock.setTimeout(timeoutMs, () =>
      done({ ok: false, message: `dial tcp ${addr}:${host}: i/o timeout` }),
    );
    sock.once('connect', () => done({ ok: true, message: '' }));
    sock.once('error', (e) =>
      done({ ok: false, message: `dial tcp ${addr}:${host}: ${e.message}` }),
    );
  });
}

async function execProbe(
  cmd: string[],
  target: ProbeTarget,
  timeoutMs: number,
): Promise<ProbeResult> {
  const exec = await target.container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`command ${JSON.stringify(cmd)} timed out`));
    }, timeoutMs);
    stream.on('end', () => (clearTimeout(timer), resolve()));
    stream.on('close', () => (clearTimeout(timer), resolve()));
    stream.on('error', (e) => (clearTimeout(timer), reject(e)));
    stream.resume();
  });
  const info = await exec.inspect();
  if (info.ExitCode === 0) return { ok: true, message: '' };
  return { ok: false, message: `command ${JSON.stringify(cmd)} exited with ${info.ExitCode}` };
}
