/**
 * `gantry run`: a one-off command in a new container of the environment's running release, with
 * its config, its output streamed back, the container removed afterwards, and a `run` line in the
 * environment's timeline saying who ran which command (secret values redacted) and how it ended.
 */
import { randomBytes } from 'node:crypto';
import { specForEnv } from '../../config/spec-for-env.js';
import { GantryError } from '../../errors.js';
import type { ConfigStore } from '../../release/config-store.js';
import { secretRedactor, type Redact } from '../../release/redact-secrets.js';
import type { ReleaseStore } from '../../release/releases.js';
import type { Runtime } from '../../runtime/runtime.js';
import { specAt } from '../../source/spec-at.js';
import { EMPTY_CONFIG, type ReleaseConfig } from '../instance-spec.js';
import { oneOffSpec } from '../one-off-spec.js';
import { StreamRedactor } from '../stream-redactor.js';
import { appEnv, type OpsDeps } from './context.js';

export type RunCommandDeps = OpsDeps & {
  runtime?: Runtime | undefined;
  config: ConfigStore;
  releases: ReleaseStore;
};

/** Default and longest time a one-off may run. */
export const RUN_DEFAULT_TIMEOUT_MS = 30 * 60_000;
export const RUN_MAX_TIMEOUT_MS = 12 * 3_600_000;

export interface RunCommandRequest {
  app: string;
  env?: string | undefined;
  argv: readonly string[];
  actor: string;
  timeoutMs?: number | undefined;
  tty?: boolean | undefined;
  stdin?: NodeJS.ReadableStream | undefined;
  signal?: AbortSignal | undefined;
}

/** What a run is about, known before it starts: the redactor its output must pass through. */
export interface PreparedRun {
  app: string;
  env: string;
  release: number | null;
  revision: string;
  /** The argv as it may be shown and recorded. */
  shown: readonly string[];
  redact: Redact;
  start(opts: {
    onOutput: (chunk: string, stream: 'stdout' | 'stderr') => void;
  }): Promise<RunCommandResult>;
}

export interface RunCommandResult {
  exitCode: number;
  timedOut: boolean;
  durationMs: number;
}

/**
 * Resolves the environment's running release and its config; `start` then runs the command.
 * Split in two so the API can answer "not found", "nothing runs" as plain errors before it
 * starts streaming.
 */
