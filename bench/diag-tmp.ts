import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { startGantryStack } from './lib/gantry-stack.js';
import { runMix } from './lib/mixed-load.js';
import { samplesOf, windowStats } from './lib/samples.js';
import { runLoad } from './lib/run-load.js';

const EXAMPLE = path.resolve('examples/hello');
const app = 'zddiag' + Date.now().toString(36).slice(-4);
const g = await startGantryStack({ dir: path.resolve('.gantry/bench/diag-' + Date.now()), tickMs: 200 });
try {
  await g.wt.copyFrom(EXAMPLE);
  const spec = await readFile(path.join(EXAMPLE, 'gantry.yaml'), 'utf8');
  await g.wt.write('gantry.yaml', spec.replace(/^app: .*$/m, `app: ${app}`).replace(/replicas: \d+/, 'replicas: 4'));
  const sha = await g.wt.commit('r1');
  await g.pushHead(sha, 'r1');
  await g.finishedRollout(app, sha, 120000);
  const url = (await g.controller.rollouts.env(app, 'production')).route!.url;
  for (const variant of ['mix', 'get-only', 'mix', 'get-only']) {
    const start = Date.now();
    const r = variant === 'mix'
      ? (await runMix({ url, rate: 500, postRate: 50, getPath: '/', postPath: '/cgi-bin/info', connections: 32 }, 8)).get
      : await runLoad({ url: url + '/', rate: 500, seconds: 8, connections: 32, method: 'GET', samples: true });
    const s = samplesOf(r);
    const slow = s.filter((x) => x[1] > 900);
    console.log(variant, JSON.stringify(windowStats(s)), 'slow>900:', slow.length, 'at s:', [...new Set(slow.map((x) => Math.floor((x[0] - start) / 1000)))].join(','));
    for (let i = 0; i < 9; i++) {
      const w = windowStats(s, start + i * 1000, start + (i + 1) * 1000);
      process.stdout.write(`  [${i}s n=${w.requests} p99=${w.p99}]`);
    }
    console.log();
  }
} finally {
  for (const i of await g.controller.runtime!.list({ app })) await g.controller.runtime!.remove(i);
  await g.close();
}
