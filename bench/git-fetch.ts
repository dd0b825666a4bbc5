/**
 * bench/git-fetch: how isomorphic-git (through RepoCache) compares with the git CLI when fetching
 * over real smart HTTP from a local `git http-backend`.
 *
 *   npx tsx bench/git-fetch.ts [--commits 3000] [--runs 5]
 *
 * Generates a repository with `git fast-import` (N commits, each adding one file and touching a
 * changelog), serves it on 127.0.0.1, then times full clone, shallow (depth 1) clone, incremental
 * fetch of 50 new commits (after a full and after a shallow clone) and a head lookup. Gantry's
 * RepoCache runs twice: as shipped (packs indexed with node's zlib and SHA-1) and with the pack
 * index left to isomorphic-git (what that change bought). Each run happens in a fresh node
 * process, so its peak RSS is its own; the CLI's is GNU time's %M (the largest git process).
 * CPU time (user + system; git's with the children it waits for) is printed beside wall time:
 * on a machine shared with other work it moves less. Prints medians; asserts nothing.
 */
import { execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createBareRepo, isolatedGitEnv, startGitHttpServer } from '../src/demo/git-http-server.js';
import { RepoCache } from '../src/source/repo-cache.js';

const run = promisify(execFile);
const GROWN = 50; // commits added for the incremental fetch
const env = isolatedGitEnv();

type IsoOp = 'full' | 'shallow' | 'incremental' | 'head';
interface Sample {
  ms: number;
  /** User + system CPU time: on a shared machine, less swayed by other load than `ms`. */
  cpuMs: number | null;
  rssMb: number | null;
}

// ---- worker: one isomorphic-git operation in a fresh process -------------------------------------

type Indexer = 'native' | 'isomorphic-git';

async function worker(op: IsoOp, url: string, dir: string, packIndexer: Indexer): Promise<void> {
  const cache = new RepoCache({ url, dir, packIndexer });
  const baseline = process.resourceUsage().maxRSS;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  if (op === 'full') await cache.fetch('main', { depth: Infinity });
  else if (op === 'shallow') await cache.fetch('main');
  else if (op === 'incremental') await cache.fetch('main');
  else await cache.headOf('main');
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const rssMb = (process.resourceUsage().maxRSS - baseline) / 1024;
  process.stdout.write(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, rssMb }));
}

async function iso(
  op: IsoOp,
  url: string,
  dir: string,
  indexer: Indexer = 'native',
): Promise<Sample> {
  const self = fileURLToPath(import.meta.url);
  const args = [...process.execArgv, self, '--worker', op, url, dir, indexer];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`isomorphic-git ${op} worker exited with ${code}`);
  return JSON.parse(out) as Sample;
}

// ---- git CLI, timed from outside, peak RSS from GNU time -----------------------------------------

