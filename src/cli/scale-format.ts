/**
 * `gantry scale` and `gantry restart`: their arguments and what they print, as pure functions of
 * the command line and the API's answers (whose shapes are declared here).
 */

/** POST /api/apps/:app/scale */
export interface ScaleAnswer {
  app: string;
  env: string;
  processes: Record<string, number>;
  release: { version: number; line: string } | null;
  rolloutId: string | null;
}

/** POST /api/apps/:app/restart */
export interface RestartAnswer {
  app: string;
  env: string;
  processes: string[];
  release: number | null;
  rolloutId: string;
}

/** The most replicas the command line takes; the controller's own cap is usually lower. */
const MAX_REPLICAS = 100_000;

/**
 * `web=5 worker=2` as a formation. Names are checked by the controller against the app's spec
 * (its error lists the declared ones); here only the shape and the numbers.
 */
export function formationArgs(pairs: readonly string[]): Record<string, number> {
  if (pairs.length === 0) throw new Error('scale needs PROCESS=N… (e.g. web=3)');
  const out: Record<string, number> = {};
  for (const p of pairs) {
    const m = /^([^=]+)=(.*)$/.exec(p);
    if (!m) throw new Error(`scale takes PROCESS=N…, not "${p.slice(0, 40)}"`);
    const [, name = '', count = ''] = m;
    if (!/^\d{1,6}$/.test(count) || Number(count) > MAX_REPLICAS) {
      throw new Error(`${name}: replicas must be a whole number, not "${count.slice(0, 20)}"`);
    }
    if (Object.hasOwn(out, name)) throw new Error(`${name} is given twice`);
    out[name] = Number(count);
  }
  return out;
}

/** `web=5, worker=2` */
function counts(processes: Record<string, number>): string {
  return Object.entries(processes)
    .map(([k, n]) => `${k}=${n}`)
    .join(', ');
}

/** What a scale did, in a line: the formation and the release it made (or that none runs yet). */
export function scaleText(r: ScaleAnswer): string {
  const what = `scaled ${counts(r.processes)} on ${r.app}/${r.env}`;
  if (!r.release) return `${what}; nothing runs there yet: the next deploy takes it`;
  const rollout = r.rolloutId ? `, rollout ${r.rolloutId}` : '';
  return `${what}: release v${r.release.version}${rollout}`;
}

/** What a restart queued, in a line. */
export function restartText(r: RestartAnswer): string {
  const which = r.processes.length === 0 ? 'every process' : r.processes.join(', ');
  const release = r.release === null ? '' : ` (release v${r.release})`;
  return `restarting ${which} of ${r.app}/${r.env}${release}: rollout ${r.rolloutId}`;
}
