/** Kubeconfig files of the test control plane (builders: YAML text, nothing written here). */

interface Common {
  server: string;
  /** The CA file the API server's certificate is checked against. */
  ca: string;
  user: string;
  namespace?: string;
}

function yaml(c: Common, userFields: string[]): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: gantry-test',
    '  cluster:',
    `    server: ${c.server}`,
    `    certificate-authority: ${c.ca}`,
    'users:',
    `- name: ${c.user}`,
    '  user:',
    ...userFields.map((f) => `    ${f}`),
    'contexts:',
    `- name: ${c.user}@gantry-test`,
    '  context:',
    '    cluster: gantry-test',
    `    user: ${c.user}`,
    ...(c.namespace ? [`    namespace: ${c.namespace}`] : []),
    `current-context: ${c.user}@gantry-test`,
    '',
  ].join('\n');
}

/** A user authenticated by a client certificate (the admin, the controller-manager, …). */
export function certKubeconfig(c: Common & { cert: string; key: string }): string {
  return yaml(c, [`client-certificate: ${c.cert}`, `client-key: ${c.key}`]);
}

/** A service account authenticated by its token. */
export function tokenKubeconfig(c: Common & { token: string }): string {
  return yaml(c, [`token: ${c.token}`]);
}
