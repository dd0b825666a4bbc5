/**
 * The shared vocabulary of webhook handling: which forges we accept, the event a delivery becomes,
 * and the small contract each forge adapter implements. Everything here is pure.
 */

export type Provider = 'github' | 'gitlab' | 'gitea';

/** Every forge we accept webhooks from, in the order the docs list them. */
export const PROVIDERS: readonly Provider[] = Object.freeze(['github', 'gitlab', 'gitea']);

/** Request headers as node gives them: lower-case names, repeated headers as arrays. */
export type Headers = Record<string, string | string[] | undefined>;

/** The repository a delivery is about; `urls` are every clone/http/ssh/html URL the forge sent. */
export interface RepoRef {
  fullName: string;
  urls: string[];
}

export interface HeadCommit {
  id: string;
  message: string;
  author?: string;
}

/** A push to a branch: the only event that can lead to a rollout. */
export interface PushEvent {
  kind: 'push';
  provider: Provider;
  deliveryId: string;
  repo: RepoRef;
  branch: string;
  before: string;
  after: string;
  pusher?: string;
  headCommit?: HeadCommit;
  prNumber?: number;
}

/** The forge checking that the hook works (GitHub only; GitLab and Gitea test with a real push). */
export interface PingEvent {
  kind: 'ping';
  provider: Provider;
  deliveryId: string;
  repo?: RepoRef;
}

export type IgnoredReason = 'tag-push' | 'branch-deletion' | 'unsupported-event';

/** A well-formed delivery that asks nothing of us; answered 2xx so the forge does not retry it. */
export interface IgnoredEvent {
  kind: 'ignored';
  provider: Provider;
  deliveryId: string;
  repo?: RepoRef;
  reason: IgnoredReason;
  detail: string;
}

export type WebhookEvent = PushEvent | PingEvent | IgnoredEvent;

/** Options for {@link WebhookAdapter.sign}: what a forge would put in the non-secret headers. */
export interface SignOptions {
  /** The event header value; by default guessed from the body (a push, or GitHub's ping). */
  event?: string;
  /** The delivery id header value; by default derived from the body so signing is deterministic. */
  deliveryId?: string;
}

/** What one forge contributes: its headers, its signature scheme and its payload shapes. */
export interface WebhookAdapter {
  /** Headers that may carry the delivery id, most preferred first. */
  readonly deliveryHeaders: readonly string[];
  verify(headers: Headers, rawBody: Buffer, secret: string): boolean;
  sign(rawBody: Buffer, secret: string, event: string | undefined, deliveryId: string): Headers;
  /**
   * The repository an already-decoded body claims to come from, or undefined; never throws. Only
   * a hint of which repo's secret to check: nothing in the body is trusted before that check.
   */
  claim(body: Record<string, unknown>): RepoRef | undefined;
  /** Turns an already-decoded JSON object into an event; throws GantryError on a bad payload. */
  parse(headers: Headers, body: Record<string, unknown>, deliveryId: string): WebhookEvent;
}

/** Whether an untrusted string (a route parameter, a config value) names a provider. */
export function isProvider(value: string): value is Provider {
  return (PROVIDERS as readonly string[]).includes(value);
}

/**
 * One header's value, or undefined when absent or ambiguous. Names are matched case-insensitively
 * so hand-built header objects work too; a header sent twice is treated as absent because we
 * cannot know which copy the forge meant (and a duplicated signature is a red flag anyway).
 */
export function headerValue(headers: Headers, name: string): string | undefined {
  const wanted = name.toLowerCase();
  let value = Object.hasOwn(headers, wanted) ? headers[wanted] : undefined;
  if (value === undefined) {
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === wanted) {
        value = headers[key];
        break;
      }
    }
  }
  if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
  return typeof value === 'string' ? value : undefined;
}
