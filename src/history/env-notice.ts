/**
 * What the reporters send about an `env` event of the reconciler (self-heal, drift, orphaned,
 * pruned). Pure: the stored event in, a notice out, or nothing for the environment events no
 * receiver may ask for (locked, pinned…).
 */
import { ENV_NOTIFY_EVENTS } from '../config/controller-config-schema.js';
import type { EnvNotifyEvent } from '../config/controller-config.js';
import type { StoredEvent } from '../events/bus.js';
import { healEvent } from '../events/event-data.js';
import type { EnvNotice } from './notify.js';

/** The notification event an `env` event's kind is, if it is one. */
export function envNotifyEvent(kind: string): EnvNotifyEvent | undefined {
  return (ENV_NOTIFY_EVENTS as readonly string[]).includes(kind)
    ? (kind as EnvNotifyEvent)
    : undefined;
}

/** The app page: `<publicUrl>/#/apps/<app>`. */
export function appLink(publicUrl: string, app: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/#/apps/${encodeURIComponent(app)}`;
}

/** The notice of an `env` event, or undefined when its kind is not notified. */
export function envNoticeOf(
  e: Extract<StoredEvent, { type: 'env' }>,
  publicUrl: string,
): EnvNotice | undefined {
  const event = envNotifyEvent(e.kind);
  if (!event) return undefined;
  const heal = healEvent(e.data);
  return {
    event,
    at: new Date(e.at).toISOString(),
    environment: { app: e.app, env: e.env, url: appLink(publicUrl, e.app) },
    text: e.text,
    ...(heal ? { heal } : {}),
  };
}
