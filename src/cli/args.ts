import { parseArgs } from 'node:util';
import { parseDuration } from '../config/units.js';
import { formationArgs } from './scale-format.js';

/** Client flags every verb that talks to the API accepts. */
export interface Common {
  url?: string | undefined;
  token?: string | undefined;
  json: boolean;
  /** false with --no-wait: enqueue and print the rollout id without following it. */
  wait: boolean;
}

/** One verb with its arguments, already checked: the dispatcher switches on `verb`. */
export type Command =
  | { verb: 'help' }
  | { verb: 'serve'; config: string }
  | { verb: 'demo'; keep: boolean }
  | { verb: 'edge'; dir: string; stop: boolean }
  | { verb: 'apps' }
  | { verb: 'apps:release'; app: string }
  | { verb: 'status'; app: string }
  | {
      verb: 'history';
      app: string;
      env?: string | undefined;
      pr?: number | undefined;
      sha?: string | undefined;
      limit?: number | undefined;
    }
  | { verb: 'deploy'; app: string; ref: string; env?: string | undefined }
  | { verb: 'rollback'; app: string; to?: string | undefined; env?: string | undefined }
  | { verb: 'promote'; app: string; from: string; to: string }
  | {
      verb: 'lock';
      app: string;
      env?: string | undefined;
      reason: string;
      until?: string | undefined;
    }
  | { verb: 'unlock' | 'unpin'; app: string; env?: string | undefined }
  | { verb: 'prune'; app: string; env: string; force: boolean }
  | {
      verb: 'logs';
      app: string;
      env?: string | undefined;
      lines?: number | undefined;
      /** A duration (10m) or a time, as the API takes it. */
      since?: string | undefined;
      follow: boolean;
    }
  | {
      verb: 'run';
      app: string;
      env?: string | undefined;
      /** The command and its arguments: everything after `--` (or after APP). */
      command: string[];
      timeoutSeconds?: number | undefined;
    }
  | { verb: 'build-log'; buildId: string; follow: boolean }
  | { verb: 'retry' | 'pause' | 'resume' | 'abort'; rolloutId: string }
  | { verb: 'rollout'; rolloutId: string; follow: boolean }
  | { verb: 'config'; app: string; env?: string | undefined }
  | {
      verb: 'config:set';
      app: string;
      env?: string | undefined;
      values: Record<string, string>;
      secret: boolean;
    }
  | { verb: 'config:unset'; app: string; env?: string | undefined; keys: string[] }
  | { verb: 'config:import-env'; app: string; env?: string | undefined; names: string[] }
  | { verb: 'releases'; app: string; env?: string | undefined; limit?: number | undefined }
  | { verb: 'scale'; app: string; env?: string | undefined; processes: Record<string, number> }
  | { verb: 'restart'; app: string; env?: string | undefined; process?: string | undefined }
  | { verb: 'secrets:rotate' }
  | { verb: 'registry:prune'; dryRun: boolean };

export type Verb = Command['verb'];

export type Parsed = { ok: true; command: Command; common: Common } | { ok: false; error: string };

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
  keep: { type: 'boolean' },
  dir: { type: 'string' },
  stop: { type: 'boolean' },
  follow: { type: 'boolean', short: 'f' },
  url: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  env: { type: 'string', short: 'e' },
  pr: { type: 'string' },
  sha: { type: 'string' },
  to: { type: 'string' },
  from: { type: 'string' },
  reason: { type: 'string' },
  until: { type: 'string' },
  lines: { type: 'string', short: 'n' },
  limit: { type: 'string' },
  'no-wait': { type: 'boolean' },
  force: { type: 'boolean' },
  secret: { type: 'boolean' },
  since: { type: 'string' },
  timeout: { type: 'string' },
  process: { type: 'string', short: 'p' },
  'dry-run': { type: 'boolean' },
} as const;

type Flag = keyof typeof OPTIONS;
type Values = { [K in Flag]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean };

const CLIENT: Flag[] = ['url', 'token', 'json', 'help'];
const FOLLOWS: Flag[] = ['no-wait'];

/**
 * Positional argument names and the flags each verb takes (besides --url, --token, --json);
 * `rest` names the arguments a verb takes any number of after those.
 */
