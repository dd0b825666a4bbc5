/**
 * Holds one environment to its record between rollouts, as an ordered list of small steps (Flux's
 * reconcile habit): skip while a rollout holds the environment → read the record → take the
 * environment's lease → observe (instances, edge route, probes) → decide (pure, heal.ts) → act
 * through the executor the rollout uses → tell what changed → write the status once.
 */
import type { Logger } from 'pino';
import type { AppSpec } from '../config/app-spec.js';
import { specForEnv } from '../config/spec-for-env.js';
import { ActionExecutor } from '../deploy/executor.js';
import { EMPTY_CONFIG, instanceSpec, type ReleaseConfig } from '../deploy/instance-spec.js';
import { observe } from '../deploy/observe.js';
import { ProbeSet, schedulesOf } from '../deploy/probe-set.js';
import type { RolloutDeps } from '../deploy/rollout-deps.js';
import { isUnreachable } from '../deploy/rollout-loop.js';
import { ensureEnvRoute } from '../deploy/rollout-record.js';
import { onTarget } from '../deploy/targets.js';
import { waitingNow } from '../deploy/runner-events.js';
import type { RouteSpec } from '../edge/edge.js';
import { errorMessage, GantryError } from '../errors.js';
import { Lease } from '../queue/app-lock.js';
import { instanceRelease, processPlans, type RolloutPlan } from '../rollout/index.js';
import type { Instance, UnreachableHost } from '../runtime/runtime.js';
import { describeUnreachable, surveyOf } from '../runtime/survey.js';
import { specAt } from '../source/spec-at.js';
import type { AppRecord, EnvState, EnvStatus, RolloutRecord } from '../store/records.js';
import { secretRedactor } from '../release/redact-secrets.js';
import { healEventKind, healEventText, type HealEvent } from './events.js';
import type { HealInstance, HealPlan, HealState } from './heal.js';
import { healProcesses, type ProcessesDecision } from './heal-processes.js';
import { statusOf, type StatusFacts } from './status.js';

export interface EnvReconcilerDeps extends RolloutDeps {
  /** Names this controller in leases. */
  readonly controllerId: string;
  readonly selfHeal: boolean;
  readonly strayGraceMs: number;
  /** Whether a rollout of the environment is queued, running or waiting to resume. */
  rolloutPending(rec: RolloutRecord): Promise<boolean>;
  /** Orphaned environments are pruned by themselves (config `reconcile.prune`). */
  autoPrune?: ((app: string, env: string) => Promise<void>) | undefined;
}

/** What one pass asks of the scheduler: when to look again (ms), or nothing special. */
export interface PassResult {
  readonly again: number | null;
}

const LEASE_MS = 10_000;
/** While repairing (starts pending, instances leaving), look again this soon. */
const REPAIR_TICK_MS = 500;
/** While a rollout holds the environment, or something did not answer: look again this soon. */
const BUSY_RETRY_MS = 2_000;
/**
 * How long a route the edge still has is trusted as last ensured for the same revision. A full
 * ensure is a dozen admin calls, two of which read every route of the edge: once per pass, that
 * was most of an idle controller's work with many apps. A route found missing is restored at once.
 */
const ROUTE_RECHECK_MS = 5 * 60_000;

export class EnvReconciler {
  /** Per process type. */
  private states: Readonly<Record<string, HealState>> = {};
  private probes: ProbeSet;
  private readonly knownRollouts = new Set<string>();
  private spec: { sha: string; spec: AppSpec } | undefined;
  /** The current release's config (secrets opened), for replacements; by release number. */
  private config: { release: number; config: ReleaseConfig } | undefined;
  private plan: HealPlan | undefined;
  private owner: Lease | undefined;
  private lastStatus: EnvStatus | undefined;
  /** The last full ensure of the route: for which revision, and when (ms). */
  private routeEnsured: { sha: string; at: number } | undefined;
  private readonly log: Logger;

  constructor(
    private deps: EnvReconcilerDeps,
    readonly app: string,
    readonly env: string,
    /** Asks the scheduler for a pass soon (a probe result that may change a verdict). */
    private readonly wake: () => void,
  ) {
    this.log = deps.log.child({ app, env, component: 'reconcile' });
    this.probes = this.newProbes();
  }

