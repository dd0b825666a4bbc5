/** The kubeconfig a client uses to reach the simulator (token auth, one context, a namespace). */
import { stringify } from 'yaml';

/** A kubeconfig YAML document for `server` with a bearer token and a default namespace. */
export function kubeconfigYaml(server: string, token: string, namespace: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    // client-node refuses a plain-HTTP server unless TLS verification is marked off.
    clusters: [{ name: 'kube-sim', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'kube-sim', user: { token } }],
    contexts: [{ name: 'kube-sim', context: { cluster: 'kube-sim', user: 'kube-sim', namespace } }],
    'current-context': 'kube-sim',
    preferences: {},
  });
}
