/**
 * `gantry`: parses the command line and hands each verb to its module in `commands/`. The
 * controller (serve) and demo are imported only when asked for, so client verbs start fast.
 */
import { assertNever } from '../rollout/assert-never.js';
import { parseCommandLine, USAGE, type Command } from './args.js';
import { apps, releaseApp, status } from './commands/apps.js';
import { buildLog } from './commands/builds.js';
import {
  config,
  configImportEnv,
  configSet,
  configUnset,
  releases,
  secretsRotate,
} from './commands/config.js';
import { processContext, type Ctx } from './commands/context.js';
import { deploy, promote, retry, rollback } from './commands/deploy.js';
import { lock, prune, unlock, unpin } from './commands/environment.js';
import { history } from './commands/history.js';
import { logs } from './commands/logs.js';
import { rollout, steer } from './commands/rollout.js';
import { run } from './commands/run.js';
import { registryPrune } from './commands/registry.js';
import { restart, scale } from './commands/scale.js';
import { EXIT } from './exit.js';
import { errorLine } from './report.js';

/** Runs one command; resolves to its exit code, or to `undefined` for `serve` and `edge`, which keep running. */
async function dispatch(cmd: Command, ctx: Ctx): Promise<number | undefined> {
  switch (cmd.verb) {
    case 'help':
      ctx.out(USAGE);
      return EXIT.ok;
    case 'serve': {
      const { serve } = await import('./commands/serve.js');
      await serve(cmd.config);
      return undefined;
    }
    case 'demo': {
      const { runDemo } = await import('../demo/demo.js');
      return (await runDemo({ keep: cmd.keep })) ? EXIT.ok : EXIT.failed;
    }
    case 'edge': {
      if (cmd.stop) {
        const { stopEdge } = await import('../edge/supervisor/ensure-edge.js');
        await stopEdge(cmd.dir);
        return EXIT.ok;
      }
      const { superviseUntilSignal } = await import('../edge/supervisor/supervisor.js');
      await superviseUntilSignal(cmd.dir);
      return undefined;
    }
    case 'apps':
      return apps(ctx);
    case 'apps:release':
      return releaseApp(ctx, cmd.app);
    case 'status':
      return status(ctx, cmd.app);
    case 'history':
      return history(ctx, cmd);
    case 'deploy':
      return deploy(ctx, cmd);
    case 'rollback':
      return rollback(ctx, cmd);
    case 'promote':
      return promote(ctx, cmd);
    case 'retry':
      return retry(ctx, cmd.rolloutId);
    case 'lock':
      return lock(ctx, cmd);
    case 'unlock':
      return unlock(ctx, cmd);
    case 'unpin':
      return unpin(ctx, cmd);
    case 'prune':
      return prune(ctx, cmd);
    case 'logs':
      return logs(ctx, cmd);
    case 'run':
      return run(ctx, cmd);
    case 'build-log':
      return buildLog(ctx, cmd.buildId, cmd.follow);
    case 'pause':
    case 'resume':
    case 'abort':
      return steer(ctx, cmd.verb, cmd.rolloutId);
    case 'rollout':
      return rollout(ctx, cmd.rolloutId, cmd.follow);
    case 'config':
      return config(ctx, cmd);
    case 'config:set':
      return configSet(ctx, cmd);
    case 'config:unset':
      return configUnset(ctx, cmd);
    case 'config:import-env':
      return configImportEnv(ctx, cmd);
    case 'releases':
      return releases(ctx, cmd);
    case 'secrets:rotate':
      return secretsRotate(ctx);
    case 'registry:prune':
      return registryPrune(ctx, cmd.dryRun);
    case 'scale':
      return scale(ctx, cmd);
    case 'restart':
      return restart(ctx, cmd);
    default:
      return assertNever(cmd);
  }
}

async function main(argv: string[]): Promise<number | undefined> {
  const parsed = parseCommandLine(argv);
  if (!parsed.ok) {
    process.stderr.write(`gantry: ${parsed.error}\n(see gantry --help)\n`);
    return EXIT.usage;
  }
  try {
    return await dispatch(parsed.command, processContext(parsed.common));
  } catch (e) {
    process.stderr.write(`${errorLine(e)}\n`);
    return EXIT.failed;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Exits now: an idle keep-alive socket must not hold the shell for seconds.
    if (code !== undefined) process.exit(code);
  },
  (e: unknown) => {
    process.stderr.write(`${errorLine(e)}\n`);
    process.exit(EXIT.failed);
  },
);
