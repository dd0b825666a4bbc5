import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { AppSpec } from '../config/app-spec.js';
import type { Edge, RouteSpec } from '../edge/edge.js';
import { trafficOf } from '../edge/edge.js';
import { GantryError } from '../errors.js';
import { Prober } from '../health/prober.js';
import type { RolloutJob } from '../queue/jobs.js';
import {
  decide,
  describeAction,
  describePhase,
  initialState,
  phaseOf,
  planRollout,
  type Action,
  type Intent,
  type RolloutEvent,
  type RolloutPlan,
  type RolloutState,
} from '../rollout/index.js';
import type { Instance, Runtime } from '../runtime/runtime.js';
import type { RepoRegistry } from '../source/repos.js';
import { specAt } from '../source/spec-at.js';
import { prUrlFor } from '../history/pull-request.js';
import { pullRequestOf } from '../history/pull-request.js';
import type { RolloutEventRecord, RolloutRecord } from '../store/records.js';
import type { LeaseRef, RolloutStore } from '../store/rollouts.js';
import type { Store } from '../store/store.js';
import { instanceSpec, resolveSecrets } from './instance-spec.js';
import { settlePin } from './operations/pin.js';
import { eventText } from './event-text.js';
import { observe, ProbeLog, upstreamOf } from './observe.js';
import { pruneImages } from './prune-images.js';

export interface RolloutDeps {
  store: Store;
  rollouts: RolloutStore;
  repos: RepoRegistry;
  runtime: Runtime;
  edge: Edge;
  log: Logger;
  /** Picks the listener of an environment the first time it is deployed. */
  routeFor(app: string, env: string, spec: AppSpec): Promise<RouteSpec>;
  /** How often the loop observes and decides. */
  tickMs: number;
  /** Succeeded revisions per environment whose images stay on every host (the rollback window). */
  keepImages: number;
  secretsEnv: NodeJS.ProcessEnv;
}

const DRAIN_MS = 1000;
const FAILURE_LOG_LINES = 30;

/**
 * The environment's lease as the runner sees it. A process that stalled (frozen, paused) past its
 * lease may wake up while another one runs this or the next rollout of the environment: it checks
 * before every step and every action, and each state write is conditional on the lease in Redis.
 */
export interface Fence extends LeaseRef {
  /** Throws when this process may no longer act for the environment. */
  check(): void;
  /** Called when a write conditional on the lease found it taken; throws. */
  lose(): never;
}

/** Writes the record, only while `fence` (when given) is held. */
async function persist(deps: RolloutDeps, rec: RolloutRecord, fence: Fence | undefined) {
  if (!(await deps.rollouts.put(rec, fence))) fence?.lose();
}

function parseIntents(raw: string[]): Intent[] {
  return raw
    .filter((r): r is Intent['kind'] => ['pause', 'resume', 'abort'].includes(r))
    .map((kind) => ({ kind }));
}

/**
 * Runs one rollout to its end: create (or resume) its record → ensure the route → loop
 * observe → decide → persist → act, until the core says it is finished. Another process that
 * picks the job up after a crash resumes from the persisted state and what the runtime reports.
 */
