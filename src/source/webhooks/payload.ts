/**
 * Reading untrusted webhook bodies: decoding, typed field access whose errors name the field, and
 * the git-level checks (SHAs, branch names) every forge's push shares. Pure; throws only GantryError.
 */
import { GantryError } from '../../errors.js';
import { branchNameProblem } from '../../git/branch-name.js';
import { isSha } from '../../git/commit-id.js';
import { headerValue, type Headers, type IgnoredReason, type RepoRef } from './event.js';

type JsonObject = Record<string, unknown>;

const BRANCH_PREFIX = 'refs/heads/';
const TAG_PREFIX = 'refs/tags/';
const ZERO_SHA = /^0+$/;

/** Decodes a raw body into a JSON object, accepting the form encoding GitHub and Gitea offer. */
export function decodeBody(context: string, headers: Headers, rawBody: Buffer): JsonObject {
  let text = rawBody.toString('utf8').replace(/^\uFEFF/, '');
  const contentType = headerValue(headers, 'content-type')?.toLowerCase() ?? '';
  // Forges configured for "application/x-www-form-urlencoded" send the JSON as a `payload` field;
  // the signature still covers the raw bytes, so only decoding differs. A body that is already
  // JSON (a caller that decoded the form itself) is left alone: forges percent-encode the '{'.
  if (
    contentType.startsWith('application/x-www-form-urlencoded') &&
    !text.trimStart().startsWith('{')
  ) {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) throw payloadError(context, "form body has no 'payload' field");
    text = payload;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw payloadError(context, 'body is not valid JSON', { cause });
  }
  if (!isJsonObject(parsed)) {
    throw payloadError(context, `body must be a JSON object, got ${describe(parsed)}`);
  }
  return parsed;
}

/** A view of one JSON object inside a payload that reads typed fields and names them in errors. */
export class Fields {
  private constructor(
    readonly context: string,
    private readonly obj: JsonObject,
    private readonly prefix: string,
  ) {}

  /** The top-level object of a payload; `context` ("github push") starts every error message. */
  static root(context: string, body: JsonObject): Fields {
    return new Fields(context, body, '');
  }

  /** The dotted path of a field, as it appears in error messages. */
  path(key: string): string {
    return this.prefix === '' ? key : `${this.prefix}.${key}`;
  }

  /** Throws the payload error for `key`. */
  fail(key: string, problem: string): never {
    throw payloadError(this.context, `field '${this.path(key)}' ${problem}`, {
      details: { field: this.path(key) },
    });
  }

  /** The raw value of an own property (never one inherited from Object.prototype). */
  raw(key: string): unknown {
    return Object.hasOwn(this.obj, key) ? this.obj[key] : undefined;
  }

  object(key: string): Fields {
    const nested = this.optionalObject(key);
    return nested ?? this.fail(key, 'is missing');
  }

  /** A nested object, or undefined when the field is absent or null. */
  optionalObject(key: string): Fields | undefined {
    const value = this.raw(key);
    if (value === undefined || value === null) return undefined;
    if (!isJsonObject(value)) return this.fail(key, `must be an object, got ${describe(value)}`);
    return new Fields(this.context, value, this.path(key));
  }

  /** A required, non-empty string. */
  string(key: string): string {
    const value = this.optionalString(key);
    if (value === undefined) return this.fail(key, 'is missing');
    if (value === '') return this.fail(key, 'must not be empty');
    return value;
  }

  /** A required string that may be empty (a commit message can be). */
  text(key: string): string {
    return this.optionalString(key) ?? this.fail(key, 'is missing');
  }

