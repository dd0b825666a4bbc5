/**
 * The supervised edge's directory: every file name in it (one owner), and `edge.json`, which says
 * which processes serve it and where their admin APIs are: a Unix socket in each tier's directory
 * (the directory is 0700), a fixed path, so a controller, a restarted Caddy and a new supervisor
 * all find the same APIs again. An edge an older Gantry started has TCP ports there instead
 * (`adminPort`); it is adopted as it is and moves to the socket when its Caddy next restarts.
 *
 *   DIR/edge.json             this state
 *   DIR/edge.log              the supervisor's own log
 *   DIR/supervisor.lock       held by the running supervisor (one per DIR)
 *   DIR/ensure.lock           held while a controller checks for, and maybe starts, the supervisor
 *   DIR/<tier>/               mode 0700: only the controller's user may reach what is inside
 *   DIR/<tier>/admin.sock     the admin API
 *   DIR/<tier>/caddy.json     the initial config (ignored once Caddy has autosaved one)
 *   DIR/<tier>/caddy.log      Caddy's process log
 *   DIR/<tier>/config/caddy/autosave.json   every config Caddy loaded ($XDG_CONFIG_HOME)
 *   DIR/<tier>/storage        Caddy's storage root, which also identifies the process
 *   DIR/*.log                 the access logs the edge configures (CaddyEdgeOptions.logDir)
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { caRootFile, type Tier } from '../caddy/names.js';

export const TIERS: readonly Tier[] = ['front', 'back'];

/** One Caddy process: its admin API's URL and its pid while it runs. */
export interface TierState {
  /** `unix:DIR/<tier>/admin.sock`, or `http://127.0.0.1:PORT` for a Caddy an older Gantry started. */
  readonly adminUrl: string;
  readonly pid?: number | undefined;
}

export interface EdgeState {
  /** Set once the supervisor has both tiers serving; cleared when it stops. */
  readonly supervisorPid?: number | undefined;
  readonly front?: TierState | undefined;
  readonly back?: TierState | undefined;
}

/** Where everything of the edge in `dir` lives. */
export function edgePaths(dir: string) {
  const tier = (t: Tier) => {
    const root = join(dir, t);
    return {
      root,
      adminSocket: join(root, 'admin.sock'),
      configFile: join(root, 'caddy.json'),
      logFile: join(root, 'caddy.log'),
      /** Written by the unsupervised `startCaddy`; an orphan of it is stopped before we start. */
      pidFile: join(root, 'caddy.pid'),
      configHome: join(root, 'config'),
      dataHome: join(root, 'data'),
      autosave: join(root, 'config', 'caddy', 'autosave.json'),
      lastGood: join(root, 'autosave.last-good.json'),
      storage: join(root, 'storage'),
      /** The internal CA's root (front tier): what clients of `tls internal` names trust. */
      caRoot: caRootFile(join(root, 'storage')),
    };
  };
  return {
    dir,
    state: join(dir, 'edge.json'),
    log: join(dir, 'edge.log'),
    supervisorLock: join(dir, 'supervisor.lock'),
    ensureLock: join(dir, 'ensure.lock'),
    front: tier('front'),
    back: tier('back'),
  };
}

export type EdgePaths = ReturnType<typeof edgePaths>;

/** The URL of a tier's admin API. */
export function adminUrlOf(state: TierState): string {
  return state.adminUrl;
}

/** Reads edge.json; an absent or unreadable file is an edge never started. */
export async function readEdgeState(dir: string): Promise<EdgeState> {
  const text = await readFile(edgePaths(dir).state, 'utf8').catch(() => '');
  try {
    return parseEdgeState(JSON.parse(text));
  } catch {
    return {};
  }
}

/** Keeps only well-formed fields: a hand-edited or truncated file must not crash anyone. */
export function parseEdgeState(raw: unknown): EdgeState {
  if (typeof raw !== 'object' || raw === null) return {};
  const r = raw as Record<string, unknown>;
  return {
    supervisorPid: pidOf(r.supervisorPid),
    front: tierOf(r.front),
    back: tierOf(r.back),
  };
}

function tierOf(raw: unknown): TierState | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  const pid = pidOf(r.pid);
  if (typeof r.adminUrl === 'string') {
    const ours = /^(unix:\/\S+|http:\/\/127\.0\.0\.1:\d{1,5})$/.test(r.adminUrl);
    return ours ? { adminUrl: r.adminUrl, pid } : undefined;
  }
  // Written by an older Gantry, whose Caddy listened on TCP.
  const port = r.adminPort;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    return undefined;
  }
  return { adminUrl: `http://127.0.0.1:${port}`, pid };
}

function pidOf(raw: unknown): number | undefined {
  return typeof raw === 'number' && Number.isInteger(raw) && raw > 1 ? raw : undefined;
}

/** Writes edge.json whole (temp file, then rename): a reader never sees half of it. */
export async function writeEdgeState(dir: string, state: EdgeState): Promise<void> {
  const file = edgePaths(dir).state;
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, file);
}
