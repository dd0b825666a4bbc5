/**
 * The observe → decide → persist → act loop of one rollout in this process. The decisions are
 * the pure core's (src/rollout); the actions go through the executor the reconciler shares.
 * Pacing: the loop never waits for nothing. After a step that acted it looks again at once (what
 * it did is the news); otherwise it sleeps until a probe result, a background stop ending, the
 * core's next deadline (a drain, the bake) or, at the latest, a tick. A new instance is probed as
 * soon as its start returns. Stops (drain at the edge, SIGTERM, remove) run in the background:
 * the next new instance boots while the old one leaves, within the core's surge budget.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppSpec } from '../config/app-spec.js';
import { trafficOf } from '../edge/edge.js';
import { GantryError } from '../errors.js';
import {
  assertNever,
  decide,
  nextDue,
  processPlans,
  standStill,
  type Intent,
  type RolloutEvent,
  type RolloutPlan,
  type RolloutState,
} from '../rollout/index.js';
import type { Instance, UnreachableHost } from '../runtime/runtime.js';
import { surveyOf, unreachableError } from '../runtime/survey.js';
import type { RolloutEventRecord, RolloutRecord } from '../store/records.js';
import { ActionExecutor, type StartAction, type StopAction } from './executor.js';
import { instanceSpec, type ReleaseConfig } from './instance-spec.js';
import { configOf } from './release-config.js';
import { secretRedactor, type Redact } from '../release/redact-secrets.js';
import { observe, upstreamOf } from './observe.js';
import { restartsAfterOutage } from './outage.js';
import { ProbeSet, schedulesOf, type ScheduleOf } from './probe-set.js';
import type { Fence, RolloutDeps } from './rollout-deps.js';
import { coreLine, runnerLine } from './runner-events.js';
import { persist, settle } from './settle.js';
import { Waker } from './waker.js';

const FAILURE_LOG_LINES = 30;
const DEFAULT_RUNTIME_WAIT_MS = 120_000;
const RUNTIME_RETRY_MS = 1000;
/** After a step that acted, the next look comes this soon: enough for the world to answer. */
const ACTED_GAP_MS = 10;
/**
 * How long a stop waits for the requests the edge still counts on an instance (it returns as soon
 * as there are none): as long as `docker stop` gives a process to end. Stops run in the
 * background, so a long request holds its instance, not the rollout.
 */
const EDGE_DRAIN_TIMEOUT_MS = 10_000;

function parseIntents(raw: string[]): Intent[] {
  return raw
    .filter((r): r is Intent['kind'] => ['pause', 'resume', 'abort'].includes(r))
    .map((kind) => ({ kind }));
}

/** An engine (or edge) that does not answer: worth waiting for, not a verdict on the revision. */
export function isUnreachable(e: unknown): boolean {
  return (
    e instanceof GantryError &&
    (e.code === 'GANTRY_ERR_DOCKER_UNAVAILABLE' ||
      e.code === 'GANTRY_ERR_KUBERNETES_UNAVAILABLE' ||
      e.code === 'GANTRY_ERR_EDGE_UNAVAILABLE')
  );
}

export class RolloutLoop {
  private readonly probes: ProbeSet;
  private readonly plan: RolloutPlan;
  private readonly executor: ActionExecutor;
  private state: RolloutState;
  private instances: Instance[] = [];
  private readonly redact: Redact;
  private readonly schedules: ScheduleOf;
  private readonly waker = new Waker();
  /** Stops under way in the background, by instance id; each runs once however often asked. */
  private readonly stopping = new Map<string, Promise<void>>();
  private stopFailure: { error: unknown } | undefined;
  /** Whether the last step did anything (stops already under way aside). */
  private acted = false;
  /** Since when some (not all) of the hosts have not answered. */
  private hostsAwaySince: number | undefined;

