/**
 * Replica and surge caps (issue 14, item 1): the schema's ceiling, each controller's own caps
 * (deploy.maxReplicas, deploy.maxSurge) with the error that names them, and a decision whose cost
 * grows like n·log n, not n², with the instance count.
 */
import { describe, expect, it } from 'vitest';
import { parseAppSpec } from '../../src/config/app-spec.js';
import { parseControllerConfig } from '../../src/config/controller-config.js';
import {
  DEFAULT_SPEC_LIMITS,
  REPLICAS_CEILING,
  checkSpecLimits,
} from '../../src/config/spec-limits.js';
import { isGantryError } from '../../src/errors.js';
import { heal, EMPTY_HEAL_STATE, type HealInstance } from '../../src/reconcile/heal.js';
import { decide, initialState, type Observed } from '../../src/rollout/index.js';
import { testPlan } from './rollout-drive.js';

const spec = (extra: string): string =>
  `app: hello\nenvironments:\n  production: { branch: main }\n  staging: { branch: dev }\n${extra}`;

function refusal(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    if (isGantryError(e, 'GANTRY_ERR_SPEC_INVALID')) return e.message;
    throw e;
  }
  throw new Error('expected GANTRY_ERR_SPEC_INVALID');
}

describe('the schema ceiling', () => {
  it.each([
    [
      'run.replicas',
      'run: { replicas: 10001 }\n',
      'run.replicas must be an integer from 0 to 10000',
    ],
    [
      'rollout.maxSurge',
      'rollout: { maxSurge: 10001 }\n',
      'rollout.maxSurge must be an integer from 0 to 10000',
    ],
    [
      'an environment override',
      'environments:\n  production: { branch: main, replicas: 20000 }\n',
      'environments.production.replicas must be an integer from 0 to 10000',
    ],
  ])('refuses %s above the ceiling', (_name, extra, says) => {
    const text = extra.startsWith('environments') ? `app: hello\n${extra}` : spec(extra);
    expect(refusal(() => parseAppSpec(text))).toContain(says);
  });

  it('accepts the ceiling itself', () => {
    expect(parseAppSpec(spec(`run: { replicas: ${REPLICAS_CEILING} }\n`)).run.replicas).toBe(
      REPLICAS_CEILING,
    );
  });
});

describe("a controller's caps", () => {
  it('defaults to 200 replicas and a surge of 50, and can be set up to the ceiling', () => {
    const repos = 'repos: [{ name: app, url: "https://git.example.com/acme/app.git" }]\n';
    const opts = { env: {}, baseDir: '/srv/gantry' };
    expect(parseControllerConfig(repos, opts).deploy).toMatchObject(DEFAULT_SPEC_LIMITS);
    const set = parseControllerConfig(
      `${repos}deploy: { maxReplicas: 5000, maxSurge: 500 }\n`,
      opts,
    );
    expect(set.deploy).toMatchObject({ maxReplicas: 5000, maxSurge: 500 });
    expect(() => parseControllerConfig(`${repos}deploy: { maxReplicas: 20000 }\n`, opts)).toThrow(
      /deploy\.maxReplicas/,
    );
  });

  it.each([
    {
      name: 'replicas above the cap',
      extra: 'run: { replicas: 201 }\n',
      says: "run.replicas 201 (environment production) is above this controller's cap of 200 (deploy.maxReplicas in the controller config)",
    },
    {
      name: 'surge above the cap',
      extra: 'rollout: { maxSurge: 51 }\n',
      says: "rollout.maxSurge 51 (environment production) is above this controller's cap of 50 (deploy.maxSurge in the controller config)",
    },
  ])('refuses $name, naming the cap and the config key', ({ extra, says }) => {
    const s = parseAppSpec(spec(extra));
    expect(refusal(() => checkSpecLimits(s, DEFAULT_SPEC_LIMITS))).toContain(says);
  });

  it("checks each environment's own replicas, and only the ones asked about", () => {
    const s = parseAppSpec(
      'app: hello\nenvironments:\n  production: { branch: main, replicas: 500 }\n  staging: { branch: dev }\n',
    );
    expect(refusal(() => checkSpecLimits(s, DEFAULT_SPEC_LIMITS))).toContain(
      'run.replicas 500 (environment production)',
    );
    expect(() => checkSpecLimits(s, DEFAULT_SPEC_LIMITS, ['staging'])).not.toThrow();
    expect(() => checkSpecLimits(s, { maxReplicas: 500, maxSurge: 50 })).not.toThrow();
  });
});

describe('one decision at scale', () => {
  const observedOf = (n: number): HealInstance[] =>
    Array.from({ length: n }, (_, k) => ({
      id: `c${k}`,
      slot: `r0-${k}`,
      revision: 'a'.repeat(40),
      host: `h${(k % 2) + 1}`,
      state: 'running' as const,
      restartCount: 0,
      exitCode: null,
      startedAt: 0,
      routed: true,
      probes: [{ at: 1_000, ok: true, detail: '' }],
      rolloutId: 'r0',
      image: 'reg/hello@sha256:old',
    }));

  // How the time grows with n is measured by bench/decide.ts, not asserted here (no clocks in
  // tests): these cases only show that decisions at that size complete and are right.
  it('adopts and tracks 20,000 running instances in one resumed rollout', () => {
    const n = 20_000;
    const plan = testPlan({ replicas: n, maxSurge: Math.floor(n / 2) });
    const observed: Observed = { instances: observedOf(n), edge: null };
    const first = decide({ plan, state: initialState(plan), observed, intents: [], now: 2_000 });
    const next = decide({ plan, state: first.state, observed, intents: [], now: 3_000 });
    // The old revision's n instances adopted, plus the first surge of new ones asked for.
    for (const d of [first, next]) {
      expect(d.state.instances.filter((i) => i.id !== null)).toHaveLength(n);
      expect(d.state.instances.filter((i) => i.id === null)).toHaveLength(Math.floor(n / 2));
    }
  }, 60_000);

  it('heals 20,000 instances, half of them exited', () => {
    const observed = observedOf(20_000).map((o, k) =>
      k % 2 === 0 ? o : { ...o, state: 'exited' as const, exitCode: 1, routed: false },
    );
    const plan = {
      app: 'hello',
      env: 'production',
      rolloutId: 'r0',
      revision: { sha: 'a'.repeat(40), image: 'reg/hello@sha256:old' },
      replicas: 20_000,
      maxSurge: 10_000,
      hosts: ['h1', 'h2'],
      health: testPlan().health,
      strayGraceMs: 60_000,
      selfHeal: true,
      knownRollouts: ['r0'],
    };
    const d = heal(plan, EMPTY_HEAL_STATE, observed, 2_000);
    expect(d.actions.filter((a) => a.kind === 'start')).toHaveLength(10_000);
  }, 60_000);
});
