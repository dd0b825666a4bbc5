import { describe, expect, it } from 'vitest';
import { parseAppSpec, type AppSpec } from '../../src/config/app-spec.js';
import { specForEnv } from '../../src/config/spec-for-env.js';
import { GantryError } from '../../src/errors.js';

function failure(text: string, file?: string): GantryError {
  try {
    parseAppSpec(text, file);
  } catch (e) {
    if (e instanceof GantryError) return e;
    throw e;
  }
  throw new Error('expected the spec to be rejected');
}

const MI = 2 ** 20;

/** Every top-level value an environment can override, set to something other than its default. */
const BASE = [
  'app: hello',
  'run:',
  '  port: 8080',
  '  replicas: 2',
  '  env: { LOG_LEVEL: info, REGION: eu }',
  '  secrets: [DATABASE_URL]',
  '  resources: { cpu: 0.5, memory: 256Mi }',
  'health: { interval: 2s, timeout: 1s, startPeriod: 10s, healthyThreshold: 2, unhealthyThreshold: 3 }',
  'rollout: { maxSurge: 1, maxUnavailable: 0, progressDeadline: 2m, bake: 0s, autoRollback: true }',
  'environments:',
  '  staging: { branch: develop }',
];

/** BASE with a production environment whose entry ends with `overrides` (flow-mapping body). */
function withProduction(overrides: string): string {
  return [...BASE, `  production: { branch: main, ${overrides} }`, ''].join('\n');
}

const base = parseAppSpec(withProduction('target: local'));

/** `base` with `patch` laid over run, health and rollout: what production should run. */
function expected(patch: {
  run?: Partial<AppSpec['run']>;
  health?: Partial<AppSpec['health']>;
  rollout?: Partial<AppSpec['rollout']>;
}): Omit<AppSpec, 'overrides'> {
  const { overrides: _overrides, ...rest } = base;
  return {
    ...rest,
    run: { ...base.run, ...patch.run },
    health: { ...base.health, ...patch.health },
    rollout: { ...base.rollout, ...patch.rollout },
  };
}

describe('environment overrides: parsed', () => {
  it('keeps no overrides for environments that set none', () => {
    expect(base.overrides).toEqual({});
    expect(parseAppSpec('app: hello\n').overrides).toEqual({});
  });

  it('keeps each environment’s overrides, typed, and only what it sets', () => {
    const spec = parseAppSpec(
      [
        'app: hello',
        'run: { port: 8080, replicas: 2, env: { LOG_LEVEL: info } }',
        'environments:',
        '  production: { branch: main, replicas: 6, env: { LOG_LEVEL: warn }, resources: { memory: 512Mi }, health: { unhealthyThreshold: 5, interval: 5s }, rollout: { maxSurge: 2, bake: 1m } }',
        '  staging: { branch: develop }',
        '',
      ].join('\n'),
    );
    expect(spec.overrides).toEqual({
      production: {
        replicas: 6,
        env: { LOG_LEVEL: 'warn' },
        resources: { memoryBytes: 512 * MI },
        health: { unhealthyThreshold: 5, intervalMs: 5000 },
        rollout: { maxSurge: 2, bakeMs: 60_000 },
      },
    });
    // The binding stays as it was: overrides are not part of where an environment deploys.
    expect(spec.environments.production).toEqual({
      branch: 'main',
      target: 'local',
      domain: undefined,
      domains: [],
    });
    // The top level is what every environment starts from, not production's values.
    expect(spec.run.replicas).toBe(2);
    expect(spec.rollout.maxSurge).toBe(1);
  });
});