  constructor(
    private readonly deps: RolloutDeps,
    private rec: RolloutRecord,
    spec: AppSpec,
    private readonly routeId: string,
    configs: ReadonlyMap<number | undefined, ReleaseConfig>,
    private readonly fence: Fence | undefined,
  ) {
    this.plan = rec.plan as RolloutPlan;
    this.state = rec.state as RolloutState;
    // Every secret value of both releases, kept out of probe details and failure evidence.
    this.redact = secretRedactor([...configs.values()].flatMap((c) => Object.values(c.secrets)));
    // Every result may be the one the core waits for: look at once.
    this.probes = new ProbeSet(deps.runtime, () => this.waker.wake()).redacting(this.redact);
    this.schedules = schedulesOf(processPlans(this.plan));
    this.executor = new ActionExecutor({
      runtime: deps.runtime,
      edge: deps.edge,
      log: deps.log,
      routeId,
      drainMs: EDGE_DRAIN_TIMEOUT_MS,
      // The core keeps an old instance out of the edge plan.drainMs before it stops it.
      drainQuietMs: 0,
      check: fence ? () => fence.check() : undefined,
      actor: { rollout: rec.id, ...(fence ? { attempt: fence.owner } : {}) },
      startSpec: (a) =>
        instanceSpec({
          spec,
          env: rec.env,
          rolloutId: rec.id,
          slot: a.slot,
          revision: a.revision,
          image: a.image,
          host: a.host,
          release: a.release,
          process: a.process,
          config: configOf(configs, a.release),
        }),
    });
  }

  close(): void {
    this.probes.stop();
  }

  async run(): Promise<RolloutRecord> {
    let outage: { since: number } | undefined;
    for (;;) {
      try {
        if (outage) {
          // Before the core decides anything: what the engine stopped while it was away is
          // started again (this listing is also the proof that it answers), and the clocks of
          // the rollout (progress deadline, bake) stood still while nothing answered, or a long
          // wait would read as a missed deadline.
          await this.restartAfterOutage();
          const waitedMs = Date.now() - outage.since;
          this.state = standStill(this.state, waitedMs);
          await this.line(
            runnerLine({ kind: 'reachable', at: Date.now(), on: 'runtime', waitedMs }),
          );
          outage = undefined;
        }
        const finished = await this.step();
        if (finished) return finished;
        await this.waker.wait(this.pause());
      } catch (e) {
        if (!isUnreachable(e)) throw e;
        const now = Date.now();
        if (!outage) {
          outage = { since: now };
          const detail = `${(e as Error).message}; acting on nothing until it answers`;
          await this.line(runnerLine({ kind: 'waiting', at: now, on: 'runtime', detail }));
        }
        if (now - outage.since > this.runtimeWaitMs()) throw e;
        this.fence?.check();
        await sleep(RUNTIME_RETRY_MS);
      }
    }
  }

  /** How long to sleep after a step (a wake ends it sooner). */
  private pause(): number {
    if (this.acted) return ACTED_GAP_MS;
    const due = nextDue(this.plan, this.state);
    const tick = this.deps.tickMs;
    return due === null ? tick : Math.max(0, Math.min(tick, due - Date.now()));
  }

  /** One observe → decide → persist → act; the final record when the rollout is over. */
  private async step(): Promise<RolloutRecord | undefined> {
    // A stop that failed in the background fails here, as it would have in line.
    const failed = this.stopFailure;
    this.stopFailure = undefined;
    if (failed) throw failed.error;
    this.acted = false;
    const now = Date.now();
    const observed = await this.observeWorld();
    // Before reading intents: a process that lost the lease must leave them to the holder.
    this.fence?.check();
    // Peek, decide, persist, then acknowledge: an intent is deleted only once a saved decision
    // has applied it. A crash in between applies it again on resume, which is harmless (a second
    // pause, resume or abort of a state that already has it is ignored), where deleting it first
    // would lose an abort the API already answered with 202.
    const raw = await this.deps.rollouts.peekIntents(this.rec.id);
    const intents = parseIntents(raw);
    const decision = decide({ plan: this.plan, state: this.state, observed, intents, now });
    this.state = decision.state;
    // Persist before acting: a process that dies mid-action resumes from a state that already
    // asked for it, and every action is safe to repeat.
    this.rec = { ...this.rec, state: this.state };
    await persist(this.deps, this.rec, this.fence);
    await this.deps.rollouts.appendEvents(this.rec, decision.events.map(coreLine));
    // Acknowledged last: the decision and its events ("abort applied") are saved by now. A write
    // that found the lease taken saved nothing, and `persist` threw: the intents stay for the holder.
    await this.deps.rollouts.ackIntents(this.rec.id, raw.length);
    await this.keepFailureLogs(decision.events);
    const routes = decision.actions.flatMap((a) => (a.kind === 'route' ? a.instanceIds : []));
    const unroutes = decision.actions.flatMap((a) => (a.kind === 'unroute' ? a.instanceIds : []));
    const starts = decision.actions.filter((a): a is StartAction => a.kind === 'start');
    let rerouted = false;
    let started = false;
    for (const action of decision.actions) {
      // An action can take a while: check again before each one.
      this.fence?.check();
      switch (action.kind) {
        case 'finish':
          // Nothing of this rollout acts after its outcome is recorded.
          await Promise.allSettled(this.stopping.values());
          return settle(
            this.deps,
            { ...this.rec, state: this.state },
            this.plan,
            action,
            this.fence,
          );
        case 'stop':
          this.stopInBackground(action);
          break;
        case 'start':
          if (!started) await this.startAll(starts);
          started = true;
          break;
        case 'route':
        case 'unroute':
          // Both in one edge write, where the first of them stands (routes come first).
          if (!rerouted) await this.executor.reroute(routes, unroutes);
          rerouted = true;
          this.acted = true;
          break;
        default:
          assertNever(action);
      }
    }
    return undefined;
  }

