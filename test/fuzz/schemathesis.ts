/** Runs schemathesis against a controller in this process, and snapshots its Redis state. */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';

export interface FuzzRun {
  exitCode: number | null;
  /** Test cases (operations × checks) the junit report lists. */
  testcases: number;
  /** Failed test cases: the operation and schemathesis's message. */
  failures: string[];
  /** The tail of schemathesis's output, for a failing assertion. */
  output: string;
}

/** Bounds of one run: per operation, and in time for the whole run. */
const MAX_EXAMPLES = '15';
const MAX_TIME_S = '25';

/**
 * One bounded schemathesis run. Only the controller is reached: the base URL is given (the
 * document's `servers` are not used), no redirect is followed, proxies are cleared, and the
 * event stream (which never ends by design) is left out.
 */
export async function runSchemathesis(opts: {
  venv: string;
  baseUrl: string;
  token?: string | undefined;
  reportDir: string;
  name: string;
  /** Names that exist (apps, environments, rollout ids), used half of the time. */
  known: Known;
}): Promise<FuzzRun> {
  const junit = path.join(opts.reportDir, `${opts.name}.xml`);
  const config = path.join(opts.reportDir, `${opts.name}.toml`);
  writeFileSync(config, schemathesisConfig(opts.known));
  const args = [
    '--config-file',
    config,
    'run',
    `${opts.baseUrl}/docs/json`,
    '--url',
    opts.baseUrl,
    ...(opts.token ? ['--header', `Authorization: Bearer ${opts.token}`] : []),
    '--checks',
    'not_a_server_error,response_schema_conformance',
    '--phases',
    'examples,coverage,fuzzing',
    '--max-examples',
    MAX_EXAMPLES,
    '--max-time',
    MAX_TIME_S,
    '--seed',
    '20261202',
    '--workers',
    '1',
    '--max-redirects',
    '0',
    '--request-timeout',
    '10',
    '--exclude-path',
    '/api/events',
    '--suppress-health-check',
    'all',
    '--report',
    'junit',
    '--report-junit-path',
    junit,
  ];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    NO_PROXY: '*',
    NO_COLOR: '1',
  };
  const child = spawn(path.join(opts.venv, 'bin', 'schemathesis'), args, {
    cwd: opts.reportDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const report = safeRead(junit);
  return {
    exitCode,
    testcases: (report.match(/<testcase\b/g) ?? []).length,
    failures: failuresOf(report),
    output: output.slice(-6000),
  };
}

export interface Known {
  apps: string[];
  envs: string[];
  rollouts: string[];
}

/**
 * The run's schemathesis.toml: known names as dictionaries bound to the parameters that take
 * them, half of the time, so requests reach past "app not known" into the handlers.
 */
export function schemathesisConfig(known: Known): string {
  const list = (values: string[]) => `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;
  const bind = (where: string, dictionary: string) =>
    `${JSON.stringify(where)} = { dictionary = "${dictionary}", probability = 0.5 }`;
  return [
    `[dictionaries.apps]\nvalues = ${list(known.apps)}`,
    `[dictionaries.envs]\nvalues = ${list(known.envs)}`,
    `[dictionaries.rollouts]\nvalues = ${list(known.rollouts)}`,
    '[parameters]',
    bind('path.app', 'apps'),
    bind('query.app', 'apps'),
    bind('query.env', 'envs'),
    bind('body.env', 'envs'),
    bind('path.id', 'rollouts'),
    '',
    // 500 (what a crash answers) is never expected. This controller has no runtime (503
    // GANTRY_ERR_DEPLOY_DISABLED) and its repo's remote does not answer (502 GANTRY_ERR_GIT_FETCH).
    '[checks.not_a_server_error]',
    'expected-statuses = ["1XX", "2XX", "3XX", "4XX", 502, 503]',
    '',
  ].join('\n');
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** `name: message` of each failed or erroring test case of a junit report. */
export function failuresOf(junit: string): string[] {
  const out: string[] = [];
  // A passing case may be self-closing (`<testcase …/>`): only a case with a body can fail.
  for (const m of junit.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const name = /\bname="([^"]*)"/.exec(m[1]!)?.[1] ?? '?';
    const failed = /<(failure|error)\b([^>]*)>/.exec(m[2] ?? '');
    const message = /\bmessage="([^"]*)"/.exec(failed?.[2] ?? '')?.[1];
    if (failed) out.push(`${name}: ${message ?? failed[1]}`);
  }
  return out;
}

/**
 * Every key under the controller's prefix with its serialized value (DUMP), so two snapshots are
 * equal only if nothing was written. Rate-limit buckets are left out: every request counts.
 */
export async function redisSnapshot(redis: Redis, prefix: string): Promise<Record<string, string>> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const out: Record<string, string> = {};
  for (const key of keys.sort()) {
    if (key.startsWith(`${prefix}:rate:`)) continue;
    const dump = await redis.dumpBuffer(key);
    if (dump) out[key] = dump.toString('hex');
  }
  return out;
}
