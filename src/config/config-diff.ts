/**
 * What a config reload changes, decided purely from the running config and the new one. Only
 * names and dotted paths come out of here, never values: a changed token hash, webhook secret or
 * Redis password shows as the name of what changed.
 */
import type { ControllerConfig } from './controller-config.js';

/** The sections a reload applies at once; every other value needs a restart. */
export const RELOADABLE = ['repos', 'tokens', 'notifications'] as const;
export type ReloadableSection = (typeof RELOADABLE)[number];

/** Entries of a named list that were added, removed, or kept under their name but edited. */
export interface NameChanges {
  readonly added: string[];
  readonly removed: string[];
  readonly changed: string[];
}

/** The difference between two configs, as a reload reports and logs it. */
export interface ConfigChanges {
  readonly repos: NameChanges;
  readonly tokens: NameChanges;
  readonly notifications: NameChanges;
  /** Dotted paths (`listen.port`, `runtime.hosts`) that differ but are not applied until a restart. */
  readonly needsRestart: string[];
}

/** Compares the running config with a new one. */
export function diffConfig(prev: ControllerConfig, next: ControllerConfig): ConfigChanges {
  const fixed = new Set<string>([...Object.keys(prev), ...Object.keys(next)]);
  for (const section of RELOADABLE) fixed.delete(section);
  const prevRecord = prev as unknown as Record<string, unknown>;
  const nextRecord = next as unknown as Record<string, unknown>;
  return {
    repos: nameChanges(prev.repos, next.repos),
    tokens: nameChanges(prev.tokens, next.tokens),
    notifications: nameChanges(prev.notifications, next.notifications),
    needsRestart: [...fixed]
      .sort()
      .flatMap((key) => changedPaths(prevRecord[key], nextRecord[key], key)),
  };
}

/** The config to run after a reload: `next`'s reloadable sections, everything else as it runs now. */
export function reloaded(prev: ControllerConfig, next: ControllerConfig): ControllerConfig {
  return { ...prev, repos: next.repos, tokens: next.tokens, notifications: next.notifications };
}

/** Whether a reload with these changes applies anything. */
export function appliesAnything(changes: ConfigChanges): boolean {
  return RELOADABLE.some((s) => {
    const c = changes[s];
    return c.added.length + c.removed.length + c.changed.length > 0;
  });
}

/** One line for a log or a CLI: `repos +docs -legacy; tokens ~ci; needs a restart: listen.port`. */
export function describeChanges(changes: ConfigChanges): string {
  const parts = RELOADABLE.flatMap((s) => {
    const c = changes[s];
    const names = [
      ...c.added.map((n) => `+${n}`),
      ...c.removed.map((n) => `-${n}`),
      ...c.changed.map((n) => `~${n}`),
    ];
    return names.length === 0 ? [] : [`${s} ${names.join(' ')}`];
  });
  if (parts.length === 0) parts.push('nothing to apply');
  if (changes.needsRestart.length > 0)
    parts.push(`needs a restart: ${changes.needsRestart.join(', ')}`);
  return parts.join('; ');
}

function nameChanges(
  prev: readonly { name: string }[],
  next: readonly { name: string }[],
): NameChanges {
  // A name given twice counts as its last entry, as the lookups by name see it.
  const before = new Map(prev.map((e) => [e.name, e]));
  const after = new Map(next.map((e) => [e.name, e]));
  return {
    added: [...after.keys()].filter((n) => !before.has(n)),
    removed: [...before.keys()].filter((n) => !after.has(n)),
    changed: [...after.keys()].filter(
      (n) => before.has(n) && !sameValue(before.get(n), after.get(n)),
    ),
  };
}

/** The paths under `path` whose values differ; mappings are compared key by key, lists whole. */
function changedPaths(a: unknown, b: unknown, path: string): string[] {
  if (isMapping(a) && isMapping(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => changedPaths(a[k], b[k], `${path}.${k}`));
  }
  return sameValue(a, b) ? [] : [path];
}

/**
 * Structural equality of plain config data: key order does not matter (the file's order is kept
 * by parsing), and an absent key and an undefined value are the same.
 */
function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a, sortedKeys) === JSON.stringify(b, sortedKeys);
}

function sortedKeys(_key: string, value: unknown): unknown {
  if (!isMapping(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, value[k]]),
  );
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