  private newProbes(): ProbeSet {
    return new ProbeSet(this.deps.runtime, (id, r) => {
      // A failure of a healthy instance, or a pass of one not yet healthy, may change a verdict.
      const health = Object.values(this.states).find((s) => s.instances[id])?.instances[id]?.health
        .status;
      if ((health === 'healthy') !== r.ok) this.wake();
    });
  }

  /** Holds the environment on the target its last rollout deployed to (src/deploy/targets.ts). */
  private useTarget(envState: EnvState): void {
    const target = this.deps.targets?.ofState(envState);
    if (!target || target.runtime === this.deps.runtime) return;
    this.forgetAll();
    this.deps = onTarget(this.deps, target);
    this.probes = this.newProbes();
    // Loaded again, so the new probes get its secrets' redaction.
    this.config = undefined;
  }

  /** Whether this controller reconciles the environment (one controller at a time). */
  async claim(): Promise<boolean> {
    if (this.owner?.held()) return true;
    await this.owner?.release().catch(() => undefined);
    this.owner = await Lease.acquire(
      this.deps.store.redis,
      this.deps.store.keys.reconcileOwner(this.app, this.env),
      `reconcile:${this.deps.controllerId}`,
      LEASE_MS * 1.5,
    );
    if (!this.owner) this.forgetAll();
    return this.owner !== undefined;
  }

  async close(): Promise<void> {
    this.forgetAll();
    await this.owner?.release().catch(() => undefined);
    this.owner = undefined;
  }

  private forgetAll(): void {
    this.probes.stop();
    this.states = {};
    // A rollout or another controller may have changed the route meanwhile.
    this.routeEnsured = undefined;
  }

  /** One pass; never throws (what failed goes into the status and the log). */
  async pass(now = Date.now()): Promise<PassResult> {
    try {
      return await this.reconcile(now);
    } catch (e) {
      this.log.warn({ err: errorMessage(e) }, 'reconcile pass failed');
      return { again: BUSY_RETRY_MS };
    }
  }

  private async reconcile(now: number): Promise<PassResult> {
    if (!(await this.claim())) return { again: null };
    const { rollouts } = this.deps;
    const envState = await rollouts.env(this.app, this.env);
    if (!envState.current) return { again: null };
    this.useTarget(envState);
    // Read once a pass: the orphan check, the spec and the status's head all need it.
    const appRec = await this.deps.store.getApp(this.app);

    // 1. A rollout in flight owns the environment; its own record tells its progress.
    const [latest] = await rollouts.list(this.app, this.env, 1);
    if (latest && !latest.outcome && latest.plan && (await this.deps.rolloutPending(latest))) {
      this.forgetAll();
      // A rollout waiting for an unreachable engine says so in the status, not only in its events.
      const waiting = waitingNow(await rollouts.events(latest.id));
      const inFlight = waiting ? `${latest.id} (${waiting})` : latest.id;
      await this.writeStatus(
        this.facts(envState, null, now, { rolloutInFlight: inFlight }),
        appRec,
      );
      return { again: BUSY_RETRY_MS };
    }

    // 2. What the record says should run.
    const rec = await rollouts.get(envState.current.rolloutId);
    const recPlan = rec?.plan as RolloutPlan | undefined;
    if (!recPlan) {
      this.log.warn(
        { rollout: envState.current.rolloutId },
        'the current release has no rollout record',
      );
      return { again: null };
    }
    const orphaned = this.orphanedWhy(appRec);
    const spec = orphaned || !appRec ? undefined : await this.specOf(envState.current.sha, appRec);
    const selfHeal = this.deps.selfHeal && (spec?.selfHeal ?? true) && orphaned === null;
    this.knownRollouts.add(envState.current.rolloutId);

    // 3. Only while holding the environment's lease: no rollout acts, no other controller repairs.
    const lease = await Lease.acquire(
      this.deps.store.redis,
      this.deps.store.keys.rolloutLease(this.app, this.env),
      `reconcile:${this.deps.controllerId}`,
      LEASE_MS,
    );
    if (!lease) {
      await this.writeStatus(
        this.facts(envState, null, now, {
          rolloutInFlight: 'waiting for the environment lease',
        }),
        appRec,
      );
      return { again: BUSY_RETRY_MS };
    }
    try {
      return await this.repair(envState, appRec, recPlan, spec, selfHeal, orphaned, lease, now);
    } finally {
      await lease.release().catch(() => undefined);
    }
  }

