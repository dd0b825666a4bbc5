/**
 * The pure parts of the real test control plane (test/kube): command lines, certificates to
 * issue, the pod's Docker containers, the controller's Role and the Node object.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { RBAC_RULES } from '../../src/runtime/kubernetes/rbac.js';
import { apiServerArgs, etcdArgs, type Layout } from '../kube/flags.js';
import { roleOf } from '../kube/identity.js';
import { certKubeconfig, tokenKubeconfig } from '../kube/kubeconfig.js';
import { appContainerOptions, sandboxOptions } from '../kube/node/containers.js';
import { nodeObject } from '../kube/node/node-object.js';
import { issueArgs, type Pki } from '../kube/pki.js';

const pki: Pki = {
  dir: '/p',
  ca: '/p/ca.crt',
  caKey: '/p/ca.key',
  crt: (n) => `/p/${n}.crt`,
  key: (n) => `/p/${n}.key`,
  saKey: '/p/sa.key',
  saPub: '/p/sa.pub',
};
const layout: Layout = {
  dir: '/d',
  pki,
  etcdPort: 1,
  etcdPeerPort: 2,
  apiPort: 3,
  nodeIp: '10.244.7.1',
  serviceCidr: '10.96.0.0/16',
};

describe('the API server command line', () => {
  const args = apiServerArgs(layout);
  it.each([
    ['RBAC and Node authorisation', '--authorization-mode=Node,RBAC'],
    [
      'NodeRestriction on top of the default admission plugins',
      '--enable-admission-plugins=NodeRestriction',
    ],
    ['service-account tokens signed by our key', '--service-account-signing-key-file=/p/sa.key'],
    ['kubelets checked against the cluster CA', '--kubelet-certificate-authority=/p/ca.crt'],
    ['the node reached at its InternalIP', '--kubelet-preferred-address-types=InternalIP'],
    ['watches served by etcd (410 after compaction)', '--watch-cache=false'],
    ['advertised on the pod network', '--advertise-address=10.244.7.1'],
    ['listening on loopback only', '--bind-address=127.0.0.1'],
  ])('%s', (_name, flag) => {
    expect(args).toContain(flag);
  });
  it('keeps etcd from compacting behind the tests', () => {
    expect(etcdArgs(layout)).toContain('--auto-compaction-retention=0');
  });
});

describe('certificates', () => {
  it('issues a client certificate with groups and a serving one with SANs, signed by the CA', () => {
    const client = issueArgs('/p', {
      name: 'admin',
      cn: 'gantry-test-admin',
      groups: ['system:masters'],
      usage: 'client',
    });
    expect(client).toEqual(
      expect.arrayContaining([
        '-CA',
        '/p/ca.crt',
        '-subj',
        '/CN=gantry-test-admin/O=system:masters',
      ]),
    );
    expect(client).toContain('extendedKeyUsage=clientAuth');
    expect(client.some((a) => a.startsWith('subjectAltName'))).toBe(false);
    const server = issueArgs('/p', {
      name: 'kubelet',
      cn: 'node',
      ips: ['10.244.7.1'],
      dns: ['node'],
      usage: 'server',
    });
    expect(server).toContain('subjectAltName=IP:10.244.7.1,DNS:node');
    expect(server).toContain('extendedKeyUsage=serverAuth');
  });
});

describe('kubeconfigs', () => {
  it('name the CA file and either a certificate or a token, in a namespace when given', () => {
    const cert = parse(
      certKubeconfig({
        server: 'https://127.0.0.1:3',
        ca: '/p/ca.crt',
        user: 'admin',
        cert: '/a.crt',
        key: '/a.key',
      }),
    );
    expect(cert.clusters[0].cluster).toEqual({
      server: 'https://127.0.0.1:3',
      'certificate-authority': '/p/ca.crt',
    });
    expect(cert.users[0].user).toEqual({ 'client-certificate': '/a.crt', 'client-key': '/a.key' });
    const token = parse(
      tokenKubeconfig({ server: 's', ca: 'c', user: 'u', token: 't', namespace: 'ns' }),
    );
    expect(token.users[0].user).toEqual({ token: 't' });
    expect(token.contexts[0].context.namespace).toBe('ns');
  });
});

describe('a pod on the node agent', () => {
  const pod: V1Pod = {
    metadata: { name: 'web', namespace: 'ns', uid: 'abcdef12-3456' },
    spec: { containers: [{ name: 'app', image: 'img', command: ['httpd'], args: ['-f'] }] },
  };
  it('gets a sandbox on the pod network, and its container joins the sandbox', () => {
    const sandbox = sandboxOptions({
      agentId: 'n1',
      pod,
      network: 'gantry-kube-n1',
      image: 'busybox',
    });
    expect(sandbox.HostConfig?.NetworkMode).toBe('gantry-kube-n1');
    expect(sandbox.Labels?.['gantry-kube-node']).toBe('n1');
    const app = appContainerOptions({
      agentId: 'n1',
      pod,
      container: pod.spec!.containers[0]!,
      env: ['A=1'],
      attempt: 2,
      sandboxId: 'sb',
    });
    expect(app.HostConfig?.NetworkMode).toBe('container:sb');
    expect(app).toMatchObject({
      Image: 'img',
      Entrypoint: ['httpd'],
      Cmd: ['-f'],
      Env: ['HOSTNAME=web', 'A=1'],
    });
    expect(app.name).toBe('gk-n1-ns-web-abcdef12-app-2');
    // Nothing published on the host: the pod is reached at its IP.
    expect(app.HostConfig?.PortBindings).toBeUndefined();
  });
});

describe('the controller identity and the node', () => {
  it("grants the chart's rules, rule for rule", () => {
    const chart = parse(
      readFileSync(join(import.meta.dirname, '../../charts/gantry/files/rbac-rules.yaml'), 'utf8'),
    ) as unknown[];
    expect(roleOf('ns', RBAC_RULES).rules).toEqual(chart);
  });
  it('registers a Ready node with its InternalIP and kubelet port', () => {
    const node = nodeObject({ name: 'n', ip: '10.244.7.1', port: 10250 }, new Date(0));
    expect(node.status?.addresses).toContainEqual({ type: 'InternalIP', address: '10.244.7.1' });
    expect(node.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBe(10250);
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });
});
