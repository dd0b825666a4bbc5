// TEMPORARY: collects real CLI output for docs/readme/cli.md (deleted after use).
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, it } from 'vitest';
import { EXAMPLE, ROOT, closeWithInstances, finishedRollout, startFixture, type Fixture } from '../support/controller-fixture.js';
import { gantry } from './cli-process.js';

let f: Fixture;
const app = 'hello';
const out: string[] = [];
beforeAll(async () => {
  f = await startFixture({ deploy: true });
  const spec = await readFile(path.join(EXAMPLE, 'gantry.yaml'), 'utf8');
  await f.wt.write('gantry.yaml', spec.replace('replicas: 3', 'replicas: 2'));
  await f.wt.write('www/index.html', '<h1>first</h1>\n');
  const a = await f.push('github', 'Merge pull request #41 from acme/first-page\n\nFirst page');
  await finishedRollout(f, app, a);
  await f.wt.write('www/index.html', '<h1>second</h1>\n');
  const b = await f.push('github', 'Add greeting (#42)');
  await finishedRollout(f, app, b);
}, 300_000);
afterAll(async () => {
  await writeFile('/tmp/cli-docs-sample.txt', out.join('\n'));
  await closeWithInstances(f, app);
});

it('samples', async () => {
  const run = async (args: string[], client = f.client) => {
    const r = await gantry(args, { client });
    out.push(`$ gantry ${args.join(' ')}   # exit ${r.code}`, r.stdout + r.stderr);
  };
  await run(['apps']);
  await run(['status', app]);
  await run(['history', app]);
  await run(['history', app, '--pr', '42']);
  await run(['logs', app, '--lines', '3']);
  await run(['rollback', app], f.client);
  // On a terminal (pseudo-TTY through script(1)): the redraw escape codes, raw.
  const env = { ...process.env, GANTRY_URL: f.deployer.url, GANTRY_TOKEN: f.deployer.token!, GANTRY_CLI_CONFIG: '/nonexistent', TERM: 'xterm', COLUMNS: '100' };
  const tty = await promisify(execFile)('script', ['-qfc', `node ${path.join(ROOT, 'bin/gantry.js')} rollback ${app}`, '/dev/null'], { env }).catch((e: { stdout: string }) => e);
  out.push('$ gantry rollback hello   # on a TTY (raw)', JSON.stringify(tty.stdout));
  await run(['history', app, '--pr', '42']);
  await run(['lock', app, '--env', 'production', '--reason', 'launch day', '--until', '2h'], f.deployer);
  await run(['status', app]);
  await run(['unlock', app, '--env', 'production'], f.deployer);
  await run(['deploy', app, 'main'], f.deployer);
  await run(['unpin', app, '--env', 'production'], f.deployer);
  const ids = (await f.controller.rollouts.list(app, 'production')).map((r) => r.id);
  await run(['rollout', ids[0]!]);
  await run(['retry', ids[0]!], f.deployer);
  await run(['history', app]);
}, 300_000);