export async function runRollout(
  deps: RolloutDeps,
  job: RolloutJob,
  fence?: Fence,
): Promise<RolloutRecord> {
  fence?.check();
  let rec = await deps.rollouts.get(job.rolloutId);
  if (rec?.outcome) return rec;
  const appRec = await deps.store.getApp(job.app);
  if (!appRec) throw new GantryError('GANTRY_ERR_NOT_FOUND', `app ${job.app} is not known`);
  const revision = await deps.store.getRevision(job.app, job.sha);
  if (!revision?.image) {
    throw new GantryError(
      'GANTRY_ERR_NOT_FOUND',
      `${job.app}@${job.sha.slice(0, 12)} has no built image`,
    );
  }
  const repo = deps.repos.get(appRec.repo);
  const spec = await specAt(repo, appRec.path, job.sha, revision.branch);
  const envState = await deps.rollouts.env(job.app, job.env);

  // A record without a plan is a placeholder written while the rollout waited on a lock.
  if (!rec?.plan) {
    rec = {
      id: job.rolloutId,
      app: job.app,
      env: job.env,
      kind: job.kind,
      trigger: job.trigger,
      from: envState.current ? { sha: envState.current.sha, image: envState.current.image } : null,
      to: { sha: job.sha, image: revision.image.pinned },
      createdAt: new Date().toISOString(),
      // Copied once, so history answers "what did PR #42 ship" from the record alone.
      commit: revision.commit,
      pr: pullRequestOf(revision.commit, prUrlFor(repo.config.url)),
    };
    // A newer deploy asked for after this one was queued makes it moot (rollbacks never are).
    if (job.kind === 'deploy' && envState.desired && envState.desired !== job.sha) {
      return finishRecord(
        deps,
        rec,
        'superseded',
        `superseded by ${envState.desired.slice(0, 12)}`,
        fence,
      );
    }
    if (envState.current?.sha === job.sha && job.kind === 'deploy') {
      return finishRecord(deps, rec, 'succeeded', 'already running this revision', fence);
    }
    const plan = planRollout({
      rolloutId: rec.id,
      env: job.env,
      spec,
      from: rec.from,
      to: rec.to,
      hosts: deps.runtime.hosts(),
      kind: job.kind,
      // The edge's drain waits for the instance's in-flight requests to finish before each stop;
      // the core's own pause only lets the route change reach the proxy first.
      drainMs: DRAIN_MS,
    });
    rec = { ...rec, plan, state: initialState(plan) };
    await persist(deps, rec, fence);
    await event(deps, rec, 'created', `${job.kind} ${short(rec.from?.sha)} → ${short(job.sha)}`);
  } else {
    // An earlier attempt stopped halfway (its process died, or stalled past its lease): carry on
    // from the persisted state and what the runtime reports now.
    await event(deps, rec, 'resumed', 'resumed from its persisted state');
  }

  const known = envState.route;
  const route: RouteSpec = known
    ? {
        id: known.id,
        listen: { host: known.host, port: known.port },
        ...(known.domain ? { domain: known.domain } : {}),
      }
    : await deps.routeFor(job.app, job.env, spec);
  const { url } = await deps.edge.ensureRoute(route);
  if (!known) {
    const { id, listen, domain } = route;
    await deps.rollouts.updateEnv(job.app, job.env, { route: { id, ...listen, domain, url } });
  }

  const secrets = resolveSecrets(spec, deps.secretsEnv);
  const loop = new Loop(deps, rec, spec, route.id, secrets, fence);
  try {
    return await loop.run();
  } finally {
    loop.close();
  }
}

function short(sha: string | undefined): string {
  return sha ? sha.slice(0, 12) : '(nothing)';
}

async function event(
  deps: RolloutDeps,
  rec: RolloutRecord,
  kind: string,
  text: string,
): Promise<void> {
  await deps.rollouts.appendEvents(rec, [{ at: Date.now(), kind, text }]);
}

async function finishRecord(
  deps: RolloutDeps,
  rec: RolloutRecord,
  outcome: NonNullable<RolloutRecord['outcome']>,
  reason: string,
  fence: Fence | undefined,
): Promise<RolloutRecord> {
  const done = { ...rec, outcome, reason, finishedAt: new Date().toISOString() };
  await persist(deps, done, fence);
  // The core's own `finished` event says how it ended; this one records the outcome's reason.
  await event(deps, rec, 'outcome', `${outcome}: ${reason}`);
  return done;
}

/** The observe → decide → persist → act loop of one rollout in this process. */
class Loop {
  private readonly probes = new ProbeLog();
  private readonly prober: Prober;
  private readonly plan: RolloutPlan;
  private state: RolloutState;
  private instances: Instance[] = [];

  constructor(
    private readonly deps: RolloutDeps,
    private rec: RolloutRecord,
    private readonly spec: AppSpec,
    private readonly routeId: string,
    private readonly secrets: Record<string, string>,
    private readonly fence: Fence | undefined,
  ) {
    this.plan = rec.plan as RolloutPlan;
    this.state = rec.state as RolloutState;
    this.prober = new Prober(deps.runtime, (id, r) =>
      this.probes.add(id, { at: r.at, ok: r.ok, detail: r.detail }),
    );
  }

