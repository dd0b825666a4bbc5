import type { AppRecord, BuildRecord, Revision } from '../../store/records.js';
import { api, appPath } from '../client.js';
import { EXIT, type ExitCode } from '../exit.js';
import { age, clip, envStatusBlock, envTable, rolloutTable, short, table } from '../format.js';
import type { EnvView, RolloutView, TimelineEvent } from '../views.js';
import { printJson, type Ctx } from './context.js';

type AppSummary = AppRecord & { latestBuild?: BuildRecord; latestRevision?: Revision };

/** `gantry apps`: every app with its newest commit and build. */
export async function apps(ctx: Ctx): Promise<ExitCode> {
  const res = await api<{ apps: AppSummary[] }>(ctx.client(), '/api/apps');
  if (ctx.common.json) return (printJson(ctx, res.apps), EXIT.ok);
  const now = ctx.now();
  ctx.out(
    table(
      ['APP', 'REPO', 'ENVIRONMENTS', 'LATEST COMMIT', 'BUILD', 'WHEN'],
      res.apps.map((a) => [
        a.name,
        a.repo,
        Object.keys(a.environments ?? {}).join(',') || '-',
        short(a.latestRevision?.sha),
        a.latestBuild?.status ?? '-',
        age(a.latestBuild?.createdAt, now),
      ]),
    ),
  );
  return EXIT.ok;
}

/** `gantry apps:release APP`: forgets who owns the name; the next repo folder to name it claims it. */
export async function releaseApp(ctx: Ctx, app: string): Promise<ExitCode> {
  const res = await api<{ app: string; released: { repo: string; path: string } }>(
    ctx.client(),
    appPath(app, '/owner'),
    { method: 'DELETE' },
  );
  if (ctx.common.json) return (printJson(ctx, res), EXIT.ok);
  ctx.out(
    `released ${app} (was repo ${res.released.repo}, folder ${res.released.path}); the next push naming it claims it`,
  );
  return EXIT.ok;
}

const RECENT = 5;
/** Timeline lines shown per environment. */
const TIMELINE = 5;

/** Each environment's last timeline lines; an older controller without the route gives none. */
async function timelines(ctx: Ctx, app: string, envs: readonly EnvView[]) {
  const client = ctx.client();
  const lists = await Promise.all(
    envs.map((e) =>
      api<{ events: TimelineEvent[] }>(
        client,
        appPath(app, `/timeline?env=${encodeURIComponent(e.env)}&limit=${TIMELINE}`),
      ).then(
        (r) => r.events,
        () => [],
      ),
    ),
  );
  return Object.fromEntries(envs.map((e, i) => [e.env, lists[i] ?? []]));
}

/**
 * `gantry status APP`: environments with what runs and their standing; per environment sync,
 * health, instances and its last timeline lines; recent rollouts; builds.
 */
export async function status(ctx: Ctx, app: string): Promise<ExitCode> {
  const client = ctx.client();
  const [detail, deployed] = await Promise.all([
    api<{ app: AppRecord; revisions: Revision[]; builds: BuildRecord[] }>(client, appPath(app)),
    api<{ environments: EnvView[]; rollouts: RolloutView[] }>(client, appPath(app, '/rollouts')),
  ]);
  const timeline = await timelines(ctx, app, deployed.environments);
  if (ctx.common.json) return (printJson(ctx, { ...detail, ...deployed, timeline }), EXIT.ok);
  const now = ctx.now();
  const a = detail.app;
  ctx.out(`app ${a.name} (repo ${a.repo}, path ${a.path})`);
  if (a.specError) {
    ctx.out(`spec error at ${short(a.specError.sha)}:\n${a.specError.message}`);
  }
  ctx.out('\nenvironments');
  ctx.out(envTable(deployed.environments, a.environments, now));
  ctx.out('\nstatus');
  ctx.out(
    deployed.environments
      .map((e) => envStatusBlock(a.name, e, timeline[e.env] ?? [], now))
      .join('\n\n'),
  );
  ctx.out('\nrecent rollouts');
  ctx.out(
    deployed.rollouts.length ? rolloutTable(deployed.rollouts.slice(0, RECENT), now) : '(none yet)',
  );
  ctx.out('\nbuilds');
  ctx.out(
    table(
      ['BUILD', 'COMMIT', 'MESSAGE', 'STATUS', 'WHEN', 'NOTE'],
      detail.builds.slice(0, RECENT).map((b) => {
        const rev = detail.revisions.find((r) => r.sha === b.sha);
        return [
          b.id,
          short(b.sha),
          clip(rev?.commit.message.split('\n')[0] ?? '', 40) || '-',
          b.status,
          age(b.createdAt, now),
          clip(b.failure?.message.split('\n')[0] ?? b.note ?? '', 60),
        ];
      }),
    ),
  );
  return EXIT.ok;
}
