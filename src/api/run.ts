/**
 * `POST /api/apps/:app/run`: a one-off command in a new container of the running release
 * (deployer role). The answer streams as it runs, one JSON object per line (NDJSON): `started`,
 * then `output` chunks (secret values redacted), then `exit` with the exit code. Errors found before
 * the command starts (unknown app, nothing deployed) are ordinary error answers.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import {
  prepareRun,
  RUN_MAX_TIMEOUT_MS,
  type RunCommandDeps,
} from '../deploy/operations/run-command.js';
import { GantryError, errorMessage } from '../errors.js';
import { requireRole, type TokenSource } from './auth.js';
import { appNameParam, nameSchema } from './schemas.js';

export type RunRoutesDeps = Omit<RunCommandDeps, 'config'> & {
  tokens: TokenSource;
  appConfig: RunCommandDeps['config'];
};

/** Piped input a client may send along (`echo … | gantry run`); a terminal session needs more. */
const MAX_STDIN_BYTES = 1 << 20;

/** One line of the answer. */
export type RunFrame =
  | {
      type: 'started';
      app: string;
      env: string;
      release: number | null;
      command: readonly string[];
    }
  | { type: 'output'; stream: 'stdout' | 'stderr'; data: string }
  | { type: 'exit'; exitCode: number; timedOut: boolean; durationMs: number }
  | { type: 'error'; code: string; message: string };

export async function runRoutes(app: FastifyInstance, deps: RunRoutesDeps): Promise<void> {
  const ops: RunCommandDeps = { ...deps, config: deps.appConfig };
  app.addHook('onRequest', requireRole(deps.tokens, 'deployer'));
  app.post<{
    Params: { app: string };
    Body: { env?: string; command: string[]; timeout?: number; stdin?: string };
  }>(
    '/api/apps/:app/run',
    {
      schema: {
        tags: ['operations'],
        summary: 'Run a one-off command in a new container of the running release (deployer)',
        description:
          "The container has the release's image, vars and secrets, and is removed afterwards. The answer is `application/x-ndjson`, streamed: `{type: started}`, `{type: output, stream, data}`…, then `{type: exit, exitCode, timedOut, durationMs}` (or `{type: error}`). Output is redacted of secret values. Recorded in the environment's timeline (kind `run`) with who, the command (secret values redacted) and the exit code.",
        params: appNameParam,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['command'],
          properties: {
            env: nameSchema,
            command: {
              type: 'array',
              minItems: 1,
              maxItems: 256,
              items: { type: 'string', maxLength: 8192 },
            },
            timeout: {
              type: 'integer',
              minimum: 1,
              maximum: RUN_MAX_TIMEOUT_MS / 1000,
              description: 'Seconds before the command is killed (default 1800).',
            },
            stdin: {
              type: 'string',
              maxLength: MAX_STDIN_BYTES,
              description: "Fed to the command's standard input, then closed.",
            },
          },
        },
      },
    },
    async (req, reply) => {
      const who = req.principal?.name;
      if (!who)
        throw new GantryError('GANTRY_ERR_UNAUTHORIZED', 'a valid bearer token is required');
      const stop = new AbortController();
      const { stdin } = req.body;
      const prepared = await prepareRun(ops, {
        app: req.params.app,
        env: req.body.env,
        argv: req.body.command,
        actor: who,
        timeoutMs: req.body.timeout === undefined ? undefined : req.body.timeout * 1000,
        stdin: stdin === undefined ? undefined : Readable.from([Buffer.from(stdin)]),
        signal: stop.signal,
      });
      const res = reply.raw;
      reply.hijack();
      res.writeHead(200, {
        'content-type': 'application/x-ndjson; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
      });
      // A client that hangs up stops the command: nobody would see its end.
      res.on('close', () => {
        if (!res.writableFinished) stop.abort();
      });
      const send = (f: RunFrame) => {
        if (!res.writableEnded) res.write(`${JSON.stringify(f)}\n`);
      };
      send({
        type: 'started',
        app: prepared.app,
        env: prepared.env,
        release: prepared.release,
        command: prepared.shown,
      });
      try {
        const r = await prepared.start({
          onOutput: (data, stream) => send({ type: 'output', stream, data }),
        });
        send({
          type: 'exit',
          exitCode: r.exitCode,
          timedOut: r.timedOut,
          durationMs: r.durationMs,
        });
      } catch (e) {
        const code = e instanceof GantryError ? e.code : 'GANTRY_ERR_DOCKER_UNAVAILABLE';
        send({ type: 'error', code, message: prepared.redact(errorMessage(e)) });
      } finally {
        res.end();
      }
    },
  );
}