  close(): void {
    this.prober.stop();
  }

  async run(): Promise<RolloutRecord> {
    for (;;) {
      const now = Date.now();
      const observed = await this.observeWorld();
      // Before taking intents: a process that lost the lease must leave them to the holder.
      this.fence?.check();
      const intents = parseIntents(await this.deps.rollouts.takeIntents(this.rec.id));
      const decision = decide({ plan: this.plan, state: this.state, observed, intents, now });
      this.state = decision.state;
      // Persist before acting: a process that dies mid-action resumes from a state that already
      // asked for it, and every action is safe to repeat.
      this.rec = { ...this.rec, state: this.state };
      await persist(this.deps, this.rec, this.fence);
      await this.deps.rollouts.appendEvents(
        this.rec,
        decision.events.map((e): RolloutEventRecord => ({
          at: e.at,
          kind: e.kind,
          text: eventText(e),
        })),
      );
      await this.keepFailureLogs(decision.events);
      for (const action of decision.actions) {
        // An action can take seconds (a drain, a stop): check again before each one.
        this.fence?.check();
        const finished = await this.apply(action);
        if (finished) return finished;
      }
      await sleep(this.deps.tickMs);
    }
  }

  /**
   * When an instance is judged unhealthy, its last log lines join the evidence now: the
   * rollback removes the container, and its logs with it.
   */
  private async keepFailureLogs(events: readonly RolloutEvent[]): Promise<void> {
    for (const e of events) {
      if (e.kind !== 'failed') continue;
      const failure = e.failure;
      if (failure.check !== 'unhealthy' || !failure.instanceId) continue;
      const instance = this.instances.find((i) => i.id === failure.instanceId);
      if (!instance) continue;
      const logs = await this.deps.runtime.logs(instance, FAILURE_LOG_LINES).catch(() => []);
      const why = (await this.deps.runtime.evidence?.(instance).catch(() => [])) ?? [];
      const lines = [...why, ...logs];
      this.rec = { ...this.rec, failureLogs: { slot: instance.slot, lines } };
      await persist(this.deps, this.rec, this.fence);
    }
  }

  private async observeWorld() {
    this.instances = await this.deps.runtime.list({ app: this.rec.app, env: this.rec.env });
    const routed = new Set(await this.dropStrays(await this.deps.edge.upstreams(this.routeId)));
    this.watchProbes();
    let edgeStats = null;
    if (this.state.bakeStartedAt !== null) {
      const stats = await this.deps.edge.stats(this.routeId, this.state.bakeStartedAt);
      const ups = this.instances
        .filter((i) => i.revision === this.plan.to.sha)
        .map(upstreamOf)
        .filter((u): u is string => u !== undefined);
      const t = trafficOf(stats, ups);
      edgeStats = {
        requests: t.requests,
        errorRate: t.requests === 0 ? 0 : t.errors5xx / t.requests,
      };
    }
    return observe(this.instances, routed, this.probes, edgeStats);
  }

  /**
   * Drops upstreams that no instance of this environment answers to any more. They are what an
   * attempt that died or stalled in the middle of changing the route leaves behind (its write may
   * land after another process changed the route), or what a crashed instance leaves: only the
   * lease holder writes the route, so it puts the route back in line with the runtime.
   */
  private async dropStrays(upstreams: string[]): Promise<string[]> {
    const answering = new Set(this.instances.map(upstreamOf));
    const strays = upstreams.filter((u) => !answering.has(u));
    if (strays.length === 0) return upstreams;
    this.fence?.check();
    const kept = upstreams.filter((u) => answering.has(u));
    await this.deps.edge.setUpstreams(this.routeId, kept);
    this.deps.log.warn(
      { rollout: this.rec.id, route: this.routeId, strays },
      'dropped upstreams no instance answers to',
    );
    return kept;
  }

