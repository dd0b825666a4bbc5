/** Kubernetes Events (core v1), as the kubelet and controllers record them, aggregated by reason and message. */
import { randomBytes } from 'node:crypto';
import { NODE_NAME } from './defaults.js';
import { findResource } from './resources.js';
import { timestamp, type Store } from './store.js';
import type { KObject } from './types.js';

export type EventType = 'Normal' | 'Warning';

const EVENTS = findResource('', 'events')!;

export class EventRecorder {
  /** involved uid + reason + message → the event's name, so repeats bump `count`. */
  private readonly seen = new Map<string, string>();

  constructor(private readonly store: Store) {}

  /** Records (or counts again) an event about `obj`; `fieldPath` names a container. */
  record(
    obj: KObject,
    type: EventType,
    reason: string,
    message: string,
    component = 'kubelet',
    fieldPath?: string,
  ): void {
    const ns = obj.metadata.namespace ?? 'default';
    const key = `${obj.metadata.uid}|${type}|${reason}|${message}`;
    const now = timestamp();
    const existing = this.seen.get(key);
    const old = existing === undefined ? undefined : this.store.get(EVENTS, ns, existing);
    if (old) {
      this.store.update(EVENTS, ns, {
        ...old,
        count: ((old.count as number | undefined) ?? 1) + 1,
        lastTimestamp: now,
      });
      return;
    }
    const name = `${obj.metadata.name}.${randomBytes(8).toString('hex')}`;
    this.seen.set(key, name);
    this.store.create(EVENTS, ns, {
      metadata: { name, namespace: ns },
      involvedObject: {
        kind: obj.kind,
        namespace: ns,
        name: obj.metadata.name,
        uid: obj.metadata.uid,
        apiVersion: obj.apiVersion,
        resourceVersion: obj.metadata.resourceVersion,
        ...(fieldPath ? { fieldPath } : {}),
      },
      reason,
      message,
      source: { component, ...(component === 'kubelet' ? { host: NODE_NAME } : {}) },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: component,
      reportingInstance: component === 'kubelet' ? NODE_NAME : '',
    });
  }
}