  /** A string, or undefined when absent or null; any other type is an error. */
  optionalString(key: string): string | undefined {
    const value = this.raw(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string')
      return this.fail(key, `must be a string, got ${describe(value)}`);
    return value;
  }

  /** A non-empty string if there is one, else undefined: for descriptive fields we can live without. */
  looseString(key: string): string | undefined {
    const value = this.raw(key);
    return typeof value === 'string' && value !== '' ? value : undefined;
  }

  optionalBoolean(key: string): boolean | undefined {
    const value = this.raw(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean')
      return this.fail(key, `must be a boolean, got ${describe(value)}`);
    return value;
  }

  /** An optional array of objects (absent or null reads as empty). */
  objects(key: string): Fields[] {
    const value = this.raw(key);
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) return this.fail(key, `must be an array, got ${describe(value)}`);
    return value.map((item: unknown, i) => {
      const at = `${key}[${i}]`;
      if (!isJsonObject(item)) return this.fail(at, `must be an object, got ${describe(item)}`);
      return new Fields(this.context, item, this.path(at));
    });
  }

  /** A commit SHA (SHA-1 or SHA-256 object format), lower-cased. */
  sha(key: string): string {
    const value = this.raw(key);
    const sha = typeof value === 'string' ? value.toLowerCase() : undefined;
    if (sha === undefined || !isSha(sha)) {
      const got = value === undefined ? 'it is missing' : `got ${describe(value)}`;
      return this.fail(key, `must be a 40- or 64-hex commit SHA, ${got}`);
    }
    return sha;
  }
}

/** Where a pushed ref leads: a branch we may deploy, or a reason to ignore the push. */
export type RefTarget =
  { kind: 'branch'; branch: string } | { kind: 'ignored'; reason: IgnoredReason; detail: string };

/** Classifies the full ref in `fields[key]`; a branch with an invalid name is a payload error. */
export function classifyRef(fields: Fields, key: string): RefTarget {
  const ref = fields.string(key);
  if (ref.startsWith(TAG_PREFIX)) {
    return {
      kind: 'ignored',
      reason: 'tag-push',
      detail: `tag '${brief(ref.slice(TAG_PREFIX.length))}' was pushed`,
    };
  }
  if (!ref.startsWith(BRANCH_PREFIX)) {
    // Other refs (notes — Gantry writes its own — or forge-internal refs) are legitimate pushes
    // that cannot deploy anything; answering 400 would fill the forge's delivery log with failures.
    return {
      kind: 'ignored',
      reason: 'unsupported-event',
      detail: `ref '${brief(ref)}' is not a branch`,
    };
  }
  const branch = ref.slice(BRANCH_PREFIX.length);
  const problem = branchNameProblem(branch);
  if (problem !== undefined)
    return fields.fail(key, `must name a valid branch: the name ${problem}`);
  return { kind: 'branch', branch };
}

/** Whether a SHA is the all-zero SHA forges send for "no commit" (a created or deleted ref). */
export function isZeroSha(sha: string): boolean {
  return ZERO_SHA.test(sha);
}

/**
 * Builds a RepoRef from a repository object: `nameKey` and the first of `urlKeys` are required,
 * the other URLs are collected when present. Order is kept and duplicates dropped.
 */
export function repoRef(
  repo: Fields,
  nameKey: string,
  urlKeys: readonly [string, ...string[]],
): RepoRef {
  const fullName = repo.string(nameKey);
  const urls = [repo.string(urlKeys[0])];
  for (const key of urlKeys.slice(1)) {
    const url = repo.optionalString(key);
    if (url !== undefined && url !== '' && !urls.includes(url)) urls.push(url);
  }
  return { fullName, urls };
}

/** The payload error for a required header that is absent (or sent twice). */
export function missingHeader(context: string, name: string): GantryError {
  return payloadError(context, `header '${name}' is missing`, { details: { header: name } });
}

/** A body's top-level JSON object, or undefined; never throws. For guessing, not for validating. */
export function sniffJson(rawBody: Buffer): JsonObject | undefined {
  try {
    const parsed: unknown = JSON.parse(rawBody.toString('utf8'));
    return isJsonObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An untrusted name (tag, ref, event) made safe for an event's `detail`, which ends up in logs and
 * the UI: control characters replaced, length capped.
 */
export function brief(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what we replace
  const clean = value.replace(/[\x00-\x1f\x7f]/g, '?');
  return clean.length > 100 ? `${clean.slice(0, 100)}…` : clean;
}

/** Runs a strict read and returns undefined instead of failing: for context on events we ignore. */
export function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (e) {
    if (e instanceof GantryError) return undefined;
    throw e;
  }
}

function payloadError(
  context: string,
  problem: string,
  opts: { cause?: unknown; details?: Record<string, unknown> } = {},
): GantryError {
  return new GantryError('GANTRY_ERR_WEBHOOK_PAYLOAD', `${context}: ${problem}`, opts);
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short description of a value for error messages; long strings are cut so logs stay readable. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `a string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'number':
    case 'boolean':
      return `a ${typeof value} (${String(value)})`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}