  /** Probe every running instance of this environment; forget the ones that are gone. */
  private watchProbes(): void {
    const live = new Set<string>();
    for (const i of this.instances) {
      // Published on 127.0.0.1 (Docker), or reachable through the runtime (Kubernetes pods).
      if (i.state !== 'running' || upstreamOf(i) === undefined) continue;
      live.add(i.id);
      if (!this.prober.watching().includes(i.id)) {
        this.prober.watch(
          { hostPort: i.hostPort, instance: i },
          {
            check: this.plan.health.check,
            intervalMs: this.plan.health.intervalMs,
            timeoutMs: this.plan.health.timeoutMs,
          },
        );
      }
    }
    for (const id of this.prober.watching()) {
      if (!live.has(id)) {
        this.prober.unwatch(id);
        this.probes.forget(id);
      }
    }
  }

  private upstreamsOf(ids: readonly string[]): string[] {
    return this.instances
      .filter((i) => ids.includes(i.id))
      .map(upstreamOf)
      .filter((u): u is string => u !== undefined);
  }

  /** Applies one action; returns the final record when the rollout is over. */
  private async apply(action: Action): Promise<RolloutRecord | undefined> {
    this.deps.log.debug(
      { rollout: this.rec.id, attempt: this.fence?.owner, action: describeAction(action) },
      'rollout action',
    );
    switch (action.kind) {
      case 'start': {
        await this.deps.runtime.start(
          instanceSpec({
            spec: this.spec,
            env: this.rec.env,
            rolloutId: this.rec.id,
            slot: action.slot,
            revision: action.revision,
            image: action.image,
            host: action.host,
            secrets: this.secrets,
          }),
        );
        return undefined;
      }
      case 'route': {
        const current = await this.deps.edge.upstreams(this.routeId);
        const add = this.upstreamsOf(action.instanceIds);
        // Between reading the route and writing it back: a stale write would undo the holder's.
        this.fence?.check();
        await this.deps.edge.setUpstreams(this.routeId, [...new Set([...current, ...add])]);
        return undefined;
      }
      case 'unroute': {
        const current = await this.deps.edge.upstreams(this.routeId);
        const remove = new Set(this.upstreamsOf(action.instanceIds));
        this.fence?.check();
        await this.deps.edge.setUpstreams(
          this.routeId,
          current.filter((u) => !remove.has(u)),
        );
        return undefined;
      }
      case 'stop': {
        const instance = this.instances.find((i) => i.id === action.instanceId);
        if (!instance) return undefined;
        const upstream = upstreamOf(instance);
        // Drain before stop: requests still running on it would be reset by SIGTERM.
        if (upstream)
          await this.deps.edge.drain(this.routeId, upstream, { timeoutMs: this.plan.drainMs });
        // The drain took a while: whoever holds the lease now may count on this instance.
        this.fence?.check();
        await this.deps.runtime.stop(instance, { timeoutSeconds: 10 });
        await this.deps.runtime.remove(instance);
        return undefined;
      }
      case 'finish':
        return this.finish(action);
    }
  }

  private async finish(action: Extract<Action, { kind: 'finish' }>): Promise<RolloutRecord> {
    const { app, env } = this.rec;
    if (action.outcome === 'succeeded') {
      await this.deps.rollouts.updateEnv(app, env, {
        current: { ...this.rec.to, rolloutId: this.rec.id, since: new Date().toISOString() },
      });
    } else if (action.outcome === 'failed') {
      // A revision that failed is not retried automatically for the same commit.
      await this.deps.rollouts.markFailed(app, env, this.rec.to.sha);
    }
    const reason =
      action.failure?.detail ??
      (action.outcome === 'succeeded'
        ? `${this.plan.replicas} × ${short(this.rec.to.sha)} serving`
        : action.outcome);
    if (action.outcome === 'succeeded') await pruneImages(this.deps, app);
    // After a rollback the environment stays on the restored revision (a pin); a deploy ends it.
    await settlePin(this.deps, this.rec, action);
    const phase = describePhase(phaseOf(this.plan, this.state));
    this.deps.log.info(
      { rollout: this.rec.id, app, env, outcome: action.outcome, phase },
      'rollout finished',
    );
    return finishRecord(
      this.deps,
      { ...this.rec, state: this.state },
      action.outcome,
      reason,
      this.fence,
    );
  }
}
