/**
 * The behavioural suite every `Edge` must pass (STYLE.md habit 10), run against real traffic by
 * each implementation's integration test: a real Caddy pair with node upstreams, and a Service on
 * the API-server simulator with pods that serve. It speaks only the port; how a client reaches a
 * route's URL, how an upstream is made and how the edge loses its routes come in through the
 * fixture.
 *
 * Where an implementation cannot meet a clause the port allows it to miss, it says so in
 * `EdgeCapabilities` and the suite checks the weaker promise instead — never a silent skip.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGantryError } from '../../src/errors.js';
import type { Edge, RouteId, RouteSpec, Upstream } from '../../src/edge/edge.js';
import { eventually, rejection } from './waits.js';

/**
 * Where implementations differ in ways the port allows; the Caddy edge meets every clause (all
 * true). Each difference is documented where the implementation lives.
 */
export interface EdgeCapabilities {
  /**
   * New requests go to the new set as soon as `setUpstreams` resolves. A Service's endpoints
   * reach kube-proxy on every node a moment later, so there the suite waits for the switch.
   */
  readonly atomicSwitch: boolean;
  /**
   * `drain` knows the route's upstreams and refuses one it still sends requests to. A Service
   * edge routes by pod label and its drain only waits out propagation, so it drains anything.
   */
  readonly drainRefusesRouted: boolean;
  /**
   * `drain` counts the requests in flight on the upstream and resolves only once they are done.
   * A Service has no request counts: its drain waits a fixed time and the requests still running
   * finish on their own (the pod's termination grace period), which the suite still checks.
   */
  readonly drainWaitsForInFlight: boolean;
}

export const FULL_EDGE_CAPABILITIES: EdgeCapabilities = {
  atomicSwitch: true,
  drainRefusesRouted: true,
  drainWaitsForInFlight: true,
};

/** An upstream the fixture started: it answers with its `name`. */
export interface ContractUpstream {
  readonly name: string;
  readonly address: Upstream;
}

/** A client's view of one request through the edge. */
export interface EdgeReply {
  /** 0 when nothing answered (connection refused, reset). */
  readonly status: number;
  /**
   * The name of the upstream that answered; undefined when the edge answered itself, or for a
   * slow request when the fixture's upstream cannot say who it is.
   */
  readonly from: string | undefined;
}

export interface EdgeFixture {
  readonly edge: Edge;
  /** Default FULL_EDGE_CAPABILITIES. */
  readonly capabilities?: EdgeCapabilities;
  /** Where a new route listens. */
  listen(): Promise<RouteSpec['listen']>;
  /** Starts an upstream that answers its name, and `slow` requests after `SLOW_MS` or more. */
  upstream(name: string): Promise<ContractUpstream>;
  /** One request as a client of the route's `url` would send it. */
  request(url: string, opts?: { slow?: boolean }): Promise<EdgeReply>;
  /** Makes the edge lose every route out of band: a restarted Caddy, a Service deleted by hand. */
  loseRoutes(): Promise<void>;
  dispose(): Promise<void>;
}

/** The least a slow request takes upstream: long enough to be in flight while a drain starts. */
export const SLOW_MS = 1_500;
/** Requests per check: enough for round robin over two upstreams to show both. */
const SAMPLE = 8;