export async function prepareRun(
  deps: RunCommandDeps,
  req: RunCommandRequest,
): Promise<PreparedRun> {
  const { app, env } = await appEnv(deps, req.app, req.env);
  const runtime = deps.runtime;
  if (!runtime) {
    throw new GantryError(
      'GANTRY_ERR_DEPLOY_DISABLED',
      'this controller runs no deploys (deploy.enabled is false), so it cannot run commands',
    );
  }
  if (req.argv.length === 0) {
    throw new GantryError('GANTRY_ERR_BAD_REQUEST', 'run needs a command: gantry run APP -- CMD…');
  }
  const state = await deps.rollouts.env(app.name, env);
  const current = state.current;
  if (!current) {
    throw new GantryError(
      'GANTRY_ERR_ENV_EMPTY',
      `nothing runs in ${app.name}/${env} yet: deploy it before running commands there`,
    );
  }
  const config: ReleaseConfig =
    current.release === undefined
      ? EMPTY_CONFIG
      : await releaseConfig(deps, app.name, env, current.release);
  const redact = secretRedactor(Object.values(config.secrets));
  const shown = req.argv.map(redact);
  const revision = await deps.store.getRevision(app.name, current.sha);
  const repo = deps.repos.get(app.repo);
  const spec = specForEnv(
    await specAt(repo, app.path, current.sha, revision?.branch ?? app.environments[env]!.branch),
    env,
  );
  const timeoutMs = Math.min(req.timeoutMs ?? RUN_DEFAULT_TIMEOUT_MS, RUN_MAX_TIMEOUT_MS);
  return {
    app: app.name,
    env,
    release: current.release ?? null,
    revision: current.sha,
    shown,
    redact,
    async start({ onOutput }) {
      const started = Date.now();
      deps.log.info(
        { app: app.name, env, argv: shown, actor: req.actor },
        'one-off command started',
      );
      // Redacted as it streams: what the caller gets is an API response like any other.
      const redactors = {
        stdout: new StreamRedactor(Object.values(config.secrets)),
        stderr: new StreamRedactor(Object.values(config.secrets)),
      };
      const emit = (chunk: string, stream: 'stdout' | 'stderr') => {
        const text = redactors[stream].push(chunk);
        if (text !== '') onOutput(text, stream);
      };
      let result;
      try {
        result = await runtime.runOnce(
          oneOffSpec({
            spec,
            env,
            purpose: 'run',
            // Every run its own container: two people may run commands at once.
            key: `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
            command: req.argv,
            revision: current.sha,
            image: current.image,
            host: runtime.hosts()[0] ?? 'local',
            config,
            release: current.release,
          }),
          {
            timeoutMs,
            onOutput: emit,
            stdin: req.stdin,
            tty: req.tty,
            signal: req.signal,
          },
        );
      } catch (e) {
        flushRedactors(redactors, onOutput);
        await record(deps, app.name, env, {
          by: req.actor,
          argv: shown,
          exitCode: null,
          timedOut: false,
          durationMs: Date.now() - started,
          release: current.release ?? null,
          error: redact(e instanceof Error ? e.message : String(e)),
        });
        throw e;
      }
      flushRedactors(redactors, onOutput);
      const durationMs = Date.now() - started;
      await record(deps, app.name, env, {
        by: req.actor,
        argv: shown,
        exitCode: result.exitCode,
        timedOut: result.timedOut,
        durationMs,
        release: current.release ?? null,
        ...(req.signal?.aborted ? { error: 'the client went away; the command was stopped' } : {}),
      });
      return { exitCode: result.exitCode, timedOut: result.timedOut, durationMs };
    },
  };
}

/** The `run` line of the environment's timeline. */
export interface RunEvent {
  by: string;
  argv: readonly string[];
  /** Null when it could not start. */
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  release: number | null;
  error?: string | undefined;
}

/** `ci ran rake db:seed (v4): exit 0 in 1.2 s`. Pure. */
export function runEventText(e: RunEvent): string {
  const what = `${e.by} ran ${e.argv.join(' ')}${e.release === null ? '' : ` (v${e.release})`}`;
  const secs = `${(e.durationMs / 1000).toFixed(1)} s`;
  if (e.exitCode === null) return `${what}: did not run: ${e.error ?? 'error'}`;
  if (e.timedOut) return `${what}: timed out after ${secs}; killed`;
  return `${what}: exit ${e.exitCode} in ${secs}${e.error ? ` (${e.error})` : ''}`;
}

async function record(deps: RunCommandDeps, app: string, env: string, e: RunEvent): Promise<void> {
  await deps.rollouts
    .appendEnvEvents(app, env, [{ at: Date.now(), kind: 'run', text: runEventText(e), data: e }])
    .catch((err: unknown) => deps.log.warn({ err: String(err) }, 'run not recorded'));
}

async function releaseConfig(
  deps: RunCommandDeps,
  app: string,
  env: string,
  version: number,
): Promise<ReleaseConfig> {
  const rel = await deps.releases.get(app, env, version);
  if (!rel) return EMPTY_CONFIG;
  return { vars: rel.config.vars, secrets: await deps.config.open(app, env, rel.config.secrets) };
}

function flushRedactors(
  redactors: Record<'stdout' | 'stderr', StreamRedactor>,
  onOutput: (chunk: string, stream: 'stdout' | 'stderr') => void,
): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    const rest = redactors[stream].end();
    if (rest !== '') onOutput(rest, stream);
  }
}
