/**
 * bench/push-to-live: one small change pushed, until the first 200 from the new revision. Gantry
 * (signed webhook → fetch → build → push → rollout → first 200 through its edge) against a shell
 * baseline doing the same steps with the git CLI and plain docker commands (git fetch + checkout,
 * docker build, docker push, docker run, GET every 20 ms until 200), in the same run.
 *
 *   npx tsx bench/push-to-live.ts [--rounds 3]
 *
 * Both build examples/hello (1 replica) FROM the same local base image with warm layer caches;
 * each side's pages carry their own marker so neither reuses the other's layers. Gantry's health
 * check asks for one passing probe, as the baseline's first 200 is. Prints the median of each
 * phase per side, the totals and their ratio. Bounded; loopback only; removes what it created.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { createBareRepo } from '../src/demo/git-http-server.js';
import { ForgeRepo } from '../src/demo/forge.js';
import { freePort } from '../src/demo/services.js';
import { Worktree } from '../src/demo/worktree.js';
import { startGantryStack, type GantryStack } from './lib/gantry-stack.js';
import { phaseTable, type Phases } from './lib/phases.js';
import { removeApps } from './lib/remove-apps.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const EXAMPLE = path.join(ROOT, 'examples', 'hello');
const TIMEOUT_MS = 120_000;
const POLL_MS = 20;

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const ROUNDS = Math.max(1, Math.min(10, Number(values.rounds)));

/** Polls `url` until it answers 200 with `marker` in the body; returns when it first did. */
async function first200(url: string, marker: string): Promise<number> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (Date.now() < deadline) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) })
      .then(async (r) => r.status === 200 && (await r.text()).includes(marker))
      .catch(() => false);
    if (ok) return Date.now();
    await sleep(POLL_MS);
  }
  throw new Error(`no 200 with ${marker} from ${url} in ${TIMEOUT_MS} ms`);
}

const ms = (iso: string | undefined): number => {
  const t = iso === undefined ? Number.NaN : Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`not a timestamp: ${iso}`);
  return t;
};

interface GantrySide {
  g: GantryStack;
  app: string;
  forge: ForgeRepo;
  edgeUrl: string;
}

/** Gantry's phases, from the bench's clock and the build and rollout records. */
async function gantryRound(s: GantrySide, marker: string): Promise<Phases> {
  await s.g.wt.write('www/index.html', `<h1>${marker}</h1>\n`);
  const sha = await s.g.wt.commit(marker);
  await s.g.wt.push();
  const t0 = Date.now();
  await s.forge.accepted(s.g.controller.url, 'github', sha, marker);
  const hooked = Date.now();
  const live = await first200(s.edgeUrl, marker);
  const rollout = await s.g.finishedRollout(s.app, sha, TIMEOUT_MS);
  const build = (await s.g.controller.store.listBuilds(s.app, 10)).find((b) => b.sha === sha);
  if (!build) throw new Error(`no build of ${sha}`);
  return {
    'webhook answered': hooked - t0,
    'fetch + spec (sync job)': ms(build.createdAt) - hooked,
    'build queued (debounce, pickup)': ms(build.startedAt) - ms(build.createdAt),
    'build + push': ms(build.finishedAt) - ms(build.startedAt),
    'rollout queued': ms(rollout.createdAt) - ms(build.finishedAt),
    'start → first 200': live - ms(rollout.createdAt),
    total: live - t0,
  };
}

interface BaselineSide {
  dev: Worktree;
  deployDir: string;
  registry: string;
  name: string;
  containers: string[];
  images: string[];
}

async function timed(phases: Phases, name: string, work: () => Promise<unknown>): Promise<void> {
  const t = Date.now();
  await work();
  phases[name] = (phases[name] ?? 0) + (Date.now() - t);
}

/** The same push deployed by hand: each step a plain command, timed. */
async function baselineRound(b: BaselineSide, marker: string): Promise<Phases> {
  await b.dev.write('www/index.html', `<h1>${marker}</h1>\n`);
  const sha = await b.dev.commit(marker);
  await b.dev.push();
  const phases: Phases = {};
  const t0 = Date.now();
  const git = (...args: string[]) => run('git', ['-C', b.deployDir, ...args]);
  await timed(phases, 'git fetch + checkout', async () => {
    await git('fetch', '--quiet', 'origin', 'main');
    await git('checkout', '--quiet', '--force', 'FETCH_HEAD');
  });
  const image = `${b.registry}/${b.name}:${sha.slice(0, 12)}`;
  b.images.push(image);
  await timed(phases, 'docker build', () =>
    run('docker', ['build', '-q', '-t', image, b.deployDir], { maxBuffer: 1 << 24 }),
  );
  await timed(phases, 'docker push', () => run('docker', ['push', '-q', image]));
  const port = await freePort();
  const container = `${b.name}-${sha.slice(0, 8)}`;
  await timed(phases, 'docker run', () =>
    run('docker', ['run', '-d', '--name', container, '-p', `127.0.0.1:${port}:8080`, image]),
  );
  const live = await first200(`http://127.0.0.1:${port}/`, marker);
  phases['run → first 200'] = live - t0 - Object.values(phases).reduce((a, v) => a + v, 0);
  phases.total = live - t0;
  // The old container goes once the new one answers, as a rollout would.
  const old = b.containers.pop();
  b.containers.push(container);
  if (old) await run('docker', ['rm', '-f', old]).catch(() => undefined);
  return phases;
}