/** Registers the suite for one implementation. */
export function edgeContract(name: string, makeFixture: () => Promise<EdgeFixture>): void {
  describe(`Edge contract: ${name}`, () => {
    let fx: EdgeFixture;
    const routes: RouteId[] = [];
    const prefix = `ec${Math.random().toString(16).slice(2, 8)}`;
    const ups = new Map<string, ContractUpstream>();

    function caps(): EdgeCapabilities {
      return fx.capabilities ?? FULL_EDGE_CAPABILITIES;
    }

    /** A fresh route per test keeps each clause's traffic to itself. */
    async function newRoute(): Promise<{ spec: RouteSpec; url: string }> {
      const id = `${prefix}-${routes.length}`;
      routes.push(id);
      const spec: RouteSpec = { id, listen: await fx.listen() };
      const { url } = await fx.edge.ensureRoute(spec);
      return { spec, url };
    }

    /** Upstreams are shared between tests (pods are slow to make); each is made once. */
    async function upstream(name: string): Promise<ContractUpstream> {
      const known = ups.get(name);
      if (known) return known;
      const made = await fx.upstream(name);
      ups.set(name, made);
      return made;
    }

    /** Who answered `SAMPLE` requests in a row; undefined marks a request the edge did not serve. */
    async function answerers(url: string): Promise<Set<string | undefined>> {
      const seen = new Set<string | undefined>();
      for (let i = 0; i < SAMPLE; i++) {
        const reply = await fx.request(url);
        seen.add(reply.status === 200 ? reply.from : undefined);
      }
      return seen;
    }

    /** Sets the upstreams, then waits for the switch where it is not atomic (see capabilities). */
    async function route(url: string, id: RouteId, set: readonly ContractUpstream[]) {
      await fx.edge.setUpstreams(
        id,
        set.map((u) => u.address),
      );
      if (caps().atomicSwitch || set.length === 0) return;
      const names = new Set(set.map((u) => u.name));
      await eventually('the new upstreams to take every request', async () => {
        const seen = await answerers(url);
        return [...seen].every((n) => n !== undefined && names.has(n)) || undefined;
      });
    }

    async function serves(url: string): Promise<boolean> {
      const reply = await fx.request(url);
      return reply.status === 200 && reply.from !== undefined;
    }

    beforeAll(async () => {
      fx = await makeFixture();
    });

    afterAll(async () => {
      if (!fx) return;
      for (const id of routes) await fx.edge.removeRoute(id).catch(() => undefined);
      await fx.dispose();
    });

    it('ensureRoute is idempotent: same URL, upstreams kept, and it serves there', async () => {
      const a = await upstream('a');
      const { spec, url } = await newRoute();
      await route(url, spec.id, [a]);
      expect(await answerers(url)).toEqual(new Set(['a']));
      const again = await fx.edge.ensureRoute(spec);
      expect(again.url).toBe(url);
      expect(await fx.edge.upstreams(spec.id)).toEqual([a.address]);
      expect(await answerers(url)).toEqual(new Set(['a']));
    });

    it('setUpstreams and upstreams round-trip, and each call replaces the whole set', async () => {
      const [a, b] = [await upstream('a'), await upstream('b')];
      const { spec } = await newRoute();
      expect(await fx.edge.upstreams(spec.id)).toEqual([]);
      await fx.edge.setUpstreams(spec.id, [a.address, b.address]);
      expect((await fx.edge.upstreams(spec.id)).sort()).toEqual([a.address, b.address].sort());
      await fx.edge.setUpstreams(spec.id, [b.address]);
      expect(await fx.edge.upstreams(spec.id)).toEqual([b.address]);
      await fx.edge.setUpstreams(spec.id, [b.address]);
      expect(await fx.edge.upstreams(spec.id)).toEqual([b.address]);
      await fx.edge.setUpstreams(spec.id, []);
      expect(await fx.edge.upstreams(spec.id)).toEqual([]);
    });

    it('sends requests only to the upstreams set, switching A → A+B → B', async () => {
      const [a, b] = [await upstream('a'), await upstream('b')];
      // Running and reachable, never routed: it must see nothing.
      await upstream('c');
      const { spec, url } = await newRoute();
      await route(url, spec.id, [a]);
      expect(await answerers(url)).toEqual(new Set(['a']));
      await route(url, spec.id, [a, b]);
      expect(await answerers(url)).toEqual(new Set(['a', 'b']));
      await route(url, spec.id, [b]);
      expect(await answerers(url)).toEqual(new Set(['b']));
    });

    it('drain refuses an upstream the route still sends requests to', async () => {
      const a = await upstream('a');
      const { spec, url } = await newRoute();
      await route(url, spec.id, [a]);
      const attempt = fx.edge.drain(spec.id, a.address, { timeoutMs: 1_000 });
      if (!caps().drainRefusesRouted) {
        // The weaker promise: it resolves, and draining did not unroute anything.
        expect((await attempt).drained).toBe(true);
        expect(await fx.edge.upstreams(spec.id)).toEqual([a.address]);
        expect(await serves(url)).toBe(true);
        return;
      }
      const e = await rejection(attempt);
      expect(isGantryError(e, 'GANTRY_ERR_EDGE_REJECTED')).toBe(true);
      expect(await fx.edge.upstreams(spec.id)).toEqual([a.address]);
    });

    it('drains an unrouted upstream, and the request in flight on it completes', async () => {
      const [a, b] = [await upstream('a'), await upstream('b')];
      const { spec, url } = await newRoute();
      await route(url, spec.id, [a]);
      let finishedAt: number | undefined;
      const slow = fx.request(url, { slow: true }).then((reply) => {
        finishedAt = Date.now();
        return reply;
      });
      // Let the slow request reach A before A stops taking new ones.
      await new Promise((r) => setTimeout(r, SLOW_MS / 3));
      await route(url, spec.id, [b]);
      const result = await fx.edge.drain(spec.id, a.address, { timeoutMs: SLOW_MS * 4 });
      expect(result).toMatchObject({ drained: true, inFlight: 0 });
      if (caps().drainWaitsForInFlight) {
        // Resolved only once the request was done: stopping A now resets nothing.
        expect(finishedAt).toBeDefined();
      }
      const reply = await slow;
      expect(reply.status).toBe(200);
      // Only A was routed when it was sent (a fixture may not learn who answered a slow request).
      if (reply.from !== undefined) expect(reply.from).toBe('a');
      expect(await answerers(url)).toEqual(new Set(['b']));
      // Repeating the drain, or draining what was never routed, resolves too.
      expect((await fx.edge.drain(spec.id, a.address, { timeoutMs: 1_000 })).drained).toBe(true);
      const c = await upstream('c');
      expect((await fx.edge.drain(spec.id, c.address, { timeoutMs: 1_000 })).drained).toBe(true);
    });

    it('removeRoute stops the route serving, and removing what is absent is a no-op', async () => {
      const a = await upstream('a');
      const { spec, url } = await newRoute();
      await route(url, spec.id, [a]);
      expect(await serves(url)).toBe(true);
      await fx.edge.removeRoute(spec.id);
      await eventually('the route to stop serving', async () => !(await serves(url)) || undefined);
      await fx.edge.removeRoute(spec.id);
      await fx.edge.removeRoute(`${prefix}-never`);
    });

    it('a route the edge lost serves again once ensureRoute restores it', async () => {
      const a = await upstream('a');
      const { spec, url } = await newRoute();
      await route(url, spec.id, [a]);
      expect(await serves(url)).toBe(true);
      await fx.loseRoutes();
      await eventually(
        'the lost route to stop serving',
        async () => !(await serves(url)) || undefined,
      );
      // What the controller does on its next reconcile: ensure the route, set its upstreams.
      const restored = await fx.edge.ensureRoute(spec);
      expect(restored.url).toBe(url);
      await route(url, spec.id, [a]);
      expect(await fx.edge.upstreams(spec.id)).toEqual([a.address]);
      expect(await answerers(url)).toEqual(new Set(['a']));
    });
  });
}
