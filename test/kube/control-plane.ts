/**
 * A real Kubernetes control plane for the tests: etcd, kube-apiserver, kube-controller-manager
 * and kube-scheduler built from the pinned upstream modules (scripts/kube-infra.sh), one node
 * agent running pods as Docker containers on a pod network of the run's own. Started in the
 * order each needs the one before: network (the node IP goes into certificates), PKI, etcd, API
 * server, controllers and scheduler, node.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import https from 'node:https';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { BASE_IMAGE } from '../../src/demo/services.js';
import {
  apiServerArgs,
  controllerManagerArgs,
  etcdArgs,
  etcdUrl,
  schedulerArgs,
  type Layout,
} from './flags.js';
import { certKubeconfig } from './kubeconfig.js';
import { NodeAgent } from './node/agent.js';
import type { RunnerTiming } from './node/pod-runner.js';
import { makePki, type CertRequest, type Pki } from './pki.js';
import { createPodNetwork, type PodNetwork } from './pod-network.js';
import { Proc } from './process.js';
import { startWatchdog } from './watchdog.js';
import { NODE_LABEL } from './node/containers.js';

const repoRoot = resolve(import.meta.dirname, '../..');

/** The bin directory of the built control plane (`GANTRY_KUBE_BIN` overrides), or an error saying how to build it. */
export async function kubeBinaries(): Promise<string> {
  if (process.env.GANTRY_KUBE_BIN) return process.env.GANTRY_KUBE_BIN;
  try {
    const { stdout } = await promisify(execFile)('bash', [
      join(repoRoot, 'scripts/kube-infra.sh'),
      '--path',
    ]);
    return stdout.trim();
  } catch {
    throw new Error(
      'the real control plane is not built on this machine: run `bash scripts/kube-infra.sh` (about 40 min the first time)',
    );
  }
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => ok(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

function certRequests(nodeIp: string, nodeName: string): CertRequest[] {
  return [
    {
      name: 'apiserver',
      cn: 'kube-apiserver',
      ips: ['127.0.0.1', nodeIp, '10.96.0.1'],
      dns: [
        'localhost',
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
      ],
      usage: 'server',
    },
    { name: 'admin', cn: 'gantry-test-admin', groups: ['system:masters'], usage: 'client' },
    {
      name: 'apiserver-kubelet-client',
      cn: 'kube-apiserver-kubelet-client',
      groups: ['kubeadm:cluster-admins'],
      usage: 'client',
    },
    { name: 'controller-manager', cn: 'system:kube-controller-manager', usage: 'client' },
    { name: 'scheduler', cn: 'system:kube-scheduler', usage: 'client' },
    {
      name: 'kubelet',
      cn: `system:node:${nodeName}`,
      groups: ['system:nodes'],
      ips: [nodeIp],
      dns: [nodeName],
      usage: 'server',
    },
  ];
}

/** GET on the API server with the admin's certificate; resolves with the status (0: no answer). */
async function adminGet(pki: Pki, port: number, path: string): Promise<number> {
  const [ca, cert, key] = await Promise.all([
    readFile(pki.ca),
    readFile(pki.crt('admin')),
    readFile(pki.key('admin')),
  ]);
  return new Promise((ok) => {
    const req = https.get(
      { host: '127.0.0.1', port, path, ca, cert, key, timeout: 2_000 },
      (res) => {
        res.resume();
        ok(res.statusCode ?? 0);
      },
    );
    req.once('error', () => ok(0));
    req.once('timeout', () => req.destroy());
  });
}

async function until(
  what: string,
  fn: () => Promise<boolean>,
  timeoutMs: number,
  proc?: Proc,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn().catch(() => false))) {
    if (proc && !proc.running)
      throw new Error(`${proc.name} exited while waiting for ${what}:\n${await proc.tail()}`);
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${proc ? `:\n${await proc.tail()}` : ''}`);
    await sleep(250);
  }
}

export interface ControlPlane {
  readonly id: string;
  readonly dir: string;
  readonly url: string;
  readonly apiPort: number;
  readonly pki: Pki;
  readonly network: PodNetwork;
  readonly nodeName: string;
  /** A kubeconfig file of the cluster admin (system:masters). */
  readonly adminKubeconfig: string;
  readonly admin: KubeConfig;
  /** Image references the node agent fails to pull while they are in the set. */
  readonly failPulls: Set<string>;
  /** Stops and starts the API server again: every watch is cut, clients see it go away. */
  restartApiServer(): Promise<void>;
  /** Compacts etcd at its current revision (watches from older versions get 410 Gone). */
  compactEtcd(): Promise<number>;
  close(): Promise<void>;
}

export interface ControlPlaneOptions {
  dir: string;
  timing: RunnerTiming;
}

/** Starts the whole control plane and a Ready node. */
export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const bin = await kubeBinaries();
  const id = randomBytes(4).toString('hex');
  const dir = join(opts.dir, `kube-${id}`);
  await mkdir(join(dir, 'pki'), { recursive: true });
  const docker = new Docker();
  const network = await createPodNetwork(docker, id);
  const nodeName = `gantry-node-${id}`;
  const procs: Proc[] = [];
  let agent: NodeAgent | undefined;
  const pidDir = await mkdtemp(join(tmpdir(), `gantry-kube-${id}-`));
  const stopWatchdog = startWatchdog({
    dir: pidDir,
    label: `${NODE_LABEL}=${id}`,
    network: network.name,
  });
  const close = async (): Promise<void> => {
    await agent?.close().catch(() => undefined);
    for (const p of [...procs].reverse()) await p.stop();
    await network.remove();
    stopWatchdog();
    await rm(pidDir, { recursive: true, force: true });
  };
  try {
    const pki = await makePki(join(dir, 'pki'), certRequests(network.gateway, nodeName));
    const layout: Layout = {
      dir,
      pki,
      etcdPort: await freePort(),
      etcdPeerPort: await freePort(),
      apiPort: await freePort(),
      nodeIp: network.gateway,
      serviceCidr: '10.96.0.0/16',
    };
    const url = `https://127.0.0.1:${layout.apiPort}`;
    let restarting: Promise<void> = Promise.resolve();
    const kubeconfig = async (user: string): Promise<string> => {
      const file = join(dir, `${user}.kubeconfig`);
      await writeFile(
        file,
        certKubeconfig({ server: url, ca: pki.ca, cert: pki.crt(user), key: pki.key(user), user }),
        { mode: 0o600 },
      );
      return file;
    };
    const adminKubeconfig = await kubeconfig('admin');

    const etcd = new Proc(
      'etcd',
      join(bin, 'etcd'),
      etcdArgs(layout),
      join(dir, 'etcd.log'),
      pidDir,
    );
    procs.push(etcd);
    etcd.start();
    await until('etcd', async () => (await fetch(`${etcdUrl(layout)}/health`)).ok, 30_000, etcd);

    const api = new Proc(
      'kube-apiserver',
      join(bin, 'kube-apiserver'),
      apiServerArgs(layout),
      join(dir, 'kube-apiserver.log'),
      pidDir,
    );
    procs.push(api);
    const apiReady = async (): Promise<void> =>
      until(
        'kube-apiserver /readyz',
        async () => (await adminGet(pki, layout.apiPort, '/readyz')) === 200,
        120_000,
        api,
      );
    api.start();
    await apiReady();

    const kcm = new Proc(
      'kube-controller-manager',
      join(bin, 'kube-controller-manager'),
      controllerManagerArgs(layout, await kubeconfig('controller-manager')),
      join(dir, 'kube-controller-manager.log'),
      pidDir,
    );
    const scheduler = new Proc(
      'kube-scheduler',
      join(bin, 'kube-scheduler'),
      schedulerArgs(await kubeconfig('scheduler')),
      join(dir, 'kube-scheduler.log'),
      pidDir,
    );
    procs.push(kcm, scheduler);
    kcm.start();
    scheduler.start();

    const admin = new KubeConfig();
    admin.loadFromFile(adminKubeconfig);
    const failPulls = new Set<string>();
    agent = new NodeAgent({
      failPulls,
      kc: admin,
      agentId: id,
      nodeName,
      nodeIp: network.gateway,
      network: network.name,
      sandboxImage: BASE_IMAGE,
      tls: { ca: pki.ca, cert: pki.crt('kubelet'), key: pki.key('kubelet') },
      timing: opts.timing,
      docker,
    });
    await agent.start();
    const core = admin.makeApiClient(CoreV1Api);
    // Ready, and the not-ready taint the admission plugin put on it removed by the node controller.
    await until(
      `node ${nodeName} Ready and untainted`,
      async () => {
        const node = await core.readNode({ name: nodeName });
        const ready = node.status?.conditions?.some(
          (c) => c.type === 'Ready' && c.status === 'True',
        );
        return !!ready && (node.spec?.taints ?? []).length === 0;
      },
      90_000,
      kcm,
    );
    return {
      id,
      dir,
      url,
      apiPort: layout.apiPort,
      pki,
      network,
      nodeName,
      adminKubeconfig,
      admin,
      failPulls,
      restartApiServer() {
        // One restart at a time: a second request waits for the first to be served.
        restarting = restarting.then(async () => {
          await api.stop();
          api.start();
          await apiReady();
        });
        return restarting;
      },
      async compactEtcd() {
        // Through etcd's JSON gateway. Two writes of a key outside the API server's prefix first:
        // compacting at revision R keeps R itself, and a watch resumed from version V starts at
        // V + 1, so without them a client that saw the latest version would not be refused.
        const kv = (op: string, body: unknown): Promise<Response> =>
          fetch(`${etcdUrl(layout)}/v3/kv/${op}`, { method: 'POST', body: JSON.stringify(body) });
        const key = Buffer.from('/gantry-test/compaction-marker').toString('base64');
        let revision = 0;
        for (let i = 0; i < 2; i++) {
          const put = await kv('put', { key, value: Buffer.from(String(i)).toString('base64') });
          revision = Number(
            ((await put.json()) as { header: { revision: string } }).header.revision,
          );
        }
        const res = await kv('compaction', { revision, physical: true });
        if (!res.ok) throw new Error(`etcd compaction: ${res.status} ${await res.text()}`);
        return revision;
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