describe('specForEnv', () => {
  it.each<{ name: string; overrides: string; production: Omit<AppSpec, 'overrides'> }>([
    { name: 'replicas', overrides: 'replicas: 6', production: expected({ run: { replicas: 6 } }) },
    {
      name: 'replicas scaled to zero',
      overrides: 'replicas: 0',
      production: expected({ run: { replicas: 0 } }),
    },
    {
      name: 'env vars merged over run.env, the environment winning',
      overrides: 'env: { LOG_LEVEL: warn, SENTRY: "on" }',
      production: expected({ run: { env: { LOG_LEVEL: 'warn', REGION: 'eu', SENTRY: 'on' } } }),
    },
    {
      name: 'an empty env changes nothing',
      overrides: 'env: {}',
      production: expected({}),
    },
    {
      name: 'memory alone keeps the top-level cpu',
      overrides: 'resources: { memory: 1Gi }',
      production: expected({ run: { resources: { cpu: 0.5, memoryBytes: 1024 * MI } } }),
    },
    {
      name: 'cpu alone keeps the top-level memory',
      overrides: 'resources: { cpu: 2 }',
      production: expected({ run: { resources: { cpu: 2, memoryBytes: 256 * MI } } }),
    },
    {
      name: 'health thresholds',
      overrides: 'health: { healthyThreshold: 1, unhealthyThreshold: 5 }',
      production: expected({ health: { healthyThreshold: 1, unhealthyThreshold: 5 } }),
    },
    {
      name: 'health timings',
      overrides: 'health: { interval: 500ms, timeout: 3s, startPeriod: 0s }',
      production: expected({ health: { intervalMs: 500, timeoutMs: 3000, startPeriodMs: 0 } }),
    },
    {
      name: 'rollout surge and unavailability',
      overrides: 'rollout: { maxSurge: 0, maxUnavailable: 2 }',
      production: expected({ rollout: { maxSurge: 0, maxUnavailable: 2 } }),
    },
    {
      name: 'rollout deadline, bake and auto-rollback',
      overrides: 'rollout: { progressDeadline: 10m, bake: 30s, autoRollback: false }',
      production: expected({
        rollout: { progressDeadlineMs: 600_000, bakeMs: 30_000, autoRollback: false },
      }),
    },
    {
      name: 'everything at once',
      overrides:
        'replicas: 6, env: { LOG_LEVEL: warn }, resources: { memory: 512Mi }, health: { unhealthyThreshold: 5 }, rollout: { maxSurge: 2 }',
      production: expected({
        run: {
          replicas: 6,
          env: { LOG_LEVEL: 'warn', REGION: 'eu' },
          resources: { cpu: 0.5, memoryBytes: 512 * MI },
        },
        health: { unhealthyThreshold: 5 },
        rollout: { maxSurge: 2 },
      }),
    },
  ])('$name', ({ overrides, production }) => {
    const spec = parseAppSpec(withProduction(overrides));
    const { overrides: _overrides, ...applied } = specForEnv(spec, 'production');
    expect(applied).toEqual(production);
    // Other environments run the top-level values.
    const { overrides: _o, ...staging } = specForEnv(spec, 'staging');
    expect(staging).toEqual(expected({}));
  });

  it('gives back the spec itself for an environment without overrides, or not in the spec', () => {
    const spec = parseAppSpec(withProduction('replicas: 6'));
    expect(specForEnv(spec, 'staging')).toBe(spec);
    expect(specForEnv(spec, 'nowhere')).toBe(spec);
    // Names an object has from its prototype are no environments either.
    expect(specForEnv(spec, 'constructor')).toBe(spec);
  });

  it('is idempotent: applying it to its own result changes nothing', () => {
    const spec = parseAppSpec(withProduction('replicas: 6, env: { A: b }, rollout: { bake: 1s }'));
    const once = specForEnv(spec, 'production');
    expect(specForEnv(once, 'production')).toEqual(once);
  });

  it('does not change the spec it is given', () => {
    const spec = parseAppSpec(withProduction('replicas: 6, env: { LOG_LEVEL: warn }'));
    const before = structuredClone(spec);
    specForEnv(spec, 'production');
    expect(spec).toEqual(before);
  });
});