  private async repair(
    envState: EnvState,
    appRec: AppRecord | undefined,
    recPlan: RolloutPlan,
    spec: AppSpec | undefined,
    selfHeal: boolean,
    orphaned: string | null,
    lease: Lease,
    now: number,
  ): Promise<PassResult> {
    const current = envState.current!;
    const events: HealEvent[] = [];
    const edge = await this.route(envState, spec, selfHeal, events, now);
    const route = edge?.route;
    let instances: Instance[];
    let away: readonly UnreachableHost[];
    try {
      // The hosts that answer are healed; one that does not is named, its instances unknown.
      ({ instances, unreachable: away } = await surveyOf(this.deps.runtime, {
        app: this.app,
        env: this.env,
      }));
    } catch (e) {
      if (!isUnreachable(e)) throw e;
      await this.writeStatus(
        this.facts(envState, null, now, {
          unreachable: { what: 'engine', detail: errorMessage(e) },
          orphaned: orphaned ? { why: orphaned } : null,
        }),
        appRec,
      );
      return { again: BUSY_RETRY_MS };
    }
    // Instances are labelled with (and start with the config of) the release they belong to.
    const config = selfHeal ? await this.configOf(instanceRelease(current)) : EMPTY_CONFIG;
    const executor = this.executor(route?.id, spec, current.rolloutId, lease, config);
    executor?.observed(instances);
    let routed = new Set<string>();
    let upstreams: string[] = [];
    if (route && executor) {
      upstreams = edge.upstreams ?? (await this.deps.edge.upstreams(route.id));
      if (selfHeal) {
        const { kept, dropped } = await executor.dropStrayUpstreams(upstreams);
        if (dropped.length > 0)
          events.push({ kind: 'upstreams-dropped', at: now, upstreams: dropped });
        upstreams = kept;
      }
      routed = new Set(upstreams);
    }
    const processes = processPlans(recPlan);
    this.probes.sync(instances, schedulesOf(processes));
    await this.learnRollouts(instances);
    const byId = new Map(instances.map((i) => [i.id, i]));
    const seen: HealInstance[] = observe(instances, routed, this.probes.log, null).instances.map(
      (o) => ({
        ...o,
        rolloutId: byId.get(o.id)?.rolloutId ?? '',
        image: byId.get(o.id)?.image ?? '',
      }),
    );
    this.plan = {
      app: this.app,
      env: this.env,
      rolloutId: current.rolloutId,
      revision: {
        sha: current.sha,
        image: current.image,
        ...(current.release === undefined ? {} : { release: current.release }),
        ...(current.instancesOf === undefined ? {} : { instancesOf: current.instancesOf }),
      },
      replicas: processes.reduce((n, p) => n + p.replicas, 0),
      maxSurge: Math.max(1, recPlan.maxSurge),
      hosts: this.deps.runtime.hosts().filter((h) => !away.some((a) => a.host === h)),
      ...(away.length > 0 ? { unreachable: away.map((a) => a.host) } : {}),
      health: recPlan.health,
      strayGraceMs: this.deps.strayGraceMs,
      selfHeal,
      knownRollouts: [...this.knownRollouts],
    };
    const decision = healProcesses(this.plan, processes, this.states, seen, now);
    this.states = decision.states;
    events.push(...decision.events);

    let failure: string | undefined;
    if (executor) {
      for (const action of decision.actions) {
        if (action.kind === 'finish') continue;
        lease.check();
        try {
          await executor.apply(action);
        } catch (e) {
          failure = errorMessage(e);
          this.log.warn({ err: failure, action: action.kind }, 'repair action failed');
          break;
        }
      }
    }
    await this.tell(events);
    const facts = this.facts(envState, decision, now, {
      orphaned: orphaned ? { why: orphaned } : null,
      route: route ? { id: route.id, url: envState.route?.url ?? '', upstreams } : null,
      selfHeal,
      ...(failure
        ? { unreachable: { what: 'engine' as const, detail: failure } }
        : away.length > 0
          ? { unreachable: { what: 'hosts' as const, detail: describeUnreachable(away) } }
          : {}),
    });
    await this.writeStatus(facts, appRec);
    if (orphaned && this.deps.autoPrune) {
      await lease.release();
      await this.deps.autoPrune(this.app, this.env);
      return { again: null };
    }
    const repairing = selfHeal && (decision.pendingStarts > 0 || decision.actions.length > 0);
    const settling = decision.judged.some((j) => j.verdict === 'starting' || j.verdict === 'stray');
    const backoff = decision.backoffUntil === null ? null : decision.backoffUntil - now;
    return {
      again: failure
        ? BUSY_RETRY_MS
        : repairing
          ? REPAIR_TICK_MS
          : backoff !== null
            ? backoff
            : settling
              ? this.plan.health.intervalMs
              : null,
    };
  }

