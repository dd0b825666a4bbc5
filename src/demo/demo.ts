import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { hashToken } from '../api/auth.js';
import { registryDigest } from '../build/registry.js';
import { followBuildLog } from '../cli/follow.js';
import { api, type ClientOptions } from '../cli/client.js';
import { parseControllerConfig } from '../config/controller-config.js';
import { startController, type Controller } from '../controller.js';
import { stopEdge } from '../edge/supervisor/ensure-edge.js';
import { createBareRepo, startGitHttpServer } from './git-http-server.js';
import { BASE_IMAGE, ensureDocker, freePort, hasImage, startLocalServices } from './services.js';
import { followRollout, type RolloutView } from '../cli/follow-rollout.js';
import { fetchHistory } from '../cli/commands/history.js';
import { historyTable, standing } from '../cli/format.js';
import type { EnvView } from '../cli/views.js';
import type { Provider } from '../source/webhooks/index.js';
import type { BuildRecord } from '../store/records.js';
import { ForgeRepo } from './forge.js';
import { Worktree } from './worktree.js';

const ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));

const say = (s: string) => console.log(`\n==> ${s}`);
const detail = (s: string) => console.log(`    ${s}`);

function page(version: string): string {
  return `<!doctype html>\n<title>hello</title>\n<h1>hello from gantry, version ${version}</h1>\n`;
}

/** The heading of the page the edge serves (what a user would see). */
async function firstLine(url: string): Promise<string> {
  try {
    const res = await fetch(url);
    const text = await res.text();
    const h1 = text.split('\n').find((l) => l.includes('<h1>')) ?? '';
    return `${res.status} "${h1.replace(/<[^>]+>/g, '').trim()}"`;
  } catch (e) {
    return `unreachable (${String(e)})`;
  }
}

async function productionState(client: ClientOptions): Promise<EnvView> {
  const res = await api<{ environments: EnvView[] }>(
    client,
    '/api/apps/hello/rollouts?env=production',
  );
  const env = res.environments[0];
  if (!env) throw new Error('the API knows no production environment of hello');
  return env;
}

async function edgeUrl(client: ClientOptions): Promise<string> {
  const res = await api<{ environments: { route: { url: string } | null }[] }>(
    client,
    '/api/apps/hello/rollouts?env=production',
  );
  return res.environments[0]?.route?.url ?? '(no route yet)';
}

const BUILD_LINE =
  /^(Step |Successfully|pushing|image |context |fetching|ERROR|[0-9a-f]{12}: digest)/;

/** Streams a build's log (only the milestones when `brief`) and returns the finished build. */
async function showBuild(client: ClientOptions, sha: string, brief = false): Promise<BuildRecord> {
  const first = await waitForBuild(client, 'hello', sha);
  const built = await followBuildLog(client, first.id, {
    follow: true,
    write: (l) => {
      if (!brief || BUILD_LINE.test(l)) detail(`│ ${l}`);
    },
  });
  if (built.status !== 'succeeded') {
    detail(`build ${built.status}: ${built.failure?.message ?? built.note ?? ''}`);
  }
  return built;
}

function showRollout(client: ClientOptions, sha: string): Promise<RolloutView> {
  return followRollout(client, 'hello', 'production', sha, { write: (l) => detail(`▸ ${l}`) });
}

/** Waits until the app has a finished build for `sha`. */
async function waitForBuild(client: ClientOptions, app: string, sha: string): Promise<BuildRecord> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const res = await api<{ builds: BuildRecord[] }>(client, `/api/apps/${app}/builds`).catch(
      () => ({ builds: [] }),
    );
    const build = res.builds.find((b) => b.sha === sha);
    if (build) return build;
    await sleep(200);
  }
  throw new Error(`no build of ${sha.slice(0, 12)} appeared within 3 minutes`);
}

async function pushAndWebhook(
  c: Controller,
  repoUrl: string,
  wt: Worktree,
  forge: ForgeRepo,
  provider: Provider,
  message: string,
): Promise<string> {
  const sha = await wt.commit(message);
  await wt.push();
  detail(`git push → ${repoUrl} (${sha.slice(0, 12)} "${message}")`);
  const res = await forge.pushed(c.url, provider, sha, message);
  detail(
    `signed ${provider} push webhook → ${res.status} ${String(res.body.outcome)} (${String(res.body.detail)})`,
  );
  return sha;
}

