/**
 * The one error catalogue. Every error Gantry raises on purpose has a stable code, an HTTP status
 * for the API, and a disposition that says what happens next (Flux's stalled / waiting / generic):
 *  - `stalled`: retrying cannot help; a person must act (bad spec, failing Dockerfile).
 *  - `transient`: retry with backoff (registry down, daemon restarting, network blip).
 */
export type Disposition = 'stalled' | 'transient';

interface ErrorDef {
  readonly status: number;
  readonly disposition: Disposition;
}

export const ERRORS = {
  GANTRY_ERR_SPEC_INVALID: { status: 422, disposition: 'stalled' },
  GANTRY_ERR_SPEC_MISSING: { status: 422, disposition: 'stalled' },
  /** The app name in gantry.yaml belongs to another repo or folder (see `gantry apps:release`). */
  GANTRY_ERR_APP_OWNED: { status: 409, disposition: 'stalled' },
  GANTRY_ERR_CONFIG_INVALID: { status: 500, disposition: 'stalled' },
  /** A reload found the config file invalid; the controller keeps running on the config it has. */
  GANTRY_ERR_CONFIG_REJECTED: { status: 400, disposition: 'stalled' },
  /** Reload asked of a controller started without a config file (nothing to re-read). */
  GANTRY_ERR_CONFIG_NO_FILE: { status: 409, disposition: 'stalled' },
  GANTRY_ERR_REF_INVALID: { status: 400, disposition: 'stalled' },
  GANTRY_ERR_PATH_ESCAPE: { status: 422, disposition: 'stalled' },
  GANTRY_ERR_GIT_FETCH: { status: 502, disposition: 'transient' },
  GANTRY_ERR_GIT_NOT_FOUND: { status: 404, disposition: 'stalled' },
  /** A push past a cap on what the controller holds (pack, fetch time, file, build context). */
  GANTRY_ERR_SOURCE_LIMIT: { status: 413, disposition: 'stalled' },
  GANTRY_ERR_BUILD_FAILED: { status: 422, disposition: 'stalled' },
  GANTRY_ERR_BUILD_TIMEOUT: { status: 504, disposition: 'stalled' },
  GANTRY_ERR_DOCKER_UNAVAILABLE: { status: 503, disposition: 'transient' },
  GANTRY_ERR_REGISTRY_UNAVAILABLE: { status: 503, disposition: 'transient' },
  /** The registry refused the credentials, or asked for some and none are configured. */
  GANTRY_ERR_REGISTRY_AUTH: { status: 502, disposition: 'stalled' },
  /** The registry refused a request for good (deletes disabled, a bad name). */
  GANTRY_ERR_REGISTRY_REJECTED: { status: 502, disposition: 'stalled' },
  GANTRY_ERR_WEBHOOK_SIGNATURE: { status: 401, disposition: 'stalled' },
  GANTRY_ERR_WEBHOOK_PAYLOAD: { status: 400, disposition: 'stalled' },
  GANTRY_ERR_WEBHOOK_UNKNOWN_REPO: { status: 404, disposition: 'stalled' },
  GANTRY_ERR_QUEUE_UNAVAILABLE: { status: 503, disposition: 'transient' },
  GANTRY_ERR_DEPLOY_DISABLED: { status: 503, disposition: 'stalled' },
  GANTRY_ERR_NOT_FOUND: { status: 404, disposition: 'stalled' },
  GANTRY_ERR_BAD_REQUEST: { status: 400, disposition: 'stalled' },
  GANTRY_ERR_ROLLOUT_FINISHED: { status: 409, disposition: 'stalled' },
  GANTRY_ERR_UNAUTHORIZED: { status: 401, disposition: 'stalled' },
  GANTRY_ERR_FORBIDDEN: { status: 403, disposition: 'stalled' },
  /** The token is limited to other environments of the app (tokens[].envs). */
  GANTRY_ERR_ENV_FORBIDDEN: { status: 403, disposition: 'stalled' },
  /** The role allows it, but it needs a permission the token lacks (deploy:any-branch, unlock). */
  GANTRY_ERR_PERMISSION_REQUIRED: { status: 403, disposition: 'stalled' },
  GANTRY_ERR_ORIGIN_REJECTED: { status: 403, disposition: 'stalled' },
  GANTRY_ERR_RATE_LIMITED: { status: 429, disposition: 'transient' },
  /** Too many concurrent event streams, for the token or the controller (api.streams). */
  GANTRY_ERR_TOO_MANY_STREAMS: { status: 429, disposition: 'transient' },
  GANTRY_ERR_ENV_REQUIRED: { status: 400, disposition: 'stalled' },
  GANTRY_ERR_ENV_UNKNOWN: { status: 404, disposition: 'stalled' },
  GANTRY_ERR_ENV_EMPTY: { status: 409, disposition: 'stalled' },
  GANTRY_ERR_REF_UNKNOWN: { status: 404, disposition: 'stalled' },
  GANTRY_ERR_NO_ROLLBACK_TARGET: { status: 404, disposition: 'stalled' },
  GANTRY_ERR_ROLLBACK_TARGET_INVALID: { status: 409, disposition: 'stalled' },
  GANTRY_ERR_NOT_RETRYABLE: { status: 409, disposition: 'stalled' },
  /** Prune of an environment the reconciler has not marked orphaned (force overrides). */
  GANTRY_ERR_NOT_ORPHANED: { status: 409, disposition: 'stalled' },
  /** The environment's rollout lease is held (a rollout or a repair is running): try again later. */
  GANTRY_ERR_ENV_BUSY: { status: 409, disposition: 'transient' },
  GANTRY_ERR_LOCK_UNTIL_INVALID: { status: 400, disposition: 'stalled' },
  /** A sealed secret that no key of this controller opens (unknown key, tampered, moved). */
  GANTRY_ERR_SECRET_UNREADABLE: { status: 500, disposition: 'stalled' },
  /** Secrets cannot be set or read: no key configured, or a declared secret has no value. */
  GANTRY_ERR_SECRET_MISSING: { status: 422, disposition: 'stalled' },
  /** A config key that is not a valid environment variable name, or a value too long. */
  GANTRY_ERR_CONFIG_VAR_INVALID: { status: 400, disposition: 'stalled' },
  /** A `gantry scale` naming a process the spec does not declare, or replicas out of bounds. */
  GANTRY_ERR_SCALE_INVALID: { status: 400, disposition: 'stalled' },
  GANTRY_ERR_RELEASE_UNKNOWN: { status: 404, disposition: 'stalled' },
  GANTRY_ERR_EDGE_UNAVAILABLE: { status: 503, disposition: 'transient' },
  GANTRY_ERR_KUBERNETES_UNAVAILABLE: { status: 503, disposition: 'transient' },
  GANTRY_ERR_UNSUPPORTED: { status: 501, disposition: 'stalled' },
  GANTRY_ERR_EDGE_REJECTED: { status: 502, disposition: 'stalled' },
  GANTRY_ERR_INSTANCE_CONFLICT: { status: 409, disposition: 'stalled' },
  GANTRY_ERR_INSTANCE_START: { status: 422, disposition: 'stalled' },
  GANTRY_ERR_IMAGE_MISSING: { status: 404, disposition: 'stalled' },
  GANTRY_ERR_EXEC_TIMEOUT: { status: 504, disposition: 'transient' },
  GANTRY_ERR_REPORT_FAILED: { status: 502, disposition: 'transient' },
  GANTRY_ERR_NOTES_PUSH: { status: 502, disposition: 'transient' },
} as const satisfies Record<string, ErrorDef>;

export type ErrorCode = keyof typeof ERRORS;

/** An error with a stable code; the API answers with its status and code, the queue with its disposition. */
export class GantryError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly disposition: Disposition;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GantryError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.disposition = ERRORS[code].disposition;
    this.details = opts.details;
  }
}

export function isGantryError(e: unknown, code?: ErrorCode): e is GantryError {
  return e instanceof GantryError && (code === undefined || e.code === code);
}

/** A message fit for a log line or an API answer, whatever was thrown. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
