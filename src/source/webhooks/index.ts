/**
 * Webhook verification and parsing, dispatched by provider. Pure: the HTTP route reads the bounded
 * raw body, calls `verifyWebhook` (401 when false), then `parseWebhook`, then acts on the event.
 */
import { errorMessage, GantryError } from '../../errors.js';
import type {
  Headers,
  Provider,
  RepoRef,
  SignOptions,
  WebhookAdapter,
  WebhookEvent,
} from './event.js';
import { headerValue } from './event.js';
import { gitea } from './gitea.js';
import { github } from './github.js';
import { gitlab } from './gitlab.js';
import { brief, decodeBody } from './payload.js';
import { bodyDigest } from './signature.js';

export type {
  Headers,
  HeadCommit,
  IgnoredEvent,
  IgnoredReason,
  PingEvent,
  Provider,
  PushEvent,
  RepoRef,
  SignOptions,
  WebhookEvent,
} from './event.js';
export { isProvider, PROVIDERS } from './event.js';

// A Record over Provider makes adding a provider without an adapter a type error.
const ADAPTERS: Readonly<Record<Provider, WebhookAdapter>> = { github, gitlab, gitea };

// Delivery ids become idempotency keys and log fields, so only plain tokens (UUIDs, hex) are
// trusted; anything else falls back to the body digest rather than flowing onward.
const DELIVERY_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Whether the delivery carries a valid signature (or token) for `secret`; never throws. */
export function verifyWebhook(
  provider: Provider,
  headers: Headers,
  rawBody: Buffer,
  secret: string,
): boolean {
  const adapter = adapterFor(provider);
  if (adapter === undefined || !Buffer.isBuffer(rawBody) || typeof secret !== 'string')
    return false;
  try {
    return adapter.verify(headers, rawBody, secret);
  } catch {
    // Fail closed: whatever went wrong, an unverifiable delivery is an unauthenticated one.
    return false;
  }
}

/** A delivery's body, decoded once, and the repository it claims to be from (not yet verified). */
export interface WebhookClaim {
  body: Record<string, unknown>;
  repo: RepoRef | undefined;
}

/**
 * Decodes an unverified delivery just far enough to learn which repo it claims to be from, so
 * the route checks that one repo's secret rather than every repo's. Throws
 * GantryError('GANTRY_ERR_WEBHOOK_PAYLOAD') when the body is not a JSON object.
 */
export function claimWebhook(provider: Provider, headers: Headers, rawBody: Buffer): WebhookClaim {
  const adapter = adapterOrThrow(provider);
  const body = guarded(provider, () => decodeBody(provider, headers, rawBody));
  return { body, repo: adapter.claim(body) };
}

/**
 * Turns a verified delivery into an event; throws GantryError('GANTRY_ERR_WEBHOOK_PAYLOAD')
 * naming the bad field. `decoded` is the body {@link claimWebhook} already decoded, if any.
 */
export function parseWebhook(
  provider: Provider,
  headers: Headers,
  rawBody: Buffer,
  decoded?: Record<string, unknown>,
): WebhookEvent {
  const adapter = adapterOrThrow(provider);
  return guarded(provider, () => {
    const id = deliveryId(provider, headers, rawBody);
    return adapter.parse(headers, decoded ?? decodeBody(provider, headers, rawBody), id);
  });
}

/** Runs a read of an untrusted body, turning any failure into the payload error (400). */
function guarded<T>(provider: Provider, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof GantryError) throw e;
    // The parsers only throw GantryError on purpose; anything else (a stack overflow on absurdly
    // nested JSON, say) is still the payload's fault and must reach the route as a 400.
    throw new GantryError(
      'GANTRY_ERR_WEBHOOK_PAYLOAD',
      `${provider}: unreadable payload: ${errorMessage(e)}`,
      { cause: e },
    );
  }
}

/**
 * The delivery id the forge sent, or `sha256(provider + rawBody)` in hex when it sent none, so a
 * redelivery of the same body is still recognised as the same delivery.
 */
export function deliveryId(provider: Provider, headers: Headers, rawBody: Buffer): string {
  return headerDeliveryId(provider, headers) ?? bodyDigest(provider, rawBody);
}

/**
 * The delivery id the forge sent in a header, if a well-formed one: known before the body is
 * read, so the route can look it up while the body is still arriving.
 */
export function headerDeliveryId(provider: Provider, headers: Headers): string | undefined {
  for (const name of adapterOrThrow(provider).deliveryHeaders) {
    const value = headerValue(headers, name);
    if (value !== undefined && DELIVERY_ID.test(value)) return value;
  }
  return undefined;
}

/**
 * The headers a forge would send with `rawBody` (signature or token, event, delivery id), for
 * tests, the demo and the benchmark. Deterministic: the default delivery id is derived from the body.
 */
export function signWebhook(
  provider: Provider,
  rawBody: Buffer,
  secret: string,
  opts: SignOptions = {},
): Headers {
  const id = opts.deliveryId ?? uuidShape(bodyDigest(provider, rawBody));
  return adapterOrThrow(provider).sign(rawBody, secret, opts.event, id);
}

function adapterFor(provider: string): WebhookAdapter | undefined {
  // `provider` often comes from a URL segment; hasOwn keeps "__proto__" and friends out.
  return Object.hasOwn(ADAPTERS, provider) ? ADAPTERS[provider as Provider] : undefined;
}

function adapterOrThrow(provider: string): WebhookAdapter {
  const adapter = adapterFor(provider);
  if (adapter === undefined) {
    throw new GantryError(
      'GANTRY_ERR_WEBHOOK_PAYLOAD',
      `unknown webhook provider '${brief(String(provider))}'`,
    );
  }
  return adapter;
}

/** Formats 32 hex digits as a UUID (8-4-4-4-12), the shape forges use for delivery ids. */
function uuidShape(hex: string): string {
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    hex.slice(12, 16),
    hex.slice(16, 20),
    hex.slice(20, 32),
  ].join('-');
}