/**
 * What `git log --notes=gantry` shows on a fresh clone once the controller has written the notes
 * of `shas` (the reporter pushes them shortly after each rollout ends). Notes are not fetched by
 * `git clone`, so the clone asks for the notes ref as any user would.
 */
async function notesOnFreshClone(repoUrl: string, dir: string, shas: string[]): Promise<string[]> {
  const wt = await Worktree.clone(repoUrl, dir);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const fetched = await wt
      .git('fetch', '--quiet', 'origin', '+refs/notes/gantry:refs/notes/gantry')
      .then(() => true)
      .catch(() => false);
    const noted = fetched
      ? await Promise.all(
          shas.map((sha) =>
            wt.git('notes', '--ref=gantry', 'show', sha).then(
              () => true,
              () => false,
            ),
          ),
        )
      : [];
    if (noted.length > 0 && noted.every(Boolean)) break;
    if (Date.now() > deadline) return ['(no notes on the origin after 60 s)'];
    await sleep(500);
  }
  const log = await wt.git('log', '--notes=gantry', '--format=%h %s%n%N');
  return log.split('\n').filter((l) => l.trim() !== '');
}

/**
 * The main job of the README: start the controller with a private Redis, registry and git
 * server, push the example app, and show its image being built and pushed; then push a broken
 * spec and show that it fails with file, line and column, and nothing is deployed.
 */
