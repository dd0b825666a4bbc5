/**
 * The config verbs: `config`, `config:set`, `config:unset`, `config:import-env`, `releases`,
 * `secrets:rotate`. A change is a release rolled out like a deploy, and followed live the same way.
 */
import { api, appPath, withQuery } from '../client.js';
import {
  configChangeText,
  configText,
  importText,
  releasesText,
  type ConfigAnswer,
  type ConfigChangeAnswer,
  type ReleasesAnswer,
} from '../config-format.js';
import { EXIT, type ExitCode } from '../exit.js';
import { printJson, type Ctx } from './context.js';
import { followToOutcome } from './follow.js';

type Env = string | undefined;

/** `gantry config APP [--env E]` */
export async function config(ctx: Ctx, cmd: { app: string; env?: Env }): Promise<ExitCode> {
  const res = await api<ConfigAnswer>(
    ctx.client(),
    withQuery(appPath(cmd.app, '/config'), { env: cmd.env }),
  );
  if (ctx.common.json) printJson(ctx, res);
  else ctx.out(configText(res, ctx.now()));
  return EXIT.ok;
}

/** Sends a change, says what it made, and follows its rollout when there is one. */
async function change(ctx: Ctx, app: string, body: Record<string, unknown>): Promise<ExitCode> {
  const res = await api<ConfigChangeAnswer>(ctx.client(), appPath(app, '/config'), {
    method: 'PATCH',
    body: JSON.stringify(body),
  });
  return report(ctx, res);
}

async function report(ctx: Ctx, res: ConfigChangeAnswer, extra: string[] = []): Promise<ExitCode> {
  if (!ctx.common.json) {
    for (const l of extra) ctx.out(l);
    ctx.out(configChangeText(res));
  }
  if (!res.rolloutId) {
    if (ctx.common.json) printJson(ctx, res);
    return EXIT.ok;
  }
  return followToOutcome(ctx, res.rolloutId);
}

/** `gantry config:set APP KEY=VALUE… [--env E] [--secret]` */
export function configSet(
  ctx: Ctx,
  cmd: { app: string; env?: Env; values: Record<string, string>; secret: boolean },
): Promise<ExitCode> {
  return change(ctx, cmd.app, {
    env: cmd.env,
    ...(cmd.secret ? { secrets: cmd.values } : { set: cmd.values }),
  });
}

/** `gantry config:unset APP KEY… [--env E]` */
export function configUnset(
  ctx: Ctx,
  cmd: { app: string; env?: Env; keys: string[] },
): Promise<ExitCode> {
  return change(ctx, cmd.app, { env: cmd.env, unset: cmd.keys });
}

/** `gantry config:import-env APP [--env E] [NAME…]`: GANTRY_SECRET_<NAME> become secrets. */
export async function configImportEnv(
  ctx: Ctx,
  cmd: { app: string; env?: Env; names: string[] },
): Promise<ExitCode> {
  const res = await api<ConfigChangeAnswer>(ctx.client(), appPath(cmd.app, '/config/import-env'), {
    method: 'POST',
    body: JSON.stringify({ env: cmd.env, ...(cmd.names.length ? { names: cmd.names } : {}) }),
  });
  return report(ctx, res, importText(res));
}

/** `gantry releases APP [--env E] [--limit N]` */
export async function releases(
  ctx: Ctx,
  cmd: { app: string; env?: Env; limit?: number | undefined },
): Promise<ExitCode> {
  const res = await api<ReleasesAnswer>(
    ctx.client(),
    withQuery(appPath(cmd.app, '/releases'), { env: cmd.env, limit: cmd.limit }),
  );
  if (ctx.common.json) printJson(ctx, res);
  else ctx.out(releasesText(res, ctx.now()));
  return EXIT.ok;
}

/** `gantry secrets:rotate`: after a key rotation, every stored secret under the new key. */
export async function secretsRotate(ctx: Ctx): Promise<ExitCode> {
  const res = await api<{ resealed: number; environments: number }>(
    ctx.client(),
    '/api/secrets/rotate',
    { method: 'POST' },
  );
  if (ctx.common.json) printJson(ctx, res);
  else {
    ctx.out(
      `re-sealed ${res.resealed} secret version${res.resealed === 1 ? '' : 's'} in ${res.environments} environment${res.environments === 1 ? '' : 's'} under the current key`,
    );
  }
  return EXIT.ok;
}
