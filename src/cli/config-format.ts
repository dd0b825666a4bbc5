/**
 * How `gantry config`, `config:set` and `releases` print: pure functions of the API's answers
 * (whose shapes are declared here), so tests are tables. Secrets show who set them and when;
 * their values never reach the CLI.
 */
import { age, short, table } from './format.js';

/** GET /api/apps/:app/config */
export interface ConfigAnswer {
  app: string;
  env: string;
  release: number | null;
  vars: Record<string, { value: string; by: string; at: string }>;
  secrets: Record<string, { set: true; version: number; by: string; at: string }>;
  /** The formation `gantry scale` set (absent from controllers before it). */
  scale?: Record<string, { replicas: number; by: string; at: string }> | undefined;
}

/** PATCH /api/apps/:app/config, POST …/config/import-env */
export interface ConfigChangeAnswer {
  app: string;
  env: string;
  changed: { set: string[]; secrets: string[]; unset: string[] };
  release: { version: number; line: string } | null;
  rolloutId: string | null;
  imported?: string[] | undefined;
  missing?: string[] | undefined;
}

/** One release of GET /api/apps/:app/releases */
export interface ReleaseAnswer {
  version: number;
  line: string;
  sha: string;
  by: string;
  createdAt: string;
  current: boolean;
}

export interface ReleasesAnswer {
  app: string;
  env: string;
  current: number | null;
  releases: ReleaseAnswer[];
}

/** A value on one line: as given when it is plain, quoted when it holds line breaks or controls. */
function shown(value: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(value) || value === '' ? JSON.stringify(value) : value;
}

/**
 * `gantry config`: a heading, then one key a line in name order, vars with their value and
 * secrets as `(secret, set by ada 2m ago)`.
 */
export function configText(c: ConfigAnswer, now: number): string {
  const serving = c.release === null ? 'nothing deployed yet' : `v${c.release} serving`;
  const head = `${c.app}/${c.env} config (${serving})`;
  const rows: [string, string][] = [
    ...Object.entries(c.vars).map(([k, v]): [string, string] => [k, shown(v.value)]),
    ...Object.entries(c.secrets).map(([k, s]): [string, string] => [
      k,
      `(secret, set by ${s.by} ${age(s.at, now)})`,
    ]),
  ].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const scaled = Object.entries(c.scale ?? {}).map(
    ([p, s]) => `scale ${p}=${s.replicas} (by ${s.by} ${age(s.at, now)})`,
  );
  if (rows.length === 0)
    return [
      `${head}\nno config vars or secrets (set them with: gantry config:set ${c.app} KEY=VALUE --env ${c.env})`,
      ...scaled,
    ].join('\n');
  const width = Math.max(...rows.map(([k]) => k.length));
  return [head, ...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`), ...scaled].join('\n');
}

/** What a change did, in a line: the keys and the release it made (or that none runs yet). */
export function configChangeText(r: ConfigChangeAnswer): string {
  const parts = [
    ...(r.changed.set.length ? [`set ${r.changed.set.join(', ')}`] : []),
    ...(r.changed.secrets.length
      ? [`set ${r.changed.secrets.map((k) => `${k} (secret)`).join(', ')}`]
      : []),
    ...(r.changed.unset.length ? [`unset ${r.changed.unset.join(', ')}`] : []),
  ];
  const what = `${parts.join('; ') || 'no change'} on ${r.app}/${r.env}`;
  if (!r.release) return `${what}; nothing runs there yet: the next deploy takes it`;
  const rollout = r.rolloutId ? `, rollout ${r.rolloutId}` : '';
  return `${what}: release v${r.release.version}${rollout}`;
}

/** The import's names: which were found in the controller's environment and which were not. */
export function importText(r: ConfigChangeAnswer): string[] {
  const lines = [`imported ${(r.imported ?? []).join(', ') || 'nothing'}`];
  if (r.missing?.length) {
    lines.push(
      `not set in the controller's environment: ${r.missing.map((m) => `GANTRY_SECRET_${m}`).join(', ')}`,
    );
  }
  return lines;
}

/** The change part of a release's line: `v7: set X by ada` → `set X`. */
function changeOf(r: ReleaseAnswer): string {
  let s = r.line;
  const head = `v${r.version}: `;
  const tail = ` by ${r.by}`;
  if (s.startsWith(head)) s = s.slice(head.length);
  if (s.endsWith(tail)) s = s.slice(0, -tail.length);
  return s;
}

/** `gantry releases`: newest first, `*` on the release that serves now. */
export function releasesText(r: ReleasesAnswer, now: number): string {
  if (r.releases.length === 0) return `no releases of ${r.app}/${r.env} yet`;
  return table(
    ['', 'RELEASE', 'CHANGE', 'BY', 'WHEN', 'COMMIT'],
    r.releases.map((x) => [
      x.current ? '*' : '',
      `v${x.version}`,
      changeOf(x),
      x.by,
      age(x.createdAt, now),
      short(x.sha),
    ]),
  );
}