  /**
   * The environment's edge route, restored when the edge lost it, with its upstreams when the edge
   * had it (undefined: just restored); undefined for a Service edge that cannot say.
   */
  private async route(
    envState: EnvState,
    spec: AppSpec | undefined,
    selfHeal: boolean,
    events: HealEvent[],
    now: number,
  ): Promise<{ route: RouteSpec; upstreams: string[] | undefined } | undefined> {
    const known = envState.route;
    if (!known) return undefined;
    const route: RouteSpec = {
      id: known.id,
      listen: { host: known.host, port: known.port },
      ...(known.domains?.length ? { domains: known.domains } : {}),
    };
    const upstreams = await this.deps.edge.upstreams(known.id).catch((e: unknown) => {
      if (e instanceof GantryError && e.code === 'GANTRY_ERR_NOT_FOUND') return undefined;
      throw e;
    });
    const present = upstreams !== undefined;
    if (!present && !selfHeal) return undefined;
    const sha = envState.current?.sha ?? '';
    const ensured = this.routeEnsured;
    if (!present || ensured?.sha !== sha || now - ensured.at >= ROUTE_RECHECK_MS) {
      if (spec) await ensureEnvRoute(this.deps, this.app, this.env, spec, envState);
      else await this.deps.edge.ensureRoute(route);
      this.routeEnsured = { sha, at: now };
    }
    if (!present) events.push({ kind: 'route-restored', at: Date.now(), routeId: known.id });
    return { route, upstreams };
  }

  private executor(
    routeId: string | undefined,
    spec: AppSpec | undefined,
    rolloutId: string,
    lease: Lease,
    config: ReleaseConfig,
  ) {
    if (routeId === undefined) return undefined;
    return new ActionExecutor({
      runtime: this.deps.runtime,
      edge: this.deps.edge,
      log: this.log,
      routeId,
      drainMs: 1000,
      check: () => lease.check(),
      actor: { reconcile: this.deps.controllerId },
      startSpec: (a) => {
        if (!spec)
          throw new GantryError('GANTRY_ERR_SPEC_MISSING', 'no spec to start an instance from');
        return instanceSpec({
          spec,
          env: this.env,
          rolloutId,
          slot: a.slot,
          revision: a.revision,
          image: a.image,
          host: a.host,
          release: a.release,
          process: a.process,
          config,
        });
      },
    });
  }

  /** The config replacements of `release` start with; releases are immutable, so it is cached. */
  private async configOf(release: number | undefined): Promise<ReleaseConfig> {
    if (release === undefined) return EMPTY_CONFIG;
    if (this.config?.release === release) return this.config.config;
    const rel = await this.deps.releases.require(this.app, this.env, release);
    const config = {
      vars: rel.config.vars,
      secrets: await this.deps.config.open(this.app, this.env, rel.config.secrets),
    };
    this.config = { release, config };
    this.probes.redacting(secretRedactor(Object.values(config.secrets)));
    return config;
  }

  /** Rollout ids seen on instances that have a record: theirs are not strays. */
  private async learnRollouts(instances: readonly Instance[]): Promise<void> {
    for (const id of new Set(instances.map((i) => i.rolloutId))) {
      if (this.knownRollouts.has(id)) continue;
      if (await this.deps.rollouts.get(id)) this.knownRollouts.add(id);
    }
  }

