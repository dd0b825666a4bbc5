// Preloaded into a controller by bench/many-apps.ts --profile (`node --import`; Node 20 refuses
// --cpu-prof in NODE_OPTIONS): the first SIGUSR2 starts V8's CPU profiler, the second writes the
// profile, the process's memory breakdown and a heap snapshot to GANTRY_PROFILE_DIR.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';

const dir = process.env.GANTRY_PROFILE_DIR ?? '.';
const session = new Session();
session.connect();
let profiling = false;

const post = (method, params) =>
  new Promise((resolve, reject) =>
    session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))),
  );

process.on('SIGUSR2', () => {
  void (async () => {
    if (!profiling) {
      profiling = true;
      await post('Profiler.enable');
      await post('Profiler.start');
      return;
    }
    profiling = false;
    const { profile } = await post('Profiler.stop');
    writeFileSync(path.join(dir, 'idle.cpuprofile'), JSON.stringify(profile));
    const memory = {
      usage: process.memoryUsage(),
      spaces: v8.getHeapSpaceStatistics(),
      resources: process
        .getActiveResourcesInfo()
        .reduce((m, r) => ({ ...m, [r]: (m[r] ?? 0) + 1 }), {}),
    };
    writeFileSync(path.join(dir, 'memory.json'), JSON.stringify(memory, null, 2));
    v8.writeHeapSnapshot(path.join(dir, 'idle.heapsnapshot'));
    writeFileSync(path.join(dir, 'done'), '');
  })();
});