const VERBS: Record<Exclude<Verb, 'help'>, { args: string[]; flags: Flag[]; rest?: string }> = {
  serve: { args: [], flags: ['config'] },
  demo: { args: [], flags: ['keep'] },
  edge: { args: [], flags: ['dir', 'stop'] },
  apps: { args: [], flags: [] },
  'apps:release': { args: ['APP'], flags: [] },
  status: { args: ['APP'], flags: [] },
  history: { args: ['APP'], flags: ['env', 'pr', 'sha', 'limit'] },
  deploy: { args: ['APP', 'REF'], flags: ['env', ...FOLLOWS] },
  rollback: { args: ['APP'], flags: ['env', 'to', ...FOLLOWS] },
  promote: { args: ['APP'], flags: ['from', 'to', ...FOLLOWS] },
  lock: { args: ['APP'], flags: ['env', 'reason', 'until'] },
  unlock: { args: ['APP'], flags: ['env'] },
  unpin: { args: ['APP'], flags: ['env', ...FOLLOWS] },
  prune: { args: ['APP'], flags: ['env', 'force'] },
  logs: { args: ['APP'], flags: ['env', 'lines', 'since', 'follow'] },
  run: { args: ['APP'], rest: 'CMD', flags: ['env', 'timeout'] },
  'build-log': { args: ['BUILD_ID'], flags: ['follow'] },
  retry: { args: ['ROLLOUT_ID'], flags: FOLLOWS },
  pause: { args: ['ROLLOUT_ID'], flags: [] },
  resume: { args: ['ROLLOUT_ID'], flags: [] },
  abort: { args: ['ROLLOUT_ID'], flags: [] },
  rollout: { args: ['ROLLOUT_ID'], flags: ['follow'] },
  config: { args: ['APP'], flags: ['env'] },
  'config:set': { args: ['APP'], rest: 'KEY=VALUE', flags: ['env', 'secret', ...FOLLOWS] },
  'config:unset': { args: ['APP'], rest: 'KEY', flags: ['env', ...FOLLOWS] },
  'config:import-env': { args: ['APP'], rest: 'NAME', flags: ['env', ...FOLLOWS] },
  releases: { args: ['APP'], flags: ['env', 'limit'] },
  'secrets:rotate': { args: [], flags: [] },
  'registry:prune': { args: [], flags: ['dry-run'] },
  scale: { args: ['APP'], rest: 'PROCESS=N', flags: ['env', ...FOLLOWS] },
  restart: { args: ['APP'], flags: ['env', 'process', ...FOLLOWS] },
};

function isVerb(s: string): s is Exclude<Verb, 'help'> {
  return Object.hasOwn(VERBS, s);
}

function positiveInt(flag: string, v: string | undefined, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,9}$/.test(v) || Number(v) < 1 || Number(v) > max) {
    throw new Error(`--${flag} must be a whole number from 1 to ${max}, not "${v}"`);
  }
  return Number(v);
}