  /**
   * A decision's starts side by side (with maxSurge > 1 the containers boot together); each is
   * probed as soon as its own start returns. The first failure fails the step, as in line.
   */
  private async startAll(actions: readonly StartAction[]): Promise<void> {
    this.acted = true;
    const results = await Promise.allSettled(
      actions.map(async (a) => this.probeAtOnce(await this.executor.start(a))),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** A started instance is probed now, not from the next observation on. */
  private probeAtOnce(started: Instance): void {
    this.instances = [...this.instances.filter((i) => i.id !== started.id), started];
    this.executor.observed(this.instances);
    this.probes.sync(this.instances, this.schedules);
  }

  /**
   * Drains, stops and removes an instance while the loop goes on; the core asks again every step
   * until the instance is gone, which is a no-op while this one runs.
   */
  private stopInBackground(action: StopAction): void {
    if (this.stopping.has(action.instanceId)) return;
    this.acted = true;
    const done = this.executor
      .apply(action)
      .catch((error: unknown) => {
        this.stopFailure ??= { error };
      })
      .finally(() => {
        this.stopping.delete(action.instanceId);
        this.waker.wake();
      });
    this.stopping.set(action.instanceId, done);
  }

  /** Starts again the instances a restarting engine left stopped (see outage.ts). */
  private async restartAfterOutage(): Promise<void> {
    // On the hosts that answer; one still away is waited for below (waitForHosts).
    const { instances, unreachable } = await surveyOf(this.deps.runtime, {
      app: this.rec.app,
      env: this.rec.env,
    });
    this.executor.observed(instances);
    for (const action of restartsAfterOutage(this.state, instances, this.plan.health.maxRestarts)) {
      this.fence?.check();
      this.deps.log.info(
        { rollout: this.rec.id, slot: action.slot },
        'starting again an instance the engine stopped while it was unreachable',
      );
      await this.executor.apply(action);
    }
    // A host still away within the wait keeps the outage open (`run`): one waiting line and one
    // stand-still for the whole wait, not a waiting/reachable pair per retry.
    this.waitForHosts(unreachable);
  }

  /** A line of the runner's own; best effort, as the runtime or Redis may be what failed. */
  private async line(l: RolloutEventRecord): Promise<void> {
    await this.deps.rollouts.appendEvents(this.rec, [l]).catch(() => undefined);
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
      const lines = [...why, ...logs].map(this.redact);
      this.rec = { ...this.rec, failureLogs: { slot: instance.slot, lines } };
      await persist(this.deps, this.rec, this.fence);
    }
  }

  private async observeWorld() {
    const survey = await surveyOf(this.deps.runtime, { app: this.rec.app, env: this.rec.env });
    this.waitForHosts(survey.unreachable);
    this.instances = survey.instances;
    this.executor.observed(this.instances);
    const upstreams = await this.deps.edge.upstreams(this.routeId);
    const { kept } = await this.executor.dropStrayUpstreams(upstreams);
    const routed = new Set(kept);
    this.probes.sync(this.instances, this.schedules);
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
    return {
      ...observe(this.instances, routed, this.probes.log, edgeStats),
      unreachable: survey.unreachable,
    };
  }

  /**
   * A host of several that stops answering is waited for like a whole engine (`run`), as long as
   * the engine wait: an engine restart takes seconds. Past it, the core hears of the host and
   * fails the rollout, rolling back on the hosts that answer.
   */
  private waitForHosts(unreachable: readonly UnreachableHost[]): void {
    if (unreachable.length === 0) {
      this.hostsAwaySince = undefined;
      return;
    }
    const now = Date.now();
    this.hostsAwaySince ??= now;
    if (now - this.hostsAwaySince <= this.runtimeWaitMs()) throw unreachableError(unreachable);
  }

  private runtimeWaitMs(): number {
    return this.deps.runtimeWaitMs ?? DEFAULT_RUNTIME_WAIT_MS;
  }
}
