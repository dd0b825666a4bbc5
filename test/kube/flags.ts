/**
 * The command lines of the control plane (builders: nothing runs here). The API server is set
 * up as a kubeadm cluster has it: RBAC and Node authorisation, service-account tokens signed by a
 * key of our own, the default admission plugins plus NodeRestriction, and kubelets reached over
 * TLS with a certificate the API server checks against the cluster CA.
 */
import { join } from 'node:path';
import type { Pki } from './pki.js';

export interface Layout {
  readonly dir: string;
  readonly pki: Pki;
  readonly etcdPort: number;
  readonly etcdPeerPort: number;
  readonly apiPort: number;
  /** The host's address on the pod network: the API server advertises it, the node agent binds it. */
  readonly nodeIp: string;
  readonly serviceCidr: string;
}

export function etcdUrl(l: Layout): string {
  return `http://127.0.0.1:${l.etcdPort}`;
}

export function etcdArgs(l: Layout): string[] {
  const peer = `http://127.0.0.1:${l.etcdPeerPort}`;
  return [
    '--name=gantry-test',
    `--data-dir=${join(l.dir, 'etcd')}`,
    `--listen-client-urls=${etcdUrl(l)}`,
    `--advertise-client-urls=${etcdUrl(l)}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=gantry-test=${peer}`,
    // Tests compact on purpose (the 410 Gone fault); nothing compacts behind their back.
    '--auto-compaction-retention=0',
    '--quota-backend-bytes=2147483648',
    '--log-level=warn',
  ];
}

export function apiServerArgs(l: Layout): string[] {
  const p = l.pki;
  return [
    `--etcd-servers=${etcdUrl(l)}`,
    '--bind-address=127.0.0.1',
    `--advertise-address=${l.nodeIp}`,
    `--secure-port=${l.apiPort}`,
    `--tls-cert-file=${p.crt('apiserver')}`,
    `--tls-private-key-file=${p.key('apiserver')}`,
    `--client-ca-file=${p.ca}`,
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${p.saPub}`,
    `--service-account-signing-key-file=${p.saKey}`,
    `--service-cluster-ip-range=${l.serviceCidr}`,
    `--kubelet-client-certificate=${p.crt('apiserver-kubelet-client')}`,
    `--kubelet-client-key=${p.key('apiserver-kubelet-client')}`,
    `--kubelet-certificate-authority=${p.ca}`,
    '--kubelet-preferred-address-types=InternalIP',
    '--allow-privileged=false',
    // Watches are served by etcd itself, not the API server's cache: an etcd compaction then
    // answers a watch from an older version with 410 Gone, which is how the tests provoke it.
    '--watch-cache=false',
    '--profiling=false',
    '--v=1',
  ];
}

export function controllerManagerArgs(l: Layout, kubeconfig: string): string[] {
  const p = l.pki;
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    '--secure-port=0',
    '--leader-elect=false',
    // Each controller acts as its own service account, with the bootstrap roles, as kubeadm does.
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${p.saKey}`,
    `--root-ca-file=${p.ca}`,
    `--cluster-signing-cert-file=${p.ca}`,
    `--cluster-signing-key-file=${p.caKey}`,
    `--service-cluster-ip-range=${l.serviceCidr}`,
    '--controllers=*,bootstrapsigner,tokencleaner',
    '--profiling=false',
    '--v=1',
  ];
}

export function schedulerArgs(kubeconfig: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    '--secure-port=0',
    '--leader-elect=false',
    '--profiling=false',
    '--v=1',
  ];
}