async function main(): Promise<void> {
  const started = Date.now();
  const app = `p2l${randomBytes(3).toString('hex')}`;
  const dir = path.resolve('.gantry', 'bench', `push-to-live-${Date.now()}`);
  const { stdout: dockerVersion } = await run('docker', [
    'version',
    '--format',
    '{{.Server.Version}}',
  ]);
  console.log(
    `push-to-live: examples/hello, 1 replica, ${ROUNDS} rounds (median per phase); docker ${dockerVersion.trim()}, node ${process.version}`,
  );
  const g = await startGantryStack({ dir, tickMs: 250 });
  const config = g.controller.config.current();
  const repo = config.repos[0]!;
  const baseline: BaselineSide = {
    dev: undefined as unknown as Worktree,
    deployDir: path.join(dir, 'baseline-deploy'),
    registry: config.registry.address,
    name: `${app}-baseline`,
    containers: [],
    images: [],
  };
  try {
    // Gantry's side: the example with one replica and one passing probe to go live.
    const spec = (await readFile(path.join(EXAMPLE, 'gantry.yaml'), 'utf8'))
      .replace(/^app: .*$/m, `app: ${app}`)
      .replace(/replicas: \d+/, 'replicas: 1')
      .replace(/healthyThreshold: \d+/, 'healthyThreshold: 1');
    await g.wt.copyFrom(EXAMPLE);
    await g.wt.write('gantry.yaml', spec);
    const forge = new ForgeRepo({
      repoUrl: repo.url,
      fullName: 'acme/app',
      secret: repo.webhookSecret ?? '',
    });
    await g.wt.write('www/index.html', '<h1>gantry warm-up</h1>\n');
    const first = await g.wt.commit('warm-up');
    await g.wt.push();
    await forge.accepted(g.controller.url, 'github', first, 'warm-up');
    const initial = await g.finishedRollout(app, first, TIMEOUT_MS);
    if (initial.outcome !== 'succeeded') throw new Error(`warm-up: ${initial.reason}`);
    const edgeUrl = (await g.controller.rollouts.env(app, 'production')).route?.url;
    if (!edgeUrl) throw new Error('the environment has no route');
    const side: GantrySide = { g, app, forge, edgeUrl };

    // The baseline's side: its own repository on the same git server, a developer's clone and
    // the deploy host's clone; the same files.
    const baseUrl = repo.url.replace(/[^/]+\.git$/, 'baseline.git');
    await createBareRepo(path.join(dir, 'git'), 'baseline.git', 'main');
    baseline.dev = await Worktree.clone(baseUrl, path.join(dir, 'baseline-dev'));
    await baseline.dev.copyFrom(EXAMPLE);
    await baseline.dev.write('www/index.html', '<h1>baseline warm-up</h1>\n');
    await baseline.dev.commit('warm-up');
    await baseline.dev.push();
    await run('git', ['clone', '--quiet', baseUrl, baseline.deployDir]);
    await baselineRound(baseline, 'baseline warm-up 2');

    const gantry: Phases[] = [];
    const shell: Phases[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      // Alternate who goes first, so drift hits both alike.
      if (r % 2 === 1) {
        gantry.push(await gantryRound(side, `gantry round ${r}`));
        shell.push(await baselineRound(baseline, `baseline round ${r}`));
      } else {
        shell.push(await baselineRound(baseline, `baseline round ${r}`));
        gantry.push(await gantryRound(side, `gantry round ${r}`));
      }
      process.stderr.write(
        `  round ${r}: gantry ${gantry.at(-1)!.total} ms, baseline ${shell.at(-1)!.total} ms\n`,
      );
    }
    console.log('');
    for (const line of phaseTable('Gantry', gantry, 'shell baseline', shell)) console.log(line);
    console.log('');
    console.log(
      'Gantry: push → signed GitHub webhook → sync job (isomorphic-git fetch, gantry.yaml) → build job',
    );
    console.log(
      '  (docker build of the commit tree, push) → rollout (start, 1 passing GET /healthz, route) → GET via the edge',
    );
    console.log(
      `baseline: git fetch origin main && git checkout FETCH_HEAD; docker build -q -t IMG .; docker push -q IMG;`,
    );
    console.log(
      `  docker run -d -p 127.0.0.1:PORT:8080 IMG; GET http://127.0.0.1:PORT/ every ${POLL_MS} ms until 200; docker rm -f OLD`,
    );
    console.log(`whole bench: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    if (g.controller.runtime) await removeApps(g.controller.runtime, [app]);
    await g.close();
    if (baseline.containers.length > 0) {
      await run('docker', ['rm', '-f', ...baseline.containers]).catch(() => undefined);
    }
    if (baseline.images.length > 0) {
      await run('docker', ['rmi', ...baseline.images]).catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
