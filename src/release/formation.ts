/**
 * The formation: replicas per process type that `gantry scale` sets for an app environment, over
 * what `gantry.yaml` gives. Pure: what a scale request may ask for, and whether a new release
 * differs from the running one only in scale (so its instances are kept, never replaced).
 */
import type { AppSpec } from '../config/app-spec.js';
import { GantryError } from '../errors.js';
import type { ConfigSnapshot } from './config-store.js';

/** A process type's name: what `gantry.yaml` may declare under `processes:`. */
export const PROCESS_NAME = /^[a-z][a-z0-9]{0,19}$/;
/** How many process types one scale request may name. */
export const MAX_PROCESSES = 20;

/** Replicas per process type, as a request names them. */
export type Formation = Readonly<Record<string, number>>;

/**
 * The process types a spec declares, in its order. The single-process form (no `processes:`)
 * declares one, `web`. Read loosely: `processes` may be a map or a list of named entries.
 */
export function declaredProcesses(spec: AppSpec): string[] {
  const p = (spec as { readonly processes?: unknown }).processes;
  if (Array.isArray(p)) {
    const names = p.map((x) => (x as { name?: unknown }).name).filter((n) => typeof n === 'string');
    return names.length > 0 ? (names as string[]) : ['web'];
  }
  if (p && typeof p === 'object' && Object.keys(p).length > 0) return Object.keys(p);
  return ['web'];
}

/**
 * Checks a scale request against the declared process types and the controller's cap
 * (`deploy.maxReplicas`); GANTRY_ERR_SCALE_INVALID says which entry is wrong and why.
 */
export function checkFormation(
  requested: Formation,
  declared: readonly string[],
  maxReplicas: number,
): void {
  const entries = Object.entries(requested);
  if (entries.length === 0) throw invalid('name at least one process: web=N');
  if (entries.length > MAX_PROCESSES) throw invalid(`at most ${MAX_PROCESSES} process types`);
  for (const [name, n] of entries) {
    if (!PROCESS_NAME.test(name)) {
      throw invalid(
        `${JSON.stringify(name.slice(0, 40))} is not a process name (a lowercase letter, then up to 19 lowercase letters or digits)`,
      );
    }
    if (!declared.includes(name)) {
      throw invalid(`${name} is not a process of this app; it declares ${declared.join(', ')}`);
    }
    if (!Number.isInteger(n) || n < 0 || n > maxReplicas) {
      throw invalid(
        `${name}=${String(n)}: replicas must be a whole number from 0 to ${maxReplicas} (deploy.maxReplicas in the controller config)`,
      );
    }
  }
}

/** `web=5, worker=2`, in the order given. */
export function formationText(f: Formation): string {
  return Object.entries(f)
    .map(([k, n]) => `${k}=${n}`)
    .join(', ');
}

/**
 * Whether two releases would run the same instances: same image, vars and secret versions. Scale
 * may differ: a scale change adds or removes instances of the release that runs.
 */
export function sameInstances(
  a: { readonly image: string; readonly config: ConfigSnapshot },
  b: { readonly image: string; readonly config: ConfigSnapshot },
): boolean {
  return (
    a.image === b.image &&
    sameEntries(a.config.vars, b.config.vars) &&
    sameEntries(a.config.secrets, b.config.secrets)
  );
}

/**
 * The release whose instances a new release runs on (`instancesOf`): the current release's own
 * (or those it shares in turn) when only scale differs; undefined when it needs its own.
 */
export function instancesOfFor(
  next: { readonly image: string; readonly config: ConfigSnapshot },
  current:
    | {
        readonly version: number;
        readonly image: string;
        readonly config: ConfigSnapshot;
        readonly instancesOf?: number | undefined;
      }
    | undefined,
): number | undefined {
  if (!current || !sameInstances(next, current)) return undefined;
  return current.instancesOf ?? current.version;
}

function sameEntries<V>(a: Readonly<Record<string, V>>, b: Readonly<Record<string, V>>): boolean {
  const ka = Object.keys(a);
  return (
    ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k])
  );
}

function invalid(message: string): GantryError {
  return new GantryError('GANTRY_ERR_SCALE_INVALID', message);
}
