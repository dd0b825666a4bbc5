/**
 * The pod network of one test control plane: a Docker bridge network the run creates with a
 * subnet of its own. Pods get real addresses on it (the API server refuses to proxy to loopback
 * pod IPs); the host's address on it (the gateway) is the node's InternalIP.
 */
import { randomInt } from 'node:crypto';
import type Docker from 'dockerode';

export interface PodNetwork {
  readonly name: string;
  readonly subnet: string;
  /** The host's address on the network. */
  readonly gateway: string;
  remove(): Promise<void>;
}

/** The label of every network a test control plane made: a sweep can find leftovers by it. */
export const NETWORK_LABEL = 'gantry-kube-pod-network';

/** Creates the network on a free /24 of 10.240.0.0/12 (tries another on a clash). */
export async function createPodNetwork(docker: Docker, id: string): Promise<PodNetwork> {
  let last: unknown;
  for (let attempt = 0; attempt < 8; attempt++) {
    const b = randomInt(240, 256);
    const c = randomInt(0, 256);
    const subnet = `10.${b}.${c}.0/24`;
    const gateway = `10.${b}.${c}.1`;
    const name = `gantry-kube-${id}`;
    try {
      const net = await docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: { [NETWORK_LABEL]: id },
        IPAM: { Driver: 'default', Config: [{ Subnet: subnet, Gateway: gateway }] },
      });
      return {
        name,
        subnet,
        gateway,
        remove: async () => {
          await net.remove().catch(() => undefined);
        },
      };
    } catch (e) {
      // "Pool overlaps with other one on this address space": another run holds it.
      last = e;
    }
  }
  throw new Error(`could not create a pod network: ${String(last)}`);
}
