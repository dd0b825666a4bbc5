/**
 * The one owner of the Kubernetes object names, label keys and annotation keys Gantry uses.
 * Labels are how pods and ReplicaSets are found again after a controller restart and how objects
 * Gantry did not create are told apart and left alone. Secret values never go into labels or
 * annotations: anyone who may `get` the object can read them.
 */
import { createHash } from 'node:crypto';
import { envKey } from '../../config/env-names.js';

export const LABEL = {
  managed: 'app.kubernetes.io/managed-by',
  app: 'gantry.dev/app',
  env: 'gantry.dev/env',
  revision: 'gantry.dev/revision',
  /**
   * The release (image + config) a ReplicaSet and its pods run, and the release a Secret holds the
   * values of; absent on objects made before releases.
   */
  release: 'gantry.dev/release',
  /**
   * The process type of a ReplicaSet and its pods (in the selector: each process type is its own
   * ReplicaSet); absent for `web`, as on objects from before process types.
   */
  process: 'gantry.dev/process',
  /** Set on a pod when the runtime claims it for a slot (not in the template: pods are claimed). */
  slot: 'gantry.dev/slot',
  rollout: 'gantry.dev/rollout',
  /** The route id (`app--env`; `app-env` before that scheme) whose Service sends the pod traffic; absent while not routed. */
  route: 'gantry.dev/route',
} as const;

export const MANAGED_BY = 'gantry';

/** The imagePullSecret with the registry's credentials (pull-secret.ts), one per namespace. */
export const PULL_SECRET_NAME = 'gantry-registry';

export const ANNOTATION = {
  /** The slots a ReplicaSet holds, comma separated; `replicas` is always their number. */
  slots: 'gantry.dev/slots',
  /** The image digest reference the ReplicaSet runs (also in its template; kept for a quick check). */
  image: 'gantry.dev/image',
  /** The ReplicaSet controller deletes the pod with the lowest cost first when scaling down. */
  deletionCost: 'controller.kubernetes.io/pod-deletion-cost',
} as const;

/** The name of the container in every pod. */
export const CONTAINER = 'app';
/** The named container port; the Service targets it by name, so it never needs the number. */
export const PORT_NAME = 'http';

const MAX_NAME = 63;

/**
 * A DNS-1123 label built from `parts`: lower-case, `-` for anything else, and when anything had to
 * change (or it is too long) a short hash of the original keeps two names from colliding.
 */
export function dnsName(...parts: string[]): string {
  const raw = parts.join('-');
  const clean = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '');
  if (clean === raw && clean.length <= MAX_NAME) return clean;
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, 8);
  // Room is left for the 6 characters the ReplicaSet controller appends to pod names.
  return `${clean.slice(0, MAX_NAME - 16).replace(/-+$/, '')}-${hash}`;
}

/**
 * The name suffix of a process type: none for `web` (its objects keep the names they had before
 * process types), `--<process>` for the others. An app environment's key holds exactly one "--"
 * and a revision or release none, so a second one can only be a process.
 */
export function processSuffix(process: string | null | undefined): string {
  return process === undefined || process === null || process === 'web' ? '' : `--${process}`;
}

/** The process label value of a process type: none for `web` (see LABEL.process). */
export function processLabel(process: string | null | undefined): string | undefined {
  return processSuffix(process) === '' ? undefined : (process ?? undefined);
}

/** Room for `gantry-` and `-<revision[0..12)>` in a 63-character name. */
const RS_KEY_MAX = MAX_NAME - 'gantry-'.length - 13;

/**
 * `gantry-<app>--<env>-<revision[0..12)>-v<release>[--<process>]`: one ReplicaSet per process
 * type of a release of a revision of an app environment (without `-v<release>` for specs from
 * before releases, without `--<process>` for `web`: their ReplicaSets keep their names). The key is cut to fit (env-names.ts) with room left for the suffix, so dnsName
 * never has to: no two app environments share one. ReplicaSets made before the "--" scheme are
 * found by their labels (see the runtime).
 */
export function replicaSetName(
  app: string,
  env: string,
  revision: string,
  release?: number | null,
  process?: string | null,
): string {
  const suffix = typeof release === 'number' ? [`v${release}`] : [];
  const proc = processSuffix(process);
  const room = suffix.reduce((n, s) => n - s.length - 1, RS_KEY_MAX) - proc.length;
  const name = dnsName('gantry', envKey(app, env, room), revision.slice(0, 12), ...suffix);
  return `${name}${proc}`;
}

/**
 * The Secret holding secret values. `gantry-<app>--<env>--v<release>` holds one release's, written
 * once (immutable) and owned by that release's ReplicaSet; `gantry-<app>--<env>` is the mutable
 * one of specs from before releases. The second "--" cannot occur in an app environment's key
 * (names never contain "--"), so no environment's name can meet another's release.
 */
export function secretName(
  app: string,
  env: string,
  release?: number | null,
  process?: string | null,
): string {
  if (typeof release !== 'number')
    return dnsName('gantry', envKey(app, env, MAX_NAME - 'gantry-'.length));
  // Each process type's ReplicaSet owns a Secret of its own, so the garbage collector never
  // takes one process's values away with another's ReplicaSet.
  const suffix = `--v${release}${processSuffix(process)}`;
  return dnsName(
    `gantry-${envKey(app, env, MAX_NAME - 'gantry-'.length - suffix.length)}${suffix}`,
  );
}

/** A release label's value (`String(n)`), undefined for none. */
export function releaseLabel(release: number | null | undefined): string | undefined {
  return typeof release === 'number' ? String(release) : undefined;
}

/** A release label's number, or null when absent (an object from before releases) or garbled. */
export function releaseOf(label: string | undefined): number | null {
  return label !== undefined && /^[1-9][0-9]{0,9}$/.test(label) ? Number(label) : null;
}

/** `gantry-<route id>`: the Service that is a route of the Kubernetes edge. */
export function serviceName(routeId: string): string {
  return dnsName('gantry', routeId);
}

/** The label selector of an app (and environment), as the API's `labelSelector` string. */
export function selectorOf(filter: { app: string; env?: string | undefined }): string {
  return [
    `${LABEL.managed}=${MANAGED_BY}`,
    `${LABEL.app}=${filter.app}`,
    ...(filter.env === undefined ? [] : [`${LABEL.env}=${filter.env}`]),
  ].join(',');
}

/** A label value: at most 63 characters of `[A-Za-z0-9._-]`, starting and ending alphanumeric. */
export function isLabelValue(v: string): boolean {
  return /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/.test(v);
}

/** Slots as kept in the ReplicaSet annotation: sorted, unique. */
export function parseSlots(annotation: string | undefined): string[] {
  if (!annotation) return [];
  return [...new Set(annotation.split(',').filter((s) => s !== ''))].sort();
}

export function formatSlots(slots: Iterable<string>): string {
  return [...new Set(slots)].sort().join(',');
}