export async function runDemo(opts: { keep: boolean }): Promise<boolean> {
  const work = path.join(ROOT, '.gantry', 'demo');
  const edgeDir = path.join(work, 'data', 'edge');
  // An earlier demo killed before its cleanup left its edge serving out of this directory.
  await stopEdge(edgeDir);
  await rm(work, { recursive: true, force: true });

  say('checking the Docker engine and the base image');
  const engine = await ensureDocker();
  detail(`Docker ${engine.version} at ${engine.endpoint}`);
  if (!(await hasImage(BASE_IMAGE))) {
    throw new Error(`base image ${BASE_IMAGE} is missing: run \`bash scripts/base-image.sh\``);
  }
  detail(`base image ${BASE_IMAGE} present (built locally, nothing is pulled)`);

  say('starting Redis (AOF, noeviction), a registry and a git smart-HTTP server on 127.0.0.1');
  const services = await startLocalServices({ root: path.join(work, 'services') });
  const git = await startGitHttpServer({ root: path.join(work, 'git') });
  await createBareRepo(path.join(work, 'git'), 'hello.git', 'main');
  const repoUrl = git.repoUrl('hello.git');
  detail(`redis ${services.redis.url}, registry ${services.registry.address}, git ${repoUrl}`);

  const edgePort = await freePort();
  const secret = randomBytes(24).toString('hex');
  const token = randomBytes(24).toString('base64url');
  const config = parseControllerConfig(
    [
      'listen: { host: 127.0.0.1, port: 0 }',
      `redis: { url: "${services.redis.url}" }`,
      `registry: { address: "${services.registry.address}" }`,
      `dataDir: "${path.join(work, 'data')}"`,
      'build: { timeoutSeconds: 300, debounceMs: 500 }',
      `edge: { basePort: ${edgePort} }`,
      'deploy: { tickMs: 200 }',
      'tokens: [{ name: demo, role: admin, hash: "' + hashToken(token) + '" }]',
      `repos: [{ name: hello, url: "${repoUrl}", branches: [main], webhookSecret: "${secret}" }]`,
    ].join('\n'),
    { file: 'demo config' },
  );
  const log = pino({ level: process.env.GANTRY_LOG_LEVEL ?? 'error' }, pino.destination(2));
  const controller = await startController(config, { log });
  const client: ClientOptions = { url: controller.url, token };
  detail(`controller at ${controller.url}`);

  let ok = true;
  try {
    say("pushing examples/hello to the git server and sending GitHub's push webhook");
    const wt = await Worktree.clone(repoUrl, path.join(work, 'clone'));
    const forge = new ForgeRepo({ repoUrl, fullName: 'demo/hello', secret });
    await wt.copyFrom(path.join(ROOT, 'examples', 'hello'));
    await wt.write('www/index.html', page('1'));
    const good = await pushAndWebhook(
      controller,
      repoUrl,
      wt,
      forge,
      'github',
      'Add the hello app (#1)',
    );

    say(`building ${good.slice(0, 12)} (log streamed from the API while it runs)`);
    const built = await showBuild(client, good);
    if (built.status !== 'succeeded' || !built.image) return false;
    const inRegistry = await registryDigest(services.registry.address, 'hello', good.slice(0, 12));
    detail(`image    ${built.image.tag}`);
    detail(`digest   ${built.image.digest} (registry says ${inRegistry ?? 'nothing'})`);
    ok &&= inRegistry === built.image.digest;

    say(
      'rolling it out: 3 replicas behind the Caddy edge, each health-checked before it gets traffic',
    );
    const first = await showRollout(client, good);
    const url = await edgeUrl(client);
    detail(`edge ${url} → ${await firstLine(url)}`);
    ok &&= first.outcome === 'succeeded';

    say(
      'pushing version 2 with a broken health check (/healthz is gone): it must roll back by itself',
    );
    await rm(path.join(wt.dir, 'www', 'healthz'));
    await wt.write('www/index.html', page('2 (broken)'));
    const bad = await pushAndWebhook(controller, repoUrl, wt, forge, 'github', 'Version 2 (#2)');
    const badBuild = await showBuild(client, bad, true);
    ok &&= badBuild.status === 'succeeded';
    const second = await showRollout(client, bad);
    const served = await firstLine(url);
    detail(`edge ${url} → ${served}`);
    ok &&= second.outcome === 'failed' && served.includes('version 1');
    const env = await productionState(client);
    detail(`production: ${standing(env)}`);
    ok &&= env.pin?.sha === good;

    say('pushing a broken gantry.yaml (sent as a Gitea webhook): it must fail with file:line:col');
    await wt.write('www/healthz', 'ok\n');
    await wt.write('gantry.yaml', 'app: hello\nrun:\n  port: 8080\n  replicas: three\n');
    const broken = await pushAndWebhook(controller, repoUrl, wt, forge, 'gitea', 'Scale to three');
    const failed = await waitForBuild(client, 'hello', broken);
    for (const l of failed.failure?.message.split('\n') ?? []) detail(`│ ${l}`);
    const badTag = await registryDigest(services.registry.address, 'hello', broken.slice(0, 12));
    detail(
      `registry has ${broken.slice(0, 12)}: ${badTag ? 'yes (wrong!)' : 'no — nothing was built or deployed'}`,
    );
    ok &&= failed.status === 'failed' && badTag === undefined;

    say(
      'the history (`gantry history hello`): which commit and PR shipped, who triggered it, how it ended',
    );
    for (const l of historyTable(await fetchHistory(client, { app: 'hello' })).split('\n')) {
      detail(l);
    }

    say(
      'the deployments, written back to git: a fresh clone, then `git log --notes=gantry` (notes under refs/notes/gantry)',
    );
    const notes = await notesOnFreshClone(repoUrl, path.join(work, 'fresh-clone'), [good, bad]);
    for (const l of notes) detail(l);
    ok &&= notes.some((l) => l.includes('succeeded')) && notes.some((l) => l.includes('failed'));

    say('what the API says now (GET /api/apps/hello)');
    const status = await api<{ builds: BuildRecord[] }>(client, '/api/apps/hello');
    for (const b of status.builds) {
      detail(
        `${b.id}  ${b.sha.slice(0, 12)}  ${b.status.padEnd(9)}  ${b.image?.digest ?? b.failure?.code ?? ''}`,
      );
    }
    say(
      ok
        ? `demo finished: version 1 serves at ${await edgeUrl(client)}; the broken health check and the broken spec never reached users`
        : 'demo FAILED',
    );

    if (opts.keep) {
      say(`controller keeps running at ${controller.url} — Ctrl-C to stop`);
      detail(`dashboard: ${controller.url}/ (sign in with the token below)`);
      detail(`export GANTRY_URL=${controller.url} GANTRY_TOKEN=${token}`);
      detail(
        'then: npx gantry status hello · npx gantry history hello · npx gantry rollback hello',
      );
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
  } finally {
    // The demo's containers go with it; `--keep` left them serving until Ctrl-C.
    const runtime = controller.runtime;
    if (runtime) for (const i of await runtime.list({ app: 'hello' })) await runtime.remove(i);
    await controller.close();
    // The edge outlives a controller by design; the demo's goes with the demo, after Ctrl-C
    // with --keep too, since its containers are gone by then.
    await stopEdge(edgeDir);
    await git.close();
    await services.stop();
  }
  return ok;
}
