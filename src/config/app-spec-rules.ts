/**
 * The checks on `gantry.yaml` that JSON Schema cannot say well: paths that must stay inside the
 * repository, git's branch-name rules, limits on parsed quantities, and rules across fields.
 * They run on the data even when the schema already found problems, so one push reports
 * everything; each check therefore looks only at values that have the right type. The checks on
 * top-level values run again on each environment's overrides of them, and cross-field rules are
 * checked on what the environment ends up with.
 */
import { shortBranchNameProblem } from '../git/branch-name.js';
import { healthPathIssues } from './health-path.js';
import { resolveInside } from './repo-path.js';
import { DURATION_PATTERN, MEMORY_PATTERN, parseDuration, parseMemory } from './units.js';
import { formatPath, type PathSegment } from './yaml-source.js';

/** A problem at `path`, phrased to follow the path: "must stay inside the repository". */
export interface RuleIssue {
  readonly path: PathSegment[];
  readonly predicate: string;
}

/** Docker refuses memory limits below 6 MiB; saying so at parse time beats a failed rollout. */
export const MIN_MEMORY_BYTES = 6 * 2 ** 20;

const DURATION_RE = new RegExp(DURATION_PATTERN);
const MEMORY_RE = new RegExp(MEMORY_PATTERN);

/** Durations that must be longer than zero; the others (startPeriod, bake) may be 0s. */
const DURATIONS: ReadonlyArray<[section: string, key: string, positive: boolean]> = [
  ['health', 'interval', true],
  ['health', 'timeout', true],
  ['health', 'startPeriod', false],
  ['rollout', 'progressDeadline', true],
  ['rollout', 'bake', false],
];

/** Problems the schema cannot see in (possibly schema-invalid) spec data; `specDir` is where gantry.yaml sits. */
export function appSpecRuleIssues(data: unknown, specDir: readonly string[]): RuleIssue[] {
  const run = field(data, 'run');
  return [
    ...buildPathIssues(field(data, 'build'), specDir),
    ...watchIssues(field(data, 'watch'), specDir),
    ...durationIssues(data, []),
    ...memoryIssues(field(run, 'resources'), ['run', 'resources']),
    ...branchIssues(field(data, 'environments')),
    ...rolloutIssues(field(data, 'rollout')),
    ...secretIssues(run),
    ...overrideIssues(data),
    ...processIssues(field(data, 'processes')),
    ...processOverrideIssues(data),
    ...healthPathIssues(data),
  ];
}

/**
 * At most one routed process (the one with a port, or `web`), and no port-based check on the
 * others: they publish nothing to probe.
 */
function processIssues(processes: unknown): RuleIssue[] {
  if (!isRecord(processes)) return [];
  const issues: RuleIssue[] = [];
  let routed: string | undefined;
  for (const [name, p] of Object.entries(processes)) {
    const at = ['processes', name];
    const health = field(p, 'health');
    // Durations of a process's health, as `health`'s own: `durationIssues` reads `<at>.health.*`.
    issues.push(
      ...durationIssues(p, at),
      ...memoryIssues(field(p, 'resources'), [...at, 'resources']),
    );
    const hasPort = field(p, 'port') !== undefined;
    if (hasPort || name === 'web') {
      if (routed === undefined) routed = name;
      else
        issues.push({
          path: hasPort ? [...at, 'port'] : at,
          predicate: `makes a second routed process (${routed} is routed); only one process may have a port`,
        });
      continue;
    }
    for (const kind of ['http', 'tcp']) {
      if (field(health, kind) === undefined) continue;
      issues.push({
        path: [...at, 'health', kind],
        predicate:
          // A probe port apart from the routed one would be a second published port per
          // instance (and a second meaning of `port:`); exec checks the same from inside.
          "needs a port, and an unrouted process publishes none to probe: check it from inside the container with exec (say, exec: [nc, -z, localhost, '9000']), or set no check (healthy while it keeps running)",
      });
    }
  }
  return issues;
}

/** `environments.<env>.processes` may only name declared process types. */
function processOverrideIssues(data: unknown): RuleIssue[] {
  const environments = field(data, 'environments');
  if (!isRecord(environments)) return [];
  const declared = field(data, 'processes');
  const known = isRecord(declared) ? Object.keys(declared) : ['web'];
  return Object.entries(environments).flatMap(([env, e]) => {
    const overrides = field(e, 'processes');
    if (!isRecord(overrides)) return [];
    return Object.keys(overrides)
      .filter((name) => !known.includes(name))
      .map((name) => ({
        path: ['environments', env, 'processes', name],
        predicate: `names no process type (known: ${known.join(', ')})`,
      }));
  });
}

function buildPathIssues(build: unknown, specDir: readonly string[]): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const context = field(build, 'context');
  if (typeof context === 'string' && context !== '') {
    const resolved = resolveInside(specDir, context, 'repository');
    if (!resolved.ok) issues.push({ path: ['build', 'context'], predicate: resolved.problem });
  }
  const dockerfile = field(build, 'dockerfile');
  if (typeof dockerfile === 'string' && dockerfile !== '') {
    const resolved = resolveInside([], dockerfile, 'build context');
    const predicate = !resolved.ok
      ? resolved.problem
      : resolved.segments.length === 0 || dockerfile.endsWith('/')
        ? 'must name a file inside the build context, not a directory'
        : undefined;
    if (predicate !== undefined) issues.push({ path: ['build', 'dockerfile'], predicate });
  }
  return issues;
}

