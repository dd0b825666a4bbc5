/**
 * The app spec, `gantry.yaml`: parsed safely, validated against the JSON Schema plus the rules a
 * schema cannot express, defaulted, and turned into typed values (durations in ms, memory in bytes).
 * Every problem is reported at once, each as `file:line:col: message`.
 */
import type { ValidateFunction } from 'ajv';
import { appSpecRuleIssues } from './app-spec-rules.js';
import {
  DEFAULT_HTTP_CHECK,
  appSpecJsonSchema,
  type RawAppSpec,
  type RawEnvironment,
  type RawProcess,
} from './app-spec-schema.js';
import { dirSegments, joinSegments, relativeSegments, resolveInside } from './repo-path.js';
import { compileSchema, schemaIssues } from './schema-issues.js';
import { parseDuration, parseMemory } from './units.js';
import { targetIssues, type KnownTargets } from './spec-targets.js';
import { issueAt, parseYamlSource, sourceError, type SourceIssue } from './yaml-source.js';

export { appSpecJsonSchema } from './app-spec-schema.js';
export { parseDuration, parseMemory } from './units.js';

/** How an instance's health is probed; each kind is exclusive. */
export type HealthCheck =
  | { readonly kind: 'http'; readonly path: string; readonly expect: number }
  | { readonly kind: 'tcp' }
  | { readonly kind: 'exec'; readonly command: readonly string[] };

export interface BuildSpec {
  /**
   * Build context relative to the directory holding gantry.yaml, normalized (`./web/../api/` →
   * `api`); it may climb (`../shared`) but is checked to stay inside the repository.
   */
  readonly context: string;
  /** Dockerfile, normalized and relative to `context` (compose semantics, not `docker build -f`'s cwd). */
  readonly dockerfile: string;
  readonly target: string | undefined;
  readonly args: Readonly<Record<string, string>>;
}

/**
 * What `watch:` says, relative to the directory holding gantry.yaml and normalized (`./a/../b` →
 * `b`), `!` kept in front of exclusions; undefined when absent (the default applies: see
 * `watchedPaths` in `source/watch-paths.ts`).
 */
export type WatchSpec = readonly string[] | undefined;

export interface RunSpec {
  readonly port: number;
  readonly replicas: number;
  readonly env: Readonly<Record<string, string>>;
  /** Names only: values come from the controller's secret store. */
  readonly secrets: readonly string[];
  /** Limits per instance; undefined means none. */
  readonly resources: {
    readonly cpu: number | undefined;
    readonly memoryBytes: number | undefined;
  };
}