/** Parses `gantry …` arguments into a checked command, or says what is wrong with them. Pure. */
export function parseCommandLine(argv: readonly string[]): Parsed {
  let values: Values;
  let positionals: string[];
  // What follows the first `--` is never read as flags: `run APP -- sh -c 'ls --all'`.
  const dashes = argv.indexOf('--');
  const head = dashes < 0 ? argv : argv.slice(0, dashes);
  const tail = dashes < 0 ? [] : argv.slice(dashes + 1);
  try {
    ({ values, positionals } = parseArgs({
      args: [...head],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
  const [verb, ...args] = [...positionals, ...tail];
  const common: Common = {
    url: values.url,
    token: values.token,
    json: values.json ?? false,
    wait: !values['no-wait'],
  };
  if (!verb || values.help) return { ok: true, command: { verb: 'help' }, common };
  if (!isVerb(verb)) return { ok: false, error: `unknown command "${verb}"` };
  const spec = VERBS[verb];
  const allowed = new Set<Flag>([...CLIENT, ...spec.flags]);
  const stray = (Object.keys(values) as Flag[]).filter((k) => !allowed.has(k));
  if (stray.length > 0) return { ok: false, error: `${verb} does not take --${stray[0]}` };
  if (args.length < spec.args.length) {
    return { ok: false, error: `${verb} needs ${spec.args.slice(args.length).join(' ')}` };
  }
  if (args.length > spec.args.length && !spec.rest) {
    return { ok: false, error: `${verb} takes no argument "${args[spec.args.length]}"` };
  }
  try {
    return { ok: true, command: build(verb, args, values), common };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

function build(verb: Exclude<Verb, 'help'>, args: string[], v: Values): Command {
  const first = args[0] ?? '';
  const env = v.env;
  switch (verb) {
    case 'serve':
      return { verb, config: v.config ?? 'gantry.config.yaml' };
    case 'demo':
      return { verb, keep: v.keep ?? false };
    case 'edge':
      if (!v.dir) throw new Error('edge needs --dir DIR (where the edge keeps its state)');
      // Controllers find the supervisor by the --dir in its command line: it must be the same text.
      if (!v.dir.startsWith('/')) throw new Error(`edge --dir must be an absolute path`);
      return { verb, dir: v.dir, stop: v.stop ?? false };
    case 'apps':
      return { verb };
    case 'apps:release':
      return { verb, app: first };
    case 'status':
      return { verb, app: first };
    case 'history':
      return {
        verb,
        app: first,
        env,
        pr: positiveInt('pr', v.pr?.replace(/^#/, ''), 999_999_999),
        sha: v.sha,
        limit: positiveInt('limit', v.limit, 500),
      };
    case 'deploy':
      return { verb, app: first, ref: args[1] ?? '', env };
    case 'rollback':
      return { verb, app: first, to: v.to, env };
    case 'promote':
      if (!v.from || !v.to) throw new Error('promote needs --from ENV and --to ENV');
      return { verb, app: first, from: v.from, to: v.to };
    case 'lock':
      if (!v.reason?.trim()) throw new Error('lock needs --reason "why deploys are frozen"');
      return { verb, app: first, env, reason: v.reason, until: v.until };
    case 'unlock':
    case 'unpin':
      return { verb, app: first, env };
    case 'prune':
      // No default environment: removing one is never a guess.
      if (!env) throw new Error('prune needs --env ENV (the environment to remove)');
      return { verb, app: first, env, force: v.force ?? false };
    case 'logs':
      return {
        verb,
        app: first,
        env,
        lines: positiveInt('lines', v.lines, 10_000),
        since: v.since === undefined ? undefined : sinceText(v.since),
        follow: v.follow ?? false,
      };
    case 'run':
      if (args.length < 2) throw new Error('run needs a command: gantry run APP [--env E] -- CMD…');
      return {
        verb,
        app: first,
        env,
        command: args.slice(1),
        timeoutSeconds: v.timeout === undefined ? undefined : timeoutSeconds(v.timeout),
      };
    case 'build-log':
      return { verb, buildId: first, follow: v.follow ?? false };
    case 'retry':
    case 'pause':
    case 'resume':
    case 'abort':
      return { verb, rolloutId: first };
    case 'rollout':
      return { verb, rolloutId: first, follow: v.follow ?? false };
    case 'config':
      return { verb, app: first, env };
    case 'config:set':
      return { verb, app: first, env, values: keyValues(args.slice(1)), secret: v.secret ?? false };
    case 'config:unset':
      if (args.length < 2) throw new Error('config:unset needs KEY… (the keys to remove)');
      return { verb, app: first, env, keys: args.slice(1) };
    case 'config:import-env':
      return { verb, app: first, env, names: args.slice(1) };
    case 'releases':
      return { verb, app: first, env, limit: positiveInt('limit', v.limit, 500) };
    case 'secrets:rotate':
      return { verb };
    case 'registry:prune':
      return { verb, dryRun: v['dry-run'] === true };
    case 'scale':
      return { verb, app: first, env, processes: formationArgs(args.slice(1)) };
    case 'restart':
      return { verb, app: first, env, process: v.process };
  }
}

/**
 * `KEY=VALUE…` as a map, split at the first `=` (a value may hold more). Errors name the key and
 * never repeat a value: it may be a secret.
 */
export function keyValues(pairs: readonly string[]): Record<string, string> {
  if (pairs.length === 0) throw new Error('config:set needs KEY=VALUE… (at least one)');
  const out: Record<string, string> = {};
  for (const [i, p] of pairs.entries()) {
    const at = p.indexOf('=');
    if (at <= 0) {
      const what = at === 0 ? 'has no key before "="' : 'has no "="';
      throw new Error(`config:set takes KEY=VALUE…; pair ${i + 1} ${what}`);
    }
    const key = p.slice(0, at);
    if (Object.hasOwn(out, key)) throw new Error(`${key} is given twice`);
    out[key] = p.slice(at + 1);
  }
  return out;
}

/** `--since` checked: a duration (10m, 1h30m) or a time the API will read the same way. */
export function sinceText(since: string): string {
  const text = since.trim();
  if (parseDuration(text) !== undefined || !Number.isNaN(Date.parse(text))) return text;
  throw new Error(
    `--since must be a duration (10m, 2h) or a time (2026-01-31T18:00Z), not "${since}"`,
  );
}

/** `--timeout` (a duration: 90s, 30m, 2h) in whole seconds, at least 1, at most 12 h. */
export function timeoutSeconds(timeout: string): number {
  const ms = parseDuration(timeout.trim());
  if (ms === undefined || ms < 1000 || ms > 12 * 3_600_000) {
    throw new Error(`--timeout must be a duration from 1s to 12h (90s, 30m), not "${timeout}"`);
  }
  return Math.round(ms / 1000);
}

/** `--until` as the API takes it: an ISO time as given, or a duration (30m, 2h, 1d) from `now`. */
export function untilTime(until: string, now: number): string {
  const m = /^(\d{1,6})([mhd])$/.exec(until.trim());
  if (!m) {
    if (Number.isNaN(Date.parse(until))) {
      throw new Error(`--until must be a time (2026-01-31T18:00Z) or a duration (30m, 2h, 1d)`);
    }
    return new Date(Date.parse(until)).toISOString();
  }
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
  return new Date(now + Number(m[1]) * unit).toISOString();
}

export const USAGE = `gantry — push-to-deploy controller

Usage:
  gantry serve [--config gantry.config.yaml]       run the API, webhooks and workers
  gantry demo [--keep]                             push the example app and watch it deploy
  gantry edge --dir DIR [--stop]                   run (or stop) the managed Caddy edge's supervisor
  gantry apps                                      list apps with their newest build
  gantry apps:release APP                          free an app name for another repo folder (admin)
  gantry status APP                                environments, standing, recent rollouts, builds
  gantry history APP [--env E] [--pr N] [--sha S] [--limit N]
                                                   what was deployed where, by whom, and what runs
  gantry deploy APP REF [--env E]                  deploy a branch, tag or commit, and follow it
  gantry rollback APP [--to SHA|vN] [--env E]      roll back (default: the previous healthy release)
  gantry promote APP --from E --to E               run the exact image of one environment in another
  gantry lock APP [--env E] --reason TEXT [--until 2h|TIME]
                                                   freeze deploys of an environment
  gantry unlock APP [--env E]                      lift the freeze
  gantry unpin APP [--env E]                       let automation deploy again after a rollback
  gantry prune APP --env E [--force]               remove an orphaned environment: instances, route,
                                                   record (--force: even when not orphaned)
  gantry logs APP [--env E] [--lines N] [--since 10m] [--follow]
                                                   log lines of every instance, each prefixed by its
                                                   slot; --follow streams on across rollouts
  gantry run APP [--env E] [--timeout 30m] -- CMD ARG…
                                                   run a command in a new container of the running
                                                   release (its config); exits with its exit code
  gantry rollout ROLLOUT_ID [--follow]             one rollout: phase, instances, events
  gantry retry ROLLOUT_ID                          run a failed or aborted rollout's target again
  gantry pause|resume|abort ROLLOUT_ID             steer a running rollout
  gantry build-log BUILD_ID [--follow]             print (and follow) a build's log
  gantry config APP [--env E]                      config vars (values) and secrets (who set them)
  gantry config:set APP KEY=VALUE… [--env E] [--secret]
                                                   set vars (or secrets): a new release, followed live
  gantry config:unset APP KEY… [--env E]           remove vars or secrets: a new release
  gantry releases APP [--env E] [--limit N]        releases (image + config), the current marked
  gantry config:import-env APP [--env E] [NAME…]   import GANTRY_SECRET_<NAME> from the controller's
                                                   environment (default: the app's run.secrets; admin)
  gantry secrets:rotate                            re-seal every secret under the current key (admin)
  gantry registry:prune [--dry-run]                delete registry images no environment can roll
                                                   back to, then collect garbage (admin)
  gantry scale APP PROCESS=N… [--env E]            replicas per process type (web=5 worker=2): a new
                                                   release of what runs, no rebuild, followed live
  gantry restart APP [--env E] [--process P]       replace every instance (of P) through the health
                                                   gates, one by one, followed live

Flags:
  --json        machine-readable output (for deploy/rollback/…: the final rollout only)
  --no-wait     enqueue and print the rollout id without following it
  --url URL     controller URL   (else GANTRY_URL, else the config file, else http://127.0.0.1:8700)
  --token T     API token        (else GANTRY_TOKEN, else the config file's token or tokenCommand)
  Config file:  $GANTRY_CLI_CONFIG or ~/.config/gantry/cli.yaml with url, token or tokenCommand

Exit codes: 0 done (rollout succeeded), 1 failed (rollout failed or aborted, API error,
controller unreachable), 2 bad usage, 3 rollout superseded by a newer one, 130 stopped
following with Ctrl-C (the rollout carries on). gantry run exits with the command's own exit
code (124 when it timed out).`;