/** `watch:` entries must stay inside the repository, like the build context ("!" aside). */
function watchIssues(watch: unknown, specDir: readonly string[]): RuleIssue[] {
  if (!Array.isArray(watch)) return [];
  return watch.flatMap((entry: unknown, i) => {
    if (typeof entry !== 'string' || entry === '') return [];
    const rel = entry.startsWith('!') ? entry.slice(1) : entry;
    const resolved = resolveInside(specDir, rel, 'repository');
    return resolved.ok ? [] : [{ path: ['watch', i], predicate: resolved.problem }];
  });
}

/** Durations under `data` (the document, or one environment's overrides at `at`). */
function durationIssues(data: unknown, at: readonly PathSegment[]): RuleIssue[] {
  const issues: RuleIssue[] = [];
  for (const [section, key, positive] of DURATIONS) {
    const text = field(field(data, section), key);
    // Text that is not a duration at all is the schema's to report.
    if (typeof text !== 'string' || !DURATION_RE.test(text)) continue;
    const ms = parseDuration(text);
    const path = [...at, section, key];
    if (ms === undefined) issues.push({ path, predicate: 'is too long' });
    else if (positive && ms === 0) issues.push({ path, predicate: 'must be longer than 0s' });
  }
  return issues;
}

function memoryIssues(resources: unknown, at: readonly PathSegment[]): RuleIssue[] {
  const text = field(resources, 'memory');
  if (typeof text !== 'string' || !MEMORY_RE.test(text)) return [];
  const bytes = parseMemory(text);
  const path = [...at, 'memory'];
  if (bytes === undefined) return [{ path, predicate: 'is too large' }];
  if (bytes < MIN_MEMORY_BYTES)
    return [{ path, predicate: 'must be at least 6Mi (the smallest limit Docker accepts)' }];
  return [];
}

function branchIssues(environments: unknown): RuleIssue[] {
  if (!isRecord(environments)) return [];
  return Object.entries(environments).flatMap(([name, env]) => {
    const branch = field(env, 'branch');
    const problem = typeof branch === 'string' ? shortBranchNameProblem(branch) : undefined;
    return problem === undefined
      ? []
      : [{ path: ['environments', name, 'branch'], predicate: problem }];
  });
}

function rolloutIssues(rollout: unknown): RuleIssue[] {
  if (field(rollout, 'maxSurge') !== 0 || field(rollout, 'maxUnavailable') !== 0) return [];
  // With neither an extra instance nor a missing one allowed, no old instance could ever be replaced.
  return [
    {
      path: ['rollout', 'maxSurge'],
      predicate: 'must be at least 1 when rollout.maxUnavailable is 0',
    },
  ];
}

function secretIssues(run: unknown): RuleIssue[] {
  const secrets = field(run, 'secrets');
  const env = field(run, 'env');
  if (!Array.isArray(secrets) || !isRecord(env)) return [];
  return secrets.flatMap((name: unknown, i) =>
    typeof name === 'string' && Object.hasOwn(env, name)
      ? [
          {
            path: ['run', 'secrets', i],
            predicate: `is also set in run.env; a variable comes from one or the other`,
          },
        ]
      : [],
  );
}

/** The top-level checks again on each environment's overrides, and the rollout rule on the result. */
function overrideIssues(data: unknown): RuleIssue[] {
  const environments = field(data, 'environments');
  if (!isRecord(environments)) return [];
  const secrets = field(field(data, 'run'), 'secrets');
  const baseRollout = field(data, 'rollout');
  return Object.entries(environments).flatMap(([name, env]) => {
    const at = ['environments', name];
    const vars = field(env, 'env');
    return [
      ...durationIssues(env, at),
      ...memoryIssues(field(env, 'resources'), [...at, 'resources']),
      ...(Array.isArray(secrets) && isRecord(vars)
        ? Object.keys(vars)
            .filter((v) => secrets.includes(v))
            .map((v) => ({
              path: [...at, 'env', v],
              predicate: 'is also in run.secrets; a variable comes from one or the other',
            }))
        : []),
      ...rolloutOverrideIssues(field(env, 'rollout'), baseRollout, at),
    ];
  });
}

/** The rollout rule on what an environment ends up with, reported at the override that causes it. */
function rolloutOverrideIssues(
  rollout: unknown,
  base: unknown,
  at: readonly PathSegment[],
): RuleIssue[] {
  const setsSurge = isRecord(rollout) && Object.hasOwn(rollout, 'maxSurge');
  const setsUnavailable = isRecord(rollout) && Object.hasOwn(rollout, 'maxUnavailable');
  // Without an override of either, the top-level rule has said all there is to say.
  if (!setsSurge && !setsUnavailable) return [];
  const surge = setsSurge ? field(rollout, 'maxSurge') : field(base, 'maxSurge');
  const unavailable = setsUnavailable
    ? field(rollout, 'maxUnavailable')
    : field(base, 'maxUnavailable');
  if (surge !== 0 || unavailable !== 0) return [];
  return [
    setsSurge
      ? {
          path: [...at, 'rollout', 'maxSurge'],
          predicate: `must be at least 1 when ${setsUnavailable ? formatPath([...at, 'rollout', 'maxUnavailable']) : 'rollout.maxUnavailable'} is 0`,
        }
      : {
          path: [...at, 'rollout', 'maxUnavailable'],
          predicate: 'must be at least 1 when rollout.maxSurge is 0',
        },
  ];
}

function field(data: unknown, key: string): unknown {
  return isRecord(data) && Object.hasOwn(data, key) ? data[key] : undefined;
}

/** A YAML mapping (not null, not a sequence). */
export function isRecord(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
