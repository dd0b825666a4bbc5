/**
 * Request counts per route and per upstream in small time buckets (pure): what `stats` sums over
 * a window. Buckets older than the retention are dropped as new records arrive.
 */
import type { RouteId, RouteStats, TrafficCount, Upstream } from '../edge.js';
import type { AccessRecord } from './access-log.js';

/** Counts are kept per BUCKET_MS: `stats(since)` is exact to this. */
export const BUCKET_MS = 100;

interface Bucket {
  requests: number;
  errors5xx: number;
  byUpstream: Map<Upstream, { requests: number; errors5xx: number }>;
}

export class TrafficLedger {
  // route → bucket start (ms) → counts; Map keeps insertion order, which is time order here
  // except for the few lines Caddy writes out of order across goroutines.
  private readonly routes = new Map<RouteId, Map<number, Bucket>>();
  private newest = 0;
  private prunedAt = 0;

  constructor(private readonly retentionMs = 60 * 60 * 1000) {}

  /** Counts a request toward its route's totals (`front` records) or its upstream (`back`). */
  add(record: AccessRecord, as: 'total' | 'upstream'): void {
    const start = record.at - (record.at % BUCKET_MS);
    let buckets = this.routes.get(record.routeId);
    if (buckets === undefined) this.routes.set(record.routeId, (buckets = new Map()));
    let bucket = buckets.get(start);
    if (bucket === undefined) {
      bucket = { requests: 0, errors5xx: 0, byUpstream: new Map() };
      buckets.set(start, bucket);
    }
    const failed = record.status >= 500 ? 1 : 0;
    if (as === 'total') {
      bucket.requests += 1;
      bucket.errors5xx += failed;
    } else if (record.upstream !== undefined) {
      const c = bucket.byUpstream.get(record.upstream) ?? { requests: 0, errors5xx: 0 };
      c.requests += 1;
      c.errors5xx += failed;
      bucket.byUpstream.set(record.upstream, c);
    }
    if (record.at > this.newest) this.newest = record.at;
    // At most once a second of log time: pruning walks every route.
    if (this.newest - this.prunedAt >= 1_000) this.prune();
  }

  /** Sums a route's buckets that start at or after `since` (rounded down to a bucket). */
  stats(routeId: RouteId, since = 0): RouteStats {
    const from = since - (since % BUCKET_MS);
    let requests = 0;
    let errors5xx = 0;
    const byUpstream: Record<Upstream, TrafficCount> = {};
    for (const [start, b] of this.routes.get(routeId) ?? []) {
      if (start < from) continue;
      requests += b.requests;
      errors5xx += b.errors5xx;
      for (const [u, c] of b.byUpstream) {
        const sum = byUpstream[u] ?? { requests: 0, errors5xx: 0 };
        byUpstream[u] = {
          requests: sum.requests + c.requests,
          errors5xx: sum.errors5xx + c.errors5xx,
        };
      }
    }
    return {
      since: Math.max(since, this.newest - this.retentionMs),
      requests,
      errors5xx,
      byUpstream,
    };
  }

  /** Forgets a route (removed from the edge). */
  forget(routeId: RouteId): void {
    this.routes.delete(routeId);
  }

  private prune(): void {
    this.prunedAt = this.newest;
    const cutoff = this.newest - this.retentionMs;
    for (const [routeId, buckets] of this.routes) {
      for (const start of buckets.keys()) {
        if (start >= cutoff) break;
        buckets.delete(start);
      }
      if (buckets.size === 0) this.routes.delete(routeId);
    }
  }
}
