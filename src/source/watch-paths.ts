/**
 * Which paths of a repository an app watches (`watch:` in gantry.yaml, or its default), and
 * whether the paths a push changed touch any of them. Pure: the caller diffs the trees.
 */
import type { BuildSpec, WatchSpec } from '../config/app-spec.js';
import { pathSegments, resolveSegments } from '../git/repo-path.js';
import type { PushChange } from './push-range.js';

/** One watched path or glob, from the repository root; `exclude` for a `!` entry. */
export interface WatchRule {
  /** Repository-relative, `/`-separated; '' is the whole repository. */
  readonly pattern: string;
  readonly exclude: boolean;
}

/** What an app watches: files that always count, then its rules. */
export interface Watched {
  /** gantry.yaml and the Dockerfile: they define the build, whatever `watch:` says. */
  readonly always: readonly string[];
  readonly rules: readonly WatchRule[];
}

/**
 * The paths app `appPath` (its folder in the repo, `.` for the root) watches: `watch:` resolved
 * from its folder, or by default the folder itself plus the build context when that lies outside.
 */
export function watchedPaths(
  spec: { readonly build: Pick<BuildSpec, 'context' | 'dockerfile'>; readonly watch?: WatchSpec },
  appPath: string,
): Watched {
  const appDir = pathSegments(appPath);
  const context = resolveSegments(appDir, spec.build.context) ?? [];
  const dockerfile = resolveSegments(context, spec.build.dockerfile) ?? [];
  const always = [[...appDir, 'gantry.yaml'].join('/'), dockerfile.join('/')];
  if (spec.watch === undefined) {
    const dirs = [appDir.join('/')];
    // A context inside the app's folder is already watched through it.
    if (!isUnder(context.join('/'), dirs[0]!)) dirs.push(context.join('/'));
    return { always, rules: dirs.map((pattern) => ({ pattern, exclude: false })) };
  }
  const rules = spec.watch.flatMap((entry): WatchRule[] => {
    const exclude = entry.startsWith('!');
    const resolved = resolveSegments(appDir, exclude ? entry.slice(1) : entry);
    // Validation keeps entries inside the repository; one that is not would match nothing.
    return resolved === undefined ? [] : [{ pattern: resolved.join('/'), exclude }];
  });
  return { always, rules };
}

/** Whether every path of the repository is watched (an app at the root, by default): no diff needed. */
export function watchesEverything(watched: Watched): boolean {
  return (
    watched.rules.some((r) => !r.exclude && r.pattern === '') &&
    !watched.rules.some((r) => r.exclude)
  );
}

/** Whether `path` is `dir` or lies under it ('' is the root, above everything). */
function isUnder(path: string, dir: string): boolean {
  return dir === '' || path === dir || path.startsWith(`${dir}/`);
}

const GLOB = /[*?]/;

/**
 * Whether one repository path is watched: one of `always`, or matched by an include rule and by
 * no exclude rule. A rule matches a path equal to it or below it (a folder covers its contents);
 * `*` and `?` stay within one folder name, `**` spans any number of folders.
 */
export function isWatched(watched: Watched, path: string): boolean {
  if (watched.always.includes(path)) return true;
  let included = false;
  for (const rule of watched.rules) {
    if (!matches(rule.pattern, path)) continue;
    if (rule.exclude) return false;
    included = true;
  }
  return included;
}

/** The first of `paths` (sorted) the app watches, or undefined when the change is not its. */
export function firstWatched(watched: Watched, paths: readonly string[]): string | undefined {
  return paths.find((p) => isWatched(watched, p));
}

/** How the watched paths read in a reason: `api, ../shared` from the repository root. */
export function describeWatched(watched: Watched): string {
  return watched.rules
    .map((r) => `${r.exclude ? '!' : ''}${r.pattern === '' ? '.' : r.pattern}`)
    .join(', ');
}

const compiled = new Map<string, RegExp>();

function matches(pattern: string, path: string): boolean {
  if (!GLOB.test(pattern)) return isUnder(path, pattern);
  let re = compiled.get(pattern);
  if (re === undefined) {
    re = globRegExp(pattern);
    compiled.set(pattern, re);
  }
  return re.test(path);
}

/** A glob as a RegExp over whole repository paths, matching what lies below a match too. */
export function globRegExp(pattern: string): RegExp {
  const segments = pattern.split('/');
  let source = '';
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === '**') {
      // Any number of whole folder names, none included.
      source += last ? '.*' : '(?:[^/]+/)*';
      return;
    }
    source += segmentSource(segment) + (last ? '' : '/');
  });
  return new RegExp(`^${source}(?:/.*)?$`);
}

function segmentSource(segment: string): string {
  return segment
    .split('')
    .map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
}

/** Whether a sync builds an app at the new head, and why (a skip's reason is recorded). */
export type AppVerdict =
  | { readonly build: true; readonly why: string }
  | { readonly build: false; readonly reason: string };

/**
 * Decides one app of one sync: everything builds when the change is unknown (`all`) or the app
 * has no revision on the branch yet (there is nothing older to keep running); otherwise only a
 * change to one of its watched paths builds it.
 */
export function appVerdict(watched: Watched, change: PushChange, builtBefore: boolean): AppVerdict {
  if (change.kind === 'all') return { build: true, why: change.reason };
  if (!builtBefore) return { build: true, why: 'the app has no revision on this branch yet' };
  const hit = firstWatched(watched, change.paths);
  if (hit !== undefined) return { build: true, why: `${hit} changed` };
  const range = `${change.bases.map((b) => b.slice(0, 12)).join(', ')}..${change.head.slice(0, 12)}`;
  const others = change.paths.length;
  return {
    build: false,
    reason:
      `no watched path changed in ${range} (watches ${describeWatched(watched)}; ` +
      `${others} other path${others === 1 ? '' : 's'} changed)`,
  };
}
