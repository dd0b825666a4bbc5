/** Kubernetes `Status` objects: every error answer of the API server, and the success of a delete. */
import { qualifiedName, type ResourceDef } from './resources.js';

export type StatusReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'BadRequest'
  | 'MethodNotAllowed'
  | 'Unauthorized'
  | 'Forbidden'
  | 'Expired'
  | 'Gone'
  | 'UnsupportedMediaType'
  | 'ServiceUnavailable'
  | 'InternalError';

export interface StatusObject {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: StatusReason;
  details?: { name?: string; group?: string; kind?: string; uid?: string };
  code: number;
}

/** An API error: thrown by handlers, written by the router as a Status body with its code. */
export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusObject['details'],
  ) {
    super(message);
  }

  /** The Status object the API server sends for this error. */
  toStatus(): StatusObject {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

function details(def: ResourceDef, name: string): StatusObject['details'] {
  return { name, ...(def.group ? { group: def.group } : {}), kind: def.plural };
}

/** 404 `pods "x" not found`. */
export function notFound(def: ResourceDef, name: string): StatusError {
  return new StatusError(
    404,
    'NotFound',
    `${qualifiedName(def)} "${name}" not found`,
    details(def, name),
  );
}

/** 409 `pods "x" already exists`. */
export function alreadyExists(def: ResourceDef, name: string): StatusError {
  return new StatusError(
    409,
    'AlreadyExists',
    `${qualifiedName(def)} "${name}" already exists`,
    details(def, name),
  );
}

/** 409 Conflict: the write was based on an old resourceVersion. */
export function conflict(def: ResourceDef, name: string): StatusError {
  return new StatusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedName(def)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    details(def, name),
  );
}

/** 422 Invalid. */
export function invalid(def: ResourceDef, name: string, message: string): StatusError {
  return new StatusError(
    422,
    'Invalid',
    `${def.kind} "${name}" is invalid: ${message}`,
    details(def, name),
  );
}

/** 400 BadRequest. */
export function badRequest(message: string): StatusError {
  return new StatusError(400, 'BadRequest', message);
}

/** 410 Expired: the watch asked for history the server no longer keeps. */
export function expired(requested: number, oldest: number): StatusError {
  return new StatusError(410, 'Expired', `too old resource version: ${requested} (${oldest})`);
}

/** `{status: Success}` as a delete answers for kinds that do not return the object. */
export function deleteSuccess(
  def: ResourceDef,
  name: string,
  uid: string | undefined,
): StatusObject {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { ...details(def, name), ...(uid ? { uid } : {}) },
    code: 200,
  };
}
