/**
 * Cleans up a control plane when the test process dies without closing it: vitest ends its
 * workers with a signal, so neither `afterAll` timers nor `exit` handlers run. A detached shell
 * polls the test process; when it is gone it kills the processes whose pid files are in `dir`
 * (a temporary folder: the test run's own is removed by the global teardown before this runs),
 * removes the node agent's containers and the pod network.
 */
import { spawn } from 'node:child_process';

const SCRIPT = `
parent=$1; dir=$2; label=$3; net=$4
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
pids=$(cat "$dir"/*.pid 2>/dev/null)
[ -n "$pids" ] && kill $pids 2>/dev/null
sleep 3
[ -n "$pids" ] && kill -9 $pids 2>/dev/null
ids=$(docker ps -aq --filter "label=$label")
[ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
docker network rm "$net" >/dev/null 2>&1
rm -rf "$dir"
exit 0
`;

/** Starts the watchdog; the returned function stops it (after a normal close). */
export function startWatchdog(input: { dir: string; label: string; network: string }): () => void {
  const child = spawn(
    'bash',
    [
      '-c',
      SCRIPT,
      'gantry-kube-watchdog',
      String(process.pid),
      input.dir,
      input.label,
      input.network,
    ],
    { detached: true, stdio: 'ignore' },
  );
  child.unref();
  return () => {
    child.kill();
  };
}
