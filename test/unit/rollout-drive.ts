/**
 * The executor loop in miniature, and the plans the rollout tests share. Test helper.
 */
import type { AppSpec } from '../../src/config/app-spec.js';
import {
  decide,
  initialState,
  planRollout,
  type Decision,
  type Intent,
  type PlanInput,
  type RolloutPlan,
  type RolloutState,
} from '../../src/rollout/index.js';
import type { FinishAction, World } from './rollout-world.js';

/** A crash of the controller at one step: only a prefix of the actions lands, and maybe the persisted state is lost. */
export interface Crash {
  /** How many of the step's actions were applied before the crash. */
  readonly applied: number;
  /** The state persisted by this step was lost: the next process resumes from the one before. */
  readonly stateLost: boolean;
}

export interface DriveOptions {
  readonly maxSteps?: number;
  readonly intents?: (step: number) => Intent[];
  readonly crashAt?: (step: number) => Crash | undefined;
  /** Called after each step's actions are applied; return false to stop driving. */
  readonly onStep?: (step: number, decision: Decision, world: World) => boolean | void;
}

export interface Drive {
  readonly state: RolloutState;
  /** The first finish action applied: the outcome as recorded. */
  readonly finish: FinishAction | null;
  readonly decisions: Decision[];
  readonly steps: number;
}

/**
 * The executor loop, in miniature: observe → decide → persist (as JSON) → act → let time pass.
 * Persisting before acting means a crash can only lose actions, never decisions.
 */
export function drive(world: World, opts: DriveOptions = {}, from?: RolloutState): Drive {
  const plan = world.plan;
  let state = from ?? initialState(plan);
  let before = state;
  let carried: Intent[] = [];
  const decisions: Decision[] = [];
  const max = opts.maxSteps ?? 500;
  for (let step = 0; step < max; step += 1) {
    const intents = [...carried, ...(opts.intents?.(step) ?? [])];
    const decision = decide({
      plan,
      state,
      observed: world.observe(),
      intents,
      now: world.now,
    });
    decisions.push(decision);
    const persisted = JSON.parse(JSON.stringify(decision.state)) as RolloutState;
    const crash = opts.crashAt?.(step);
    const actions =
      crash === undefined ? decision.actions : decision.actions.slice(0, crash.applied);
    for (const a of actions) world.apply(a);
    const finish = world.finishes[0] ?? null;
    // An executor stops at the first finish it applies, even if the state saying so was lost.
    if (opts.onStep?.(step, decision, world) === false || finish !== null)
      return { state: persisted, finish, decisions, steps: step + 1 };
    // Intents are kept (by the API) until a decision that applied them is persisted.
    if (crash?.stateLost === true) [state, carried] = [before, intents];
    else [state, before, carried] = [persisted, persisted, []];
    world.advance(plan.health.intervalMs);
  }
  return { state, finish: world.finishes[0] ?? null, decisions, steps: max };
}

export const OLD = { sha: 'a'.repeat(40), image: 'registry.local/hello@sha256:' + 'a'.repeat(64) };
export const NEW = { sha: 'b'.repeat(40), image: 'registry.local/hello@sha256:' + 'b'.repeat(64) };

export interface PlanKnobs {
  readonly replicas?: number;
  readonly maxSurge?: number;
  readonly maxUnavailable?: number;
  readonly bakeMs?: number;
  readonly progressDeadlineMs?: number;
  readonly autoRollback?: boolean;
  readonly startPeriodMs?: number;
  readonly healthyThreshold?: number;
  readonly unhealthyThreshold?: number;
  readonly firstDeploy?: boolean;
  readonly hosts?: readonly string[];
  readonly extra?: Partial<PlanInput>;
}

/** A plan with 1 s probes, 2 s drains and small thresholds, so whole rollouts take a few dozen steps. */
export function testPlan(k: PlanKnobs = {}): RolloutPlan {
  const spec: AppSpec = {
    app: 'hello',
    build: { context: '.', dockerfile: 'Dockerfile', target: undefined, args: {} },
    run: {
      port: 8080,
      replicas: k.replicas ?? 3,
      env: {},
      secrets: [],
      resources: { cpu: undefined, memoryBytes: undefined },
    },
    health: {
      check: { kind: 'http', path: '/healthz', expect: 200 },
      intervalMs: 1_000,
      timeoutMs: 500,
      startPeriodMs: k.startPeriodMs ?? 0,
      healthyThreshold: k.healthyThreshold ?? 2,
      unhealthyThreshold: k.unhealthyThreshold ?? 3,
    },
    rollout: {
      maxSurge: k.maxSurge ?? 1,
      maxUnavailable: k.maxUnavailable ?? 0,
      progressDeadlineMs: k.progressDeadlineMs ?? 30_000,
      bakeMs: k.bakeMs ?? 0,
      autoRollback: k.autoRollback ?? true,
    },
    selfHeal: true,
    environments: {
      production: { branch: 'main', target: 'local', domain: undefined, domains: [] },
    },
    overrides: {},
  };
  return planRollout({
    rolloutId: 'r1',
    env: 'production',
    spec,
    from: k.firstDeploy === true ? undefined : OLD,
    to: NEW,
    hosts: k.hosts ?? ['h1', 'h2'],
    drainMs: 2_000,
    ...k.extra,
  });
}
