/**
 * The real control plane as the Kubernetes suites use it (GANTRY_KUBE=real): one control plane
 * per test process, shared by the suites of that process, each of which gets a namespace of its
 * own with the controller identity in it. Starting a control plane takes 20–40 s, so it outlives
 * one suite: when the last suite lets go it stops after a short grace (the next suite of the same
 * file usually starts within it), and at the latest when the process exits.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { RBAC_RULES } from '../../src/runtime/kubernetes/rbac.js';
import type { KubeSimFaults } from '../kube-sim/index.js';
import { startApiProxy } from './api-proxy.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { realFaults } from './faults.js';
import { makeControllerIdentity } from './identity.js';
import { certKubeconfig, tokenKubeconfig } from './kubeconfig.js';
import { NODE_LABEL } from './node/containers.js';

export { kubeBinaries, type ControlPlane } from './control-plane.js';

let shared: Promise<ControlPlane> | undefined;
let users = 0;
let idle: NodeJS.Timeout | undefined;

/** Timings of the test node agent: probes five times faster, back-off 0.5–2 s, as on the simulator. */
const TIMING = { probeScale: 0.2, backoffBaseMs: 500, backoffMaxMs: 2_000 };

function cleanupOnExit(cp: ControlPlane): void {
  // Whatever happened to the suites: no containers or network left behind (processes are killed
  // by process.ts). Synchronous, as an exit handler must be.
  process.on('exit', () => {
    try {
      const ids = execFileSync(
        'docker',
        ['ps', '-aq', '--filter', `label=${NODE_LABEL}=${cp.id}`],
        {
          encoding: 'utf8',
        },
      )
        .split('\n')
        .filter(Boolean);
      if (ids.length > 0) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
      execFileSync('docker', ['network', 'rm', cp.network.name], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  });
}

async function acquire(dir: string): Promise<ControlPlane> {
  if (idle) clearTimeout(idle);
  idle = undefined;
  users += 1;
  shared ??= startControlPlane({ dir, timing: TIMING }).then((cp) => {
    cleanupOnExit(cp);
    return cp;
  });
  try {
    return await shared;
  } catch (e) {
    shared = undefined;
    users -= 1;
    throw e;
  }
}

function release(): void {
  users -= 1;
  if (users > 0 || !shared) return;
  const cp = shared;
  idle = setTimeout(() => {
    if (users > 0 || shared !== cp) return;
    shared = undefined;
    void cp.then((c) => c.close()).catch(() => undefined);
  }, 5_000);
  idle.unref();
}

export interface RealTestCluster {
  readonly controlPlane: ControlPlane;
  readonly namespace: string;
  /** The controller's kubeconfig: a ServiceAccount token holding exactly the chart's Role; like
   *  `adminKubeconfig` (the tests' own), through the relay that rides out API server restarts. */
  readonly kubeconfig: string;
  readonly adminKubeconfig: string;
  /** The simulator's faults, provoked for real (faults.ts). */
  readonly faults: KubeSimFaults;
  close(): Promise<void>;
}

/** A namespace on the shared real control plane, with the controller identity in it. */
export async function startRealTestCluster(dir: string): Promise<RealTestCluster> {
  const cp = await acquire(dir);
  const namespace = `gantry-${randomBytes(4).toString('hex')}`;
  try {
    const token = await makeControllerIdentity(cp.admin, namespace, RBAC_RULES);
    // The controller reaches the API server through a relay that rides out restarts.
    const proxy = await startApiProxy(cp.apiPort);
    const kubeconfig = join(cp.dir, `${namespace}.kubeconfig`);
    const adminKubeconfig = join(cp.dir, `${namespace}-admin.kubeconfig`);
    await writeFile(
      adminKubeconfig,
      certKubeconfig({
        server: `https://127.0.0.1:${proxy.port}`,
        ca: cp.pki.ca,
        cert: cp.pki.crt('admin'),
        key: cp.pki.key('admin'),
        user: 'admin',
        namespace,
      }),
      { mode: 0o600 },
    );
    const admin = new KubeConfig();
    admin.loadFromFile(adminKubeconfig);
    await writeFile(
      kubeconfig,
      tokenKubeconfig({
        server: `https://127.0.0.1:${proxy.port}`,
        ca: cp.pki.ca,
        user: 'gantry-controller',
        namespace,
        token,
      }),
      { mode: 0o600 },
    );
    let closed = false;
    return {
      controlPlane: cp,
      namespace,
      kubeconfig,
      adminKubeconfig,
      faults: realFaults(cp, proxy, admin, namespace),
      async close() {
        if (closed) return;
        closed = true;
        await proxy.close();
        // The namespace controller deletes everything in it; the node agent stops the pods.
        await cp.admin
          .makeApiClient(CoreV1Api)
          .deleteNamespace({ name: namespace })
          .catch(() => undefined);
        release();
      },
    };
  } catch (e) {
    release();
    throw e;
  }
}
