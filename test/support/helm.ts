/**
 * The helm the chart tests use: the one on PATH, else the one scripts/kube-infra.sh built from
 * helm.sh/helm/v3 with the test control plane (undefined when neither exists).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * helm built from source has no Kubernetes version stamped in: without a cluster to ask it would
 * assume 1.20, below the chart's kubeVersion. The version of the test control plane.
 */
export const HELM_KUBE_VERSION = 'v1.37.2';

export function helmBinary(): string | undefined {
  if (spawnSync('helm', ['version', '--short']).status === 0) return 'helm';
  const script = join(import.meta.dirname, '../../scripts/kube-infra.sh');
  const built = spawnSync('bash', [script, '--path'], { encoding: 'utf8' });
  return built.status === 0 ? join(built.stdout.trim(), 'helm') : undefined;
}

/** `helm template` of `chart` as release "gantry" in namespace "gantry", with these values files. */
export function templateArgs(chart: string, valuesFiles: readonly string[]): string[] {
  return [
    'template',
    'gantry',
    chart,
    '-n',
    'gantry',
    '--kube-version',
    HELM_KUBE_VERSION,
    ...valuesFiles.flatMap((f) => ['-f', f]),
  ];
}
