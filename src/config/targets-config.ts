/**
 * The controller's targets: named places an environment deploys to, each a group of Docker hosts
 * or a Kubernetes namespace with its credentials (`targets:` in gantry.config.yaml). The older
 * single `runtime:` section is one target named `local`, the name gantry.yaml defaults to.
 */
import { GantryError } from '../errors.js';
import type { ControllerConfig } from './controller-config.js';
import { DEFAULT_TARGET_NAME } from './spec-targets.js';

/** A Docker engine of a target, as `runtime.hosts` describes one. */
export type DockerHostConfig = ControllerConfig['runtime']['hosts'][number];

/** What a Kubernetes target needs: where, and with whose credentials. */
export interface KubernetesTargetSettings {
  namespace: string;
  inCluster: boolean;
  kubeconfig?: string | undefined;
  context?: string | undefined;
  drainMs: number;
}

/** One target as the controller builds it. */
export type TargetConfig =
  | { readonly name: string; readonly kind: 'docker'; readonly hosts: DockerHostConfig[] }
  | ({ readonly name: string; readonly kind: 'kubernetes' } & KubernetesTargetSettings);

export interface TargetsPlan {
  readonly targets: readonly TargetConfig[];
  /** Where an environment goes whose gantry.yaml names no target (or `local` when none has that name). */
  readonly defaultTarget: string;
}

/** As `runtime.drainMs` defaults (the schema's defaults do not reach into `targets`). */
const DEFAULT_DRAIN_MS = 2000;

/**
 * The targets a config names (pure): `targets:` when given, else `runtime:` as the one target
 * `local`. Throws GANTRY_ERR_CONFIG_INVALID for a Kubernetes runtime without a namespace or a
 * default that names no target.
 */
export function targetsOf(
  config: Pick<ControllerConfig, 'runtime' | 'targets' | 'defaultTarget'>,
  file = 'gantry.config.yaml',
): TargetsPlan {
  if (config.targets === undefined) {
    const { runtime } = config;
    if (runtime.kind === 'docker') {
      return {
        targets: [{ name: DEFAULT_TARGET_NAME, kind: 'docker', hosts: runtime.hosts }],
        defaultTarget: DEFAULT_TARGET_NAME,
      };
    }
    const { namespace, inCluster, kubeconfig, context, drainMs } = runtime;
    if (!namespace) {
      throw new GantryError(
        'GANTRY_ERR_CONFIG_INVALID',
        `${file}: runtime.kind is kubernetes: set runtime.namespace (where pods, ReplicaSets and Services go)`,
      );
    }
    const target: TargetConfig = {
      name: DEFAULT_TARGET_NAME,
      kind: 'kubernetes',
      namespace,
      inCluster,
      kubeconfig,
      context,
      drainMs,
    };
    return { targets: [target], defaultTarget: DEFAULT_TARGET_NAME };
  }
  const targets = Object.entries(config.targets).map(([name, t]): TargetConfig => {
    if (t.docker) return { name, kind: 'docker', hosts: t.docker.hosts };
    const k = t.kubernetes!; // the schema asks for exactly one of the two
    return {
      name,
      kind: 'kubernetes',
      namespace: k.namespace,
      inCluster: k.inCluster ?? false,
      kubeconfig: k.kubeconfig,
      context: k.context,
      drainMs: k.drainMs ?? DEFAULT_DRAIN_MS,
    };
  });
  const names = targets.map((t) => t.name);
  const defaultTarget = config.defaultTarget ?? names[0] ?? DEFAULT_TARGET_NAME;
  if (!names.includes(defaultTarget)) {
    throw new GantryError(
      'GANTRY_ERR_CONFIG_INVALID',
      `${file}: defaultTarget ${defaultTarget} is not one of targets (${names.join(', ')})`,
    );
  }
  return { targets, defaultTarget };
}
