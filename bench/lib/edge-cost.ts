/**
 * What the edge costs, measured in the same run as the rollouts: the app's own capacity (one
 * instance, as fast as autocannon can send), then GETs at one fixed rate straight to one instance
 * and through the edge, each in its own autocannon process, and the difference of their p50 and
 * p99. Loopback only.
 */
import { runLoad, type LoadResult } from './run-load.js';

export interface EdgeCost {
  /** 2xx answers a second from one instance, unthrottled. */
  readonly capacity: number;
  readonly direct: LatencyAt;
  readonly edge: LatencyAt;
}

export interface LatencyAt {
  readonly rate: number;
  readonly p50: number;
  readonly p99: number;
  readonly failed: number;
}

export interface EdgeCostOptions {
  /** One instance, e.g. `http://127.0.0.1:32768`. */
  readonly instance: string;
  /** The edge's route. */
  readonly edge: string;
  readonly path: string;
  readonly rate: number;
  readonly seconds: number;
  readonly connections: number;
  readonly spread: number;
}

/** Non-2xx answers, socket errors and timeouts. */
export function failed(r: LoadResult): number {
  const bad = Object.entries(r.codes)
    .filter(([code]) => !code.startsWith('2'))
    .reduce((n, [, count]) => n + count, 0);
  return bad + r.errors + r.timeouts;
}

/** 2xx answers. */
export function answered(r: LoadResult): number {
  return Object.entries(r.codes)
    .filter(([code]) => code.startsWith('2'))
    .reduce((n, [, count]) => n + count, 0);
}

function latency(r: LoadResult, rate: number): LatencyAt {
  return { rate, p50: r.p50, p99: r.p99, failed: failed(r) };
}

/** Capacity first (the machine otherwise idle), then the same fixed rate direct and via the edge. */
export async function measureEdgeCost(o: EdgeCostOptions): Promise<EdgeCost> {
  // rate 0: no limit (autocannon sends as fast as its connections are answered).
  const max = await runLoad({
    url: `${o.instance}${o.path}`,
    method: 'GET',
    rate: 0,
    seconds: o.seconds,
    connections: o.connections,
  });
  const capacity = answered(max) / max.seconds;
  const at = (url: string) =>
    runLoad({
      url: `${url}${o.path}`,
      method: 'GET',
      rate: o.rate,
      seconds: o.seconds,
      connections: o.connections,
      spread: o.spread,
    });
  const direct = latency(await at(o.instance), o.rate);
  const edge = latency(await at(o.edge), o.rate);
  return { capacity, direct, edge };
}

/** The lines the bench prints about it. */
export function edgeCostLines(c: EdgeCost, seconds: number): string[] {
  const ms = (n: number) => n.toFixed(2);
  const row = (name: string, l: LatencyAt) =>
    `  ${name.padEnd(22)} ${String(l.rate).padStart(5)}/s  p50 ${ms(l.p50).padStart(6)} ms  p99 ${ms(l.p99).padStart(6)} ms  failed ${l.failed}`;
  return [
    `app capacity, one instance, GET, unthrottled for ${seconds} s: ${c.capacity.toFixed(0)} req/s`,
    row('direct to one instance', c.direct),
    row('through the edge', c.edge),
    `  edge adds: p50 +${ms(c.edge.p50 - c.direct.p50)} ms, p99 +${ms(c.edge.p99 - c.direct.p99)} ms`,
  ];
}