export interface HealthSpec {
  readonly check: HealthCheck;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly startPeriodMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

export interface RolloutSpec {
  readonly maxSurge: number;
  readonly maxUnavailable: number;
  readonly progressDeadlineMs: number;
  readonly bakeMs: number;
  readonly autoRollback: boolean;
}

/** The release phase: a command run once per rollout before any new instance starts. */
export interface ReleasePhaseSpec {
  readonly command: readonly string[];
  readonly timeoutMs: number;
}

export interface EnvironmentSpec {
  readonly branch: string;
  /** A target named in the controller config. */
  readonly target: string;
  /** The first of `domains` (records and older callers read this one). */
  readonly domain: string | undefined;
  /** Host names served over HTTPS: `domain` then `domains`, without repeats; may be empty. */
  readonly domains: readonly string[];
}

/**
 * What one environment runs differently from the top-level `run`, `health` and `rollout`: each
 * field present replaces the top-level one, except `env`, which is merged over `run.env`.
 * Applied by `specForEnv`.
 */
export interface EnvOverrides {
  readonly replicas?: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly resources?: { readonly cpu?: number; readonly memoryBytes?: number };
  readonly health?: Partial<Omit<HealthSpec, 'check'>>;
  readonly rollout?: Partial<RolloutSpec>;
  /** Replicas per process type (`environments.<env>.processes.<name>.replicas`). */
  readonly processes?: Readonly<Record<string, { readonly replicas?: number }>>;
}

/** One `processes.<name>` entry, as written: absent fields fall back to `run` and `health`. */
export interface ProcessDecl {
  readonly name: string;
  readonly command?: readonly string[] | undefined;
  readonly replicas?: number | undefined;
  readonly port?: number | undefined;
  readonly resources?: { readonly cpu?: number; readonly memoryBytes?: number } | undefined;
  readonly health?:
    (Partial<Omit<HealthSpec, 'check'>> & { readonly check?: HealthCheck | undefined }) | undefined;
}

/** A validated, fully defaulted app spec. */
export interface AppSpec {
  readonly app: string;
  readonly build: BuildSpec;
  /** The paths whose changes rebuild the app; undefined: its folder and build context. */
  readonly watch?: WatchSpec;
  readonly run: RunSpec;
  /**
   * The process types as declared (`processes:`), in order; a spec without them has one, `web`
   * (absent means the same). Resolve them with `processesOf` (processes.ts) after `specForEnv`.
   */
  readonly processes?: readonly ProcessDecl[] | undefined;
  readonly health: HealthSpec;
  readonly rollout: RolloutSpec;
  /** The release phase (migrations…), when the spec has one. */
  readonly release?: ReleasePhaseSpec | undefined;
  /** Between rollouts, repair drift (true) or only show it (false). */
  readonly selfHeal: boolean;
  readonly environments: Readonly<Record<string, EnvironmentSpec>>;
  /**
   * Per environment name, what that environment overrides (only environments that override
   * something appear). The top-level run, health and rollout are the defaults of every
   * environment; use `specForEnv` for what one environment actually runs.
   */
  readonly overrides: Readonly<Record<string, EnvOverrides>>;
}

const CODE = 'GANTRY_ERR_SPEC_INVALID';

let validator: ValidateFunction<RawAppSpec> | undefined;

/**
 * Parses and validates a `gantry.yaml`. `file` is its path from the repository root (default
 * `gantry.yaml`): it names the file in messages, and `build.context` is checked against its
 * directory so it cannot climb out of the repository. With `targets`, each environment's
 * `target:` must name one of them. Throws GantryError(GANTRY_ERR_SPEC_INVALID) listing every problem as `file:line:col: …`.
 */
export function parseAppSpec(
  text: string,
  file = 'gantry.yaml',
  opts: { targets?: KnownTargets | undefined } = {},
): AppSpec {
  const source = parseYamlSource(text, { file, code: CODE });
  if (source.value === null) {
    const issue = {
      line: 1,
      col: 1,
      path: '',
      message: 'the file is empty; it needs at least "app: <name>"',
    };
    throw sourceError(CODE, file, [issue]);
  }
  validator ??= compileSchema<RawAppSpec>(appSpecJsonSchema);
  // Validation fills in the defaults, in place.
  const valid = validator(source.value);
  const issues: SourceIssue[] = valid ? [] : schemaIssues(validator.errors, source);
  const specDir = dirSegments(file);
  // With the controller's targets known, a `target:` it does not have is refused here too.
  const targetRules = opts.targets ? targetIssues(source.value, opts.targets) : [];
  for (const rule of [...appSpecRuleIssues(source.value, specDir), ...targetRules]) {
    const issue = issueAt(source, rule.path, rule.predicate);
    // One message per spot: where the schema already objected, the rule adds nothing.
    if (!issues.some((i) => i.path === issue.path)) issues.push(issue);
  }
  if (issues.length > 0) throw sourceError(CODE, file, issues);
  return toAppSpec(source.value as RawAppSpec, specDir);
}

/** Typed values from validated data; every check has passed, so nothing here can fail on input. */
function toAppSpec(raw: RawAppSpec, specDir: readonly string[]): AppSpec {
  const context = inside(specDir, raw.build.context, 'repository');
  const { health, rollout } = raw;
  return {
    app: raw.app,
    build: {
      context: relativeSegments(specDir, context),
      dockerfile: joinSegments(inside([], raw.build.dockerfile, 'build context')),
      target: raw.build.target,
      args: { ...raw.build.args },
    },
    watch: raw.watch?.map((w) => watchEntry(specDir, w)),
    run: {
      port: raw.run.port,
      replicas: raw.run.replicas,
      env: { ...raw.run.env },
      secrets: [...raw.run.secrets],
      resources: {
        cpu: raw.run.resources.cpu,
        memoryBytes:
          raw.run.resources.memory === undefined
            ? undefined
            : known(parseMemory(raw.run.resources.memory)),
      },
    },
    // Absent for the single-process form: one `web` (processesOf).
    ...(raw.processes
      ? { processes: Object.entries(raw.processes).map(([name, p]) => processDecl(name, p)) }
      : {}),
    health: {
      check: healthCheck(health),
      intervalMs: ms(health.interval),
      timeoutMs: ms(health.timeout),
      startPeriodMs: ms(health.startPeriod),
      healthyThreshold: health.healthyThreshold,
      unhealthyThreshold: health.unhealthyThreshold,
    },
    rollout: {
      maxSurge: rollout.maxSurge,
      maxUnavailable: rollout.maxUnavailable,
      progressDeadlineMs: ms(rollout.progressDeadline),
      bakeMs: ms(rollout.bake),
      autoRollback: rollout.autoRollback,
    },
    ...(raw.release
      ? { release: { command: [...raw.release.command], timeoutMs: ms(raw.release.timeout) } }
      : {}),
    selfHeal: raw.selfHeal,
    environments: Object.fromEntries(
      Object.entries(raw.environments).map(([name, env]) => [name, environmentSpec(env)]),
    ),
    overrides: Object.fromEntries(
      Object.entries(raw.environments).flatMap(([name, env]) => {
        const overrides = envOverrides(env);
        return Object.keys(overrides).length === 0 ? [] : [[name, overrides]];
      }),
    ),
  };
}

/** An environment's binding; `domain: x` is `domains: [x]`, and the two add up. */
function environmentSpec(env: RawEnvironment): EnvironmentSpec {
  const domains = [...new Set([...(env.domain ? [env.domain] : []), ...(env.domains ?? [])])];
  return { branch: env.branch, target: env.target, domain: domains[0], domains };
}

/** Typed overrides of one environment; fields it does not set are absent, not undefined. */
function envOverrides(env: RawEnvironment): EnvOverrides {
  const { resources, health, rollout } = env;
  return present({
    replicas: env.replicas,
    env: env.env && { ...env.env },
    resources: resources && resourceOverrides(resources),
    health: health && healthTimings(health),
    rollout:
      rollout &&
      present({
        maxSurge: rollout.maxSurge,
        maxUnavailable: rollout.maxUnavailable,
        progressDeadlineMs: optionalMs(rollout.progressDeadline),
        bakeMs: optionalMs(rollout.bake),
        autoRollback: rollout.autoRollback,
      }),
    processes:
      env.processes &&
      Object.fromEntries(
        Object.entries(env.processes).map(([name, p]) => [name, present({ replicas: p.replicas })]),
      ),
  });
}

/** One declared process type; what it does not set stays absent (run and health fill it in). */
function processDecl(name: string, p: RawProcess): ProcessDecl {
  const { health, resources } = p;
  return {
    name,
    ...present({
      command: p.command && [...p.command],
      replicas: p.replicas,
      port: p.port,
      resources: resources && resourceOverrides(resources),
      health:
        health &&
        present({
          check:
            health.http || health.tcp || health.exec
              ? healthCheck({
                  ...health,
                  http: health.http && { ...DEFAULT_HTTP_CHECK, ...health.http },
                })
              : undefined,
          ...healthTimings(health),
        }),
    }),
  };
}

/** Resource limits that override others: only the ones set. */
function resourceOverrides(r: { cpu?: number; memory?: string }): {
  cpu?: number;
  memoryBytes?: number;
} {
  return present({
    cpu: r.cpu,
    memoryBytes: r.memory === undefined ? undefined : known(parseMemory(r.memory)),
  });
}

/** Health timings that override others: only the ones set. */
function healthTimings(h: Partial<RawAppSpec['health']>): Partial<Omit<HealthSpec, 'check'>> {
  return present({
    intervalMs: optionalMs(h.interval),
    timeoutMs: optionalMs(h.timeout),
    startPeriodMs: optionalMs(h.startPeriod),
    healthyThreshold: h.healthyThreshold,
    unhealthyThreshold: h.unhealthyThreshold,
  });
}

/** `o` without its undefined fields, so spreading it over defaults never erases one. */
function present<T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

function optionalMs(text: string | undefined): number | undefined {
  return text === undefined ? undefined : ms(text);
}

function healthCheck(health: Pick<RawAppSpec['health'], 'http' | 'tcp' | 'exec'>): HealthCheck {
  if (health.tcp !== undefined) return { kind: 'tcp' };
  if (health.exec !== undefined) return { kind: 'exec', command: [...health.exec] };
  const http = health.http ?? DEFAULT_HTTP_CHECK;
  return { kind: 'http', path: http.path, expect: http.expect };
}

function ms(text: string): number {
  return known(parseDuration(text));
}

/** A `watch:` entry relative to the spec's directory, normalized; `!` stays in front. */
function watchEntry(specDir: readonly string[], entry: string): string {
  const negated = entry.startsWith('!');
  const target = inside(specDir, negated ? entry.slice(1) : entry, 'repository');
  return `${negated ? '!' : ''}${relativeSegments(specDir, target)}`;
}

function inside(base: readonly string[], rel: string, rootName: string): string[] {
  const resolved = resolveInside(base, rel, rootName);
  if (!resolved.ok)
    throw new Error(`unreachable: ${rel} passed validation but ${resolved.problem}`);
  return resolved.segments;
}

function known(n: number | undefined): number {
  if (n === undefined)
    throw new Error('unreachable: a quantity passed validation but does not parse');
  return n;
}