  private async specOf(sha: string, appRec: AppRecord): Promise<AppSpec> {
    if (this.spec?.sha === sha) return this.spec.spec;
    const revision = await this.deps.store.getRevision(this.app, sha);
    const spec = specForEnv(
      await specAt(this.deps.repos.get(appRec.repo), appRec.path, sha, revision?.branch ?? 'main'),
      this.env,
    );
    this.spec = { sha, spec };
    return spec;
  }

  /** Why the environment no longer belongs to any app the controller follows, or null. */
  private orphanedWhy(appRec: AppRecord | undefined): string | null {
    if (!appRec) return `app ${this.app} is no longer known`;
    if (!this.deps.repos.all().some((r) => r.config.name === appRec.repo))
      return `repo ${appRec.repo} is no longer in the controller config`;
    if (!(this.env in appRec.environments))
      return `environment ${this.env} is no longer in ${appRec.path ? `${appRec.path}/` : ''}gantry.yaml`;
    return null;
  }

  private facts(
    envState: EnvState,
    decision: ProcessesDecision | null,
    now: number,
    extra: Partial<StatusFacts>,
  ): StatusFacts {
    const current = envState.current;
    return {
      app: this.app,
      env: this.env,
      desired: current
        ? {
            sha: current.sha,
            image: current.image,
            replicas: this.plan?.replicas ?? 0,
            rolloutId: current.rolloutId,
          }
        : null,
      judged: decision?.judged ?? [],
      processes: decision?.processes ?? [],
      backoffUntil: decision?.backoffUntil ?? null,
      pendingStarts: decision?.pendingStarts ?? 0,
      drift: decision?.drift ?? [],
      route:
        extra.route ??
        (envState.route ? { id: envState.route.id, url: envState.route.url, upstreams: [] } : null),
      selfHeal: extra.selfHeal ?? this.plan?.selfHeal ?? this.deps.selfHeal,
      orphaned: extra.orphaned ?? null,
      rolloutInFlight: extra.rolloutInFlight ?? null,
      head: null,
      pinned: envState.pin ? { sha: envState.pin.sha, reason: envState.pin.reason } : null,
      locked: envState.lock ? { reason: envState.lock.reason } : null,
      headFailed: false,
      unreachable: extra.unreachable ?? null,
      now,
    };
  }

  /** Writes the status, with the branch's head for the sync verdict; tells an orphaning once. */
  private async writeStatus(facts: StatusFacts, appRec: AppRecord | undefined): Promise<void> {
    const head = await this.headOf(appRec);
    const headFailed = head ? await this.deps.rollouts.hasFailed(this.app, this.env, head) : false;
    const status = statusOf({ ...facts, head, headFailed });
    const before = this.lastStatus ?? (await this.deps.rollouts.status(this.app, this.env));
    if (status.orphaned && !before?.orphaned) {
      await this.tell([{ kind: 'orphaned', at: facts.now, why: status.orphaned.why }]);
    }
    this.lastStatus = status;
    await this.deps.rollouts.putStatus(status);
  }

  /**
   * The newest commit of the environment's branch that has a revision record, if known: the
   * branch head, or — when path filters skipped the app there — its newest revision on the branch.
   */
  private async headOf(appRec: AppRecord | undefined): Promise<string | null> {
    const branch = appRec?.environments[this.env]?.branch;
    if (!appRec || !branch) return null;
    const head = await this.deps.store.latestHead(appRec.repo, branch);
    if (!head || (await this.deps.store.getRevision(this.app, head))) return head ?? null;
    const revisions = await this.deps.store.listRevisions(this.app);
    return revisions.find((r) => r.branch === branch)?.sha ?? head;
  }

  private async tell(events: readonly HealEvent[]): Promise<void> {
    if (events.length === 0) return;
    for (const e of events) this.log.info({ event: e.kind }, healEventText(e));
    await this.deps.rollouts.appendEnvEvents(
      this.app,
      this.env,
      events.map((e) => ({ at: e.at, kind: healEventKind(e), text: healEventText(e), data: e })),
    );
  }
}