describe('environment overrides: every error names file, line and column', () => {
  // Production's entry is line 12; its overrides start at column 31, after "branch: main, ".
  it.each<{ name: string; overrides: string; message: string }>([
    {
      name: 'negative replicas',
      overrides: 'replicas: -1',
      message:
        'svc/gantry.yaml:12:41: environments.production.replicas must be an integer from 0 to 10000 (got -1)',
    },
    {
      name: 'unknown key, with a suggestion',
      overrides: 'replica: 3',
      message:
        'svc/gantry.yaml:12:31: environments.production.replica is not a known key; did you mean replicas?',
    },
    {
      name: 'run-only key (port is the same everywhere)',
      overrides: 'port: 3000',
      message:
        'svc/gantry.yaml:12:31: environments.production.port is not a known key; expected one of branch, target, domain, domains, replicas, env, resources, health, rollout, processes',
    },
    {
      name: 'env value that is not a string',
      overrides: 'env: { WORKERS: 4 }',
      message:
        'svc/gantry.yaml:12:47: environments.production.env.WORKERS must be a string; quote numbers and booleans, as in "8080" or "true" (got 4)',
    },
    {
      name: 'env var name that is not one',
      overrides: 'env: { 1X: a }',
      message:
        'svc/gantry.yaml:12:38: environments.production.env key "1X" is not valid: must be letters, digits and "_", not starting with a digit',
    },
    {
      name: 'env var that is also a secret',
      overrides: 'env: { DATABASE_URL: postgres://x }',
      message:
        'svc/gantry.yaml:12:52: environments.production.env.DATABASE_URL is also in run.secrets; a variable comes from one or the other',
    },
    {
      name: 'memory that is not a size',
      overrides: 'resources: { memory: lots }',
      message:
        'svc/gantry.yaml:12:52: environments.production.resources.memory must be a size like 256Mi, 1Gi or 512M (got "lots")',
    },
    {
      name: 'memory below what Docker accepts',
      overrides: 'resources: { memory: 1Mi }',
      message:
        'svc/gantry.yaml:12:52: environments.production.resources.memory must be at least 6Mi (the smallest limit Docker accepts)',
    },
    {
      name: 'unknown resource',
      overrides: 'resources: { disk: 1 }',
      message:
        'svc/gantry.yaml:12:44: environments.production.resources.disk is not a known key; expected one of cpu, memory',
    },
    {
      name: 'health check kind (the same in every environment)',
      overrides: 'health: { tcp: {} }',
      message:
        'svc/gantry.yaml:12:41: environments.production.health.tcp is not a known key; expected one of interval, timeout, startPeriod, healthyThreshold, unhealthyThreshold',
    },
    {
      name: 'health threshold of zero',
      overrides: 'health: { unhealthyThreshold: 0 }',
      message:
        'svc/gantry.yaml:12:61: environments.production.health.unhealthyThreshold must be an integer ≥ 1 (got 0)',
    },
    {
      name: 'health interval that is not a duration',
      overrides: 'health: { interval: soon }',
      message:
        'svc/gantry.yaml:12:51: environments.production.health.interval must be a duration like 500ms, 2s, 5m or 1m30s (got "soon")',
    },
    {
      name: 'health interval of zero',
      overrides: 'health: { interval: 0s }',
      message:
        'svc/gantry.yaml:12:51: environments.production.health.interval must be longer than 0s',
    },
    {
      name: 'rollout autoRollback that is not a boolean',
      overrides: 'rollout: { autoRollback: maybe }',
      message:
        'svc/gantry.yaml:12:56: environments.production.rollout.autoRollback must be true or false (got "maybe")',
    },
    {
      name: 'rollout progress deadline of zero',
      overrides: 'rollout: { progressDeadline: 0s }',
      message:
        'svc/gantry.yaml:12:60: environments.production.rollout.progressDeadline must be longer than 0s',
    },
    {
      name: 'maxSurge 0 with the top-level maxUnavailable 0',
      overrides: 'rollout: { maxSurge: 0 }',
      message:
        'svc/gantry.yaml:12:52: environments.production.rollout.maxSurge must be at least 1 when rollout.maxUnavailable is 0',
    },
    {
      name: 'maxSurge and maxUnavailable both 0 in the environment',
      overrides: 'rollout: { maxUnavailable: 0, maxSurge: 0 }',
      message:
        'svc/gantry.yaml:12:71: environments.production.rollout.maxSurge must be at least 1 when environments.production.rollout.maxUnavailable is 0',
    },
  ])('$name', ({ overrides, message }) => {
    const error = failure(withProduction(overrides), 'svc/gantry.yaml');
    expect(error.message).toBe(message);
    expect(error.code).toBe('GANTRY_ERR_SPEC_INVALID');
  });

  it('reports maxUnavailable 0 against a top-level maxSurge of 0', () => {
    const text = [
      'app: hello',
      'rollout: { maxSurge: 0, maxUnavailable: 1 }',
      'environments:',
      '  production: { branch: main, rollout: { maxUnavailable: 0 } }',
      '',
    ].join('\n');
    expect(failure(text).message).toBe(
      'gantry.yaml:4:58: environments.production.rollout.maxUnavailable must be at least 1 when rollout.maxSurge is 0',
    );
  });

  it('accepts an environment that makes a top-level maxSurge of 0 workable', () => {
    const text = [
      'app: hello',
      'rollout: { maxSurge: 0, maxUnavailable: 1 }',
      'environments:',
      '  production: { branch: main, rollout: { maxSurge: 1, maxUnavailable: 0 } }',
      '',
    ].join('\n');
    expect(specForEnv(parseAppSpec(text), 'production').rollout).toMatchObject({
      maxSurge: 1,
      maxUnavailable: 0,
    });
  });

  it('reports problems in several environments at once, in source order', () => {
    const text = [
      'app: hello',
      'environments:',
      '  production: { branch: main, replicas: many }',
      '  staging:',
      '    branch: develop',
      '    health: { timeout: 0s }',
      '    rollout: { bake: forever }',
      '',
    ].join('\n');
    expect(failure(text).message).toBe(
      [
        'gantry.yaml:3:41: environments.production.replicas must be an integer from 0 to 10000 (got "many")',
        'gantry.yaml:6:24: environments.staging.health.timeout must be longer than 0s',
        'gantry.yaml:7:22: environments.staging.rollout.bake must be a duration like 500ms, 2s, 5m or 1m30s (got "forever")',
      ].join('\n'),
    );
  });
});
