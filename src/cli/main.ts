import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadControllerConfig } from '../config/controller-config.js';
import { startController } from '../controller.js';
import { runDemo } from '../demo/demo.js';
import { errorMessage, isGantryError } from '../errors.js';
import type { AppRecord, BuildRecord, Revision } from '../store/records.js';
import { api, clientOptions } from './client.js';
import { age, short, table } from './format.js';
import { followBuildLog } from './follow.js';

const USAGE = `gantry — push-to-deploy controller

Usage:
  gantry serve [--config gantry.config.yaml]   run the API, webhooks and workers
  gantry demo [--keep]                         push the example app and watch it build
  gantry apps [--json]                         list apps with their newest build
  gantry status APP [--json]                   an app's revisions and builds
  gantry build-log BUILD_ID [--follow]         print (and follow) a build's log

Client flags: --url (GANTRY_URL, default http://127.0.0.1:8700), --token (GANTRY_TOKEN)`;

interface Flags {
  config?: string | undefined;
  json?: boolean | undefined;
  keep?: boolean | undefined;
  follow?: boolean | undefined;
  url?: string | undefined;
  token?: string | undefined;
  help?: boolean | undefined;
}

async function serve(flags: Flags): Promise<void> {
  const config = loadControllerConfig(flags.config ?? 'gantry.config.yaml');
  const log = pino({ level: process.env.GANTRY_LOG_LEVEL ?? 'info' });
  const controller = await startController(config, { log });
  const stop = async () => {
    log.info('shutting down: finishing active jobs');
    await controller.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

async function apps(flags: Flags): Promise<void> {
  const res = await api<{
    apps: (AppRecord & { latestBuild?: BuildRecord; latestRevision?: Revision })[];
  }>(clientOptions(flags), '/api/apps');
  if (flags.json) return void console.log(JSON.stringify(res.apps, null, 2));
  console.log(
    table(
      ['APP', 'REPO', 'LATEST COMMIT', 'BUILD', 'IMAGE', 'WHEN'],
      res.apps.map((a) => [
        a.name,
        a.repo,
        short(a.latestRevision?.sha),
        a.latestBuild?.status ?? '-',
        a.latestBuild?.image?.tag ?? '-',
        age(a.latestBuild?.createdAt),
      ]),
    ),
  );
}

async function status(app: string, flags: Flags): Promise<void> {
  const res = await api<{ app: AppRecord; revisions: Revision[]; builds: BuildRecord[] }>(
    clientOptions(flags),
    `/api/apps/${encodeURIComponent(app)}`,
  );
  if (flags.json) return void console.log(JSON.stringify(res, null, 2));
  console.log(`app ${res.app.name} (repo ${res.app.repo}, path ${res.app.path})`);
  if (res.app.specError)
    console.log(`spec error at ${short(res.app.specError.sha)}:\n${res.app.specError.message}`);
  console.log('\nbuilds');
  console.log(
    table(
      ['BUILD', 'COMMIT', 'STATUS', 'DIGEST', 'WHEN', 'NOTE'],
      res.builds.map((b) => [
        b.id,
        short(b.sha),
        b.status,
        b.image?.digest.slice(0, 19) ?? '-',
        age(b.createdAt),
        b.failure?.message.split('\n')[0] ?? b.note ?? '',
      ]),
    ),
  );
  console.log('\nrevisions');
  console.log(
    table(
      ['COMMIT', 'PR', 'AUTHOR', 'MESSAGE', 'IMAGE'],
      res.revisions.map((r) => [
        short(r.sha),
        r.commit.prNumber ? `#${r.commit.prNumber}` : '-',
        r.commit.author.name,
        r.commit.message.split('\n')[0]!.slice(0, 50),
        r.image?.pinned ?? '-',
      ]),
    ),
  );
}

/** Exit codes: 0 ok, 1 the thing failed (build failed, API error), 2 bad usage. */
async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean' },
      keep: { type: 'boolean' },
      follow: { type: 'boolean', short: 'f' },
      url: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const flags: Flags = values;
  const [cmd, arg] = positionals;
  if (flags.help || !cmd) {
    console.log(USAGE);
    return cmd || flags.help ? 0 : 2;
  }
  switch (cmd) {
    case 'serve':
      await serve(flags);
      return -1; // keeps running
    case 'demo':
      return (await runDemo({ keep: flags.keep ?? false })) ? 0 : 1;
    case 'apps':
      await apps(flags);
      return 0;
    case 'status':
      if (!arg) break;
      await status(arg, flags);
      return 0;
    case 'build-log': {
      if (!arg) break;
      const build = await followBuildLog(clientOptions(flags), arg, {
        follow: flags.follow ?? false,
        write: (l) => console.log(l),
      });
      return build.status === 'failed' ? 1 : 0;
    }
  }
  console.error(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e: unknown) => {
    console.error(`gantry: ${isGantryError(e) ? `${e.message} (${e.code})` : errorMessage(e)}`);
    process.exit(1);
  },
);