async function cli(args: string[]): Promise<Sample> {
  const t0 = performance.now();
  // %U and %S count git's children too (index-pack, fetch-pack), which it waits for.
  const { stderr } = await run('/usr/bin/time', ['-f', '%M %U %S', 'git', ...args], {
    env,
    maxBuffer: 1 << 24,
  });
  const ms = performance.now() - t0;
  const [kb, user, sys] = (stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  const cpuMs = user !== undefined && sys !== undefined ? (user + sys) * 1000 : NaN;
  return {
    ms,
    cpuMs: Number.isFinite(cpuMs) ? cpuMs : null,
    rssMb: kb !== undefined && Number.isFinite(kb) ? kb / 1024 : null,
  };
}

// ---- the repository ------------------------------------------------------------------------------

/** Deterministic filler text, so blobs compress like source code rather than like zeros. */
function text(seed: number, lines: number): string {
  const words = [
    'const',
    'return',
    'value',
    'await',
    'import',
    'export',
    'function',
    'result',
    'config',
    'deploy',
  ];
  let x = seed * 2654435761;
  const out: string[] = [];
  for (let l = 0; l < lines; l++) {
    const line: string[] = [];
    for (let w = 0; w < 6; w++) {
      x = (x * 1103515245 + 12345) >>> 0;
      line.push(`${words[x % words.length]}${x % 97}`);
    }
    out.push(line.join(' '));
  }
  return `${out.join('\n')}\n`;
}

function data(s: string): string {
  return `data ${Buffer.byteLength(s)}\n${s}\n`;
}

/** A fast-import stream of `n` commits on `ref`; commit i adds src/m<i%50>/f<i>.ts and edits CHANGELOG.md. */
function fastImport(n: number, ref: string): string {
  const parts: string[] = [];
  const changelog: string[] = [];
  for (let i = 1; i <= n; i++) {
    changelog.push(`- change ${i}: ${text(i, 1).trim()}`);
    if (changelog.length > 100) changelog.shift();
    const ts = 1_700_000_000 + i * 60;
    parts.push(
      `commit ${ref}\nmark :${i}\n`,
      `author Bench <bench@example.test> ${ts} +0000\ncommitter Bench <bench@example.test> ${ts} +0000\n`,
      data(`change ${i}`),
      i > 1 ? `from :${i - 1}\n` : '',
      `M 100644 inline src/m${i % 50}/f${i}.ts\n`,
      data(text(i, 20)),
      'M 100644 inline CHANGELOG.md\n',
      data(`${changelog.join('\n')}\n`),
      '\n',
    );
  }
  return parts.join('');
}

async function generate(repo: string, commits: number): Promise<{ base: string; grown: string }> {
  const child = spawn('git', ['--git-dir', repo, 'fast-import', '--quiet'], {
    env,
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  child.stdin.end(fastImport(commits + GROWN, 'refs/keep/grown'));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`git fast-import exited with ${code}`);
  // One well-deltified pack, like a server that has run gc.
  await run('git', ['--git-dir', repo, 'repack', '-adq'], { env });
  const rev = async (r: string): Promise<string> =>
    (await run('git', ['--git-dir', repo, 'rev-parse', r], { env })).stdout.trim();
  return { base: await rev(`refs/keep/grown~${GROWN}`), grown: await rev('refs/keep/grown') };
}

// ---- the table -----------------------------------------------------------------------------------

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function row(name: string, isoS: Sample[], jsS: Sample[], cliS: Sample[]): string[] {
  const im = median(isoS.map((s) => s.ms));
  const jm = median(jsS.map((s) => s.ms));
  const cm = median(cliS.map((s) => s.ms));
  const cpu = (xs: Sample[]): number | null => {
    const v = xs.map((s) => s.cpuMs).filter((x): x is number => x !== null);
    return v.length === 0 ? null : median(v);
  };
  const ic = cpu(isoS);
  const cc = cpu(cliS);
  const mb = (xs: Sample[]): string => {
    const v = xs.map((s) => s.rssMb).filter((x): x is number => x !== null);
    return v.length === 0 ? '-' : Math.max(...v).toFixed(0);
  };
  return [
    name,
    im.toFixed(0),
    jm.toFixed(0),
    cm.toFixed(0),
    `${(im / cm).toFixed(2)}x`,
    `${(jm / cm).toFixed(2)}x`,
    ic === null ? '-' : ic.toFixed(0),
    cc === null ? '-' : cc.toFixed(0),
    ic === null || cc === null || cc === 0 ? '-' : `${(ic / cc).toFixed(2)}x`,
    mb(isoS),
    mb(jsS),
    mb(cliS),
  ];
}

function print(rows: string[][]): void {
  const head = [
    'operation',
    'Gantry ms',
    'JS index ms',
    'git CLI ms',
    'Gantry/CLI',
    'JS index/CLI',
    'Gantry CPU ms',
    'CLI CPU ms',
    'CPU ratio',
    'Gantry RSS Δ MB',
    'JS RSS Δ MB',
    'CLI RSS MB',
  ];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i === -1 ? undefined : Number(process.argv[i + 1]);
  return v !== undefined && Number.isInteger(v) && v > 0 ? v : fallback;
}

async function main(): Promise<void> {
  const commits = arg('--commits', 3000);
  const runs = arg('--runs', 5);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'gantry-bench-git-'));
  const root = path.join(tmp, 'srv');
  const repo = await createBareRepo(root, 'bench.git', 'main');
  const server = await startGitHttpServer({ root });
  const url = server.repoUrl('bench.git');
  const setMain = (sha: string): Promise<unknown> =>
    run('git', ['--git-dir', repo, 'update-ref', 'refs/heads/main', sha], { env });
  let n = 0;
  const fresh = (): string => path.join(tmp, `c${++n}`);
  try {
    let t0 = performance.now();
    const { base, grown } = await generate(repo, commits);
    const objects = (await run('git', ['--git-dir', repo, 'count-objects', '-v'], { env })).stdout;
    const packKb = /size-pack: (\d+)/.exec(objects)?.[1] ?? '?';
    const files =
      (
        await run('git', ['--git-dir', repo, 'ls-tree', '-r', '--name-only', base], { env })
      ).stdout.split('\n').length - 1;
    console.log(
      `repo: ${commits} commits (+${GROWN} for the incremental), ${files} files at head, pack ${(Number(packKb) / 1024).toFixed(1)} MB; generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    console.log(`runs per cell: ${runs} (median); server: git http-backend ${url}\n`);
    t0 = performance.now();
    await setMain(base);

    const rows: string[][] = [];
    const bases = { isoFull: '', cliFull: '', isoShallow: '', cliShallow: '' };
    const measure = async (
      name: string,
      isoRun: (indexer: Indexer) => Promise<Sample>,
      cliRun: () => Promise<Sample>,
    ): Promise<void> => {
      const isoS: Sample[] = [];
      const jsS: Sample[] = [];
      const cliS: Sample[] = [];
      // Alternate, so drift (page cache, CPU frequency) hits every side alike.
      for (let i = 0; i < runs; i++) {
        isoS.push(await isoRun('native'));
        jsS.push(await isoRun('isomorphic-git'));
        cliS.push(await cliRun());
      }
      rows.push(row(name, isoS, jsS, cliS));
      process.stderr.write(`  done: ${name}\n`);
    };

    await measure(
      'head lookup (ls-remote)',
      (ix) => iso('head', url, fresh(), ix),
      () => cli(['ls-remote', url, 'refs/heads/main']),
    );
    await measure(
      'full clone',
      (ix) => iso('full', url, (bases.isoFull = fresh()), ix),
      () => cli(['clone', '--bare', '--quiet', url, (bases.cliFull = fresh())]),
    );
    await measure(
      'shallow clone (depth 1)',
      (ix) => iso('shallow', url, (bases.isoShallow = fresh()), ix),
      () => cli(['clone', '--bare', '--quiet', '--depth', '1', url, (bases.cliShallow = fresh())]),
    );

    await setMain(grown);
    const copyOf = async (dir: string): Promise<string> => {
      const to = fresh();
      await cp(dir, to, { recursive: true });
      return to;
    };
    const cliFetch = async (dir: string): Promise<Sample> =>
      cli([
        '--git-dir',
        await copyOf(dir),
        'fetch',
        '--quiet',
        'origin',
        '+refs/heads/main:refs/heads/main',
      ]);
    await measure(
      `incremental fetch, +${GROWN} commits (full clone)`,
      async (ix) => iso('incremental', url, await copyOf(bases.isoFull), ix),
      () => cliFetch(bases.cliFull),
    );
    await measure(
      `incremental fetch, +${GROWN} commits (shallow clone)`,
      async (ix) => iso('incremental', url, await copyOf(bases.isoShallow), ix),
      () => cliFetch(bases.cliShallow),
    );

    console.log('');
    print(rows);
    console.log(`\nmeasured in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    await server.close();
    await rm(tmp, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--worker') {
  const [, , , op, url, dir, indexer] = process.argv;
  await worker(op as IsoOp, url!, dir!, indexer === 'isomorphic-git' ? indexer : 'native');
} else {
  await main();
}
