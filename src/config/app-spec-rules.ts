/**
 * The checks on `gantry.yaml` that JSON Schema cannot say well: paths that must stay inside the
 * repository, git's branch-name rules, limits on parsed quantities, and rules across fields.
 * They run on the data even when the schema already found problems, so one push reports
 * everything; each check therefore looks only at values that have the right type.
 */
import { shortBranchNameProblem } from '../git/branch-name.js';
import { resolveInside } from './repo-path.js';
import { DURATION_PATTERN, MEMORY_PATTERN, parseDuration, parseMemory } from './units.js';
import type { PathSegment } from './yaml-source.js';

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
  return [
    ...buildPathIssues(field(data, 'build'), specDir),
    ...durationIssues(data),
    ...memoryIssues(field(field(data, 'run'), 'resources')),
    ...branchIssues(field(data, 'environments')),
    ...rolloutIssues(field(data, 'rollout')),
    ...secretIssues(field(data, 'run')),
  ];
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

function durationIssues(data: unknown): RuleIssue[] {
  const issues: RuleIssue[] = [];
  for (const [section, key, positive] of DURATIONS) {
    const text = field(field(data, section), key);
    // Text that is not a duration at all is the schema's to report.
    if (typeof text !== 'string' || !DURATION_RE.test(text)) continue;
    const ms = parseDuration(text);
    const path = [section, key];
    if (ms === undefined) issues.push({ path, predicate: 'is too long' });
    else if (positive && ms === 0) issues.push({ path, predicate: 'must be longer than 0s' });
  }
  return issues;
}

function memoryIssues(resources: unknown): RuleIssue[] {
  const text = field(resources, 'memory');
  if (typeof text !== 'string' || !MEMORY_RE.test(text)) return [];
  const bytes = parseMemory(text);
  const path = ['run', 'resources', 'memory'];
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

function field(data: unknown, key: string): unknown {
  return isRecord(data) && Object.hasOwn(data, key) ? data[key] : undefined;
}

function isRecord(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
