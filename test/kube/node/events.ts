/**
 * Events (core v1) about pods, recorded through the API server as the kubelet records them:
 * source `kubelet` on this node, repeats of one reason and message counted on one Event.
 */
import { randomBytes } from 'node:crypto';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { MERGE_PATCH } from '../../../src/runtime/kubernetes/kube-client.js';

export interface EventSink {
  record(
    pod: V1Pod,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    fieldPath?: string,
  ): void;
}

export class KubeletEvents implements EventSink {
  private readonly seen = new Map<string, { name: string; count: number }>();

  constructor(
    private readonly core: CoreV1Api,
    private readonly nodeName: string,
  ) {}

  record(
    pod: V1Pod,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    fieldPath?: string,
  ): void {
    const ns = pod.metadata?.namespace ?? 'default';
    const key = `${pod.metadata?.uid}|${type}|${reason}|${message}`;
    const at = new Date();
    const old = this.seen.get(key);
    if (old) {
      old.count += 1;
      void this.core
        .patchNamespacedEvent(
          {
            name: old.name,
            namespace: ns,
            body: { count: old.count, lastTimestamp: at.toISOString() },
          },
          MERGE_PATCH,
        )
        .catch(() => undefined);
      return;
    }
    const name = `${pod.metadata?.name}.${randomBytes(8).toString('hex')}`;
    this.seen.set(key, { name, count: 1 });
    void this.core
      .createNamespacedEvent({
        namespace: ns,
        body: {
          metadata: { name, namespace: ns },
          involvedObject: {
            kind: 'Pod',
            apiVersion: 'v1',
            namespace: ns,
            name: pod.metadata?.name,
            uid: pod.metadata?.uid,
            ...(fieldPath ? { fieldPath } : {}),
          },
          reason,
          message,
          type,
          source: { component: 'kubelet', host: this.nodeName },
          reportingComponent: 'kubelet',
          reportingInstance: this.nodeName,
          firstTimestamp: at,
          lastTimestamp: at,
          count: 1,
        },
      })
      .catch(() => undefined);
  }
}
