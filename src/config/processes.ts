/**
 * Process types: named commands run from the app's one image (`web`, `worker`…), each with its
 * own replicas. What `gantry.yaml` declares of each is kept as declared (`ProcessDecl`);
 * `processesOf` resolves them against `run` and `health` for one environment's spec, so an
 * environment's overrides of those apply to every process that does not set its own.
 */
import type { AppSpec, HealthCheck, HealthSpec, ProcessDecl } from './app-spec.js';

export type { ProcessDecl } from './app-spec.js';

/** The process type a spec without `processes:` runs, and the one routed by default. */
export const WEB = 'web';

/** How a process's health is judged: a probe, or "running" (not exited, not restarting). */
export type ProcessCheck = HealthCheck | { readonly kind: 'running' };

/** A process type as one environment runs it. */
export interface ProcessSpec {
  readonly name: string;
  /** Replaces the image's CMD; undefined: the image's own. */
  readonly command: readonly string[] | undefined;
  readonly replicas: number;
  /** Set on the routed process only (the port its instances listen on and are published on). */
  readonly port: number | undefined;
  readonly resources: {
    readonly cpu: number | undefined;
    readonly memoryBytes: number | undefined;
  };
  readonly health: Omit<HealthSpec, 'check'> & { readonly check: ProcessCheck };
}

/** Whether a declared process is the routed one: it has a port, or it is `web`. */
export function isRoutedDecl(p: Pick<ProcessDecl, 'name' | 'port'>): boolean {
  return p.port !== undefined || p.name === WEB;
}

/** The process types of a spec (already `specForEnv`'d), in declaration order, fully resolved. */
export function processesOf(spec: AppSpec): ProcessSpec[] {
  return (spec.processes ?? [{ name: WEB }]).map((p) => {
    const routed = isRoutedDecl(p);
    const fallback: ProcessCheck = routed ? spec.health.check : { kind: 'running' };
    return {
      name: p.name,
      command: p.command,
      replicas: p.replicas ?? (p.name === WEB ? spec.run.replicas : 1),
      port: routed ? (p.port ?? spec.run.port) : undefined,
      resources: { ...spec.run.resources, ...p.resources },
      health: { ...spec.health, ...p.health, check: p.health?.check ?? fallback },
    };
  });
}

/** The routed process of a spec, if it has one. */
export function routedProcess(spec: AppSpec): ProcessSpec | undefined {
  return processesOf(spec).find((p) => p.port !== undefined);
}

/** The process type of an instance; instances labelled before process types are `web`. */
export function processName(p: string | null | undefined): string {
  return p === undefined || p === null || p === '' ? WEB : p;
}
