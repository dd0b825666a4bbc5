import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RepoConfig } from '../config/controller-config.js';
import { GantryError, errorMessage, isGantryError } from '../errors.js';
import type { SyncJob } from '../queue/jobs.js';
import { syncJobId } from '../queue/names.js';
import type { Queues } from '../queue/queues.js';
import { queueSyncWith } from '../queue/sync-intake.js';
import { batchWrites } from '../queue/write-batching.js';
import { normalizeRepoUrl, type RepoRegistry } from '../source/repos.js';
import {
  claimWebhook,
  headerDeliveryId,
  isProvider,
  PROVIDERS,
  parseWebhook,
  verifyWebhook,
  type Headers,
  type Provider,
  type RepoRef,
  type WebhookEvent,
} from '../source/webhooks/index.js';
import type { Limit, RateLimits } from '../store/rate-limits.js';
import type { DeliveryRecord } from '../store/records.js';
import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';
import { rateSubject } from './guards.js';

export interface WebhookDeps {
  store: Store;
  queues: Queues;
  repos: RepoRegistry;
  bodyLimitBytes: number;
  /** Deliveries per client address that may fail verification per window before 429. */
  webhookFailureLimit: { max: number; timeWindowMs: number };
}

/** The bucket scope of failed webhook verifications in {@link RateLimits}. */
export const WEBHOOK_FAILURE_SCOPE = 'webhook-failures';

/**
 * `f` remembering its results for up to `size` short arguments (all forgotten when full): the
 * same few repo URLs and client addresses come with every delivery. Long arguments, which only
 * a forged body would carry, are not kept.
 */
function remembered(f: (arg: string) => string, size = 1024): (arg: string) => string {
  const known = new Map<string, string>();
  return (arg) => {
    let value = known.get(arg);
    if (value === undefined) {
      value = f(arg);
      if (arg.length > 512) return value;
      if (known.size >= size) known.clear();
      known.set(arg, value);
    }
    return value;
  };
}

const normalizedUrl = remembered(normalizeRepoUrl);

/** Whether a configured repo is the one a forge names (any of its URLs, or `owner/name`). */
export function matchesRepo(repo: RepoConfig, ref: RepoRef): boolean {
  const want = normalizedUrl(repo.url);
  return (
    ref.urls.some((u) => normalizedUrl(u) === want) ||
    want.endsWith(`/${ref.fullName.toLowerCase()}`)
  );
}

/** A delivery whose signature one repo's secret verified, and its body if it was decoded. */
interface Verified {
  repo: RepoConfig;
  body?: Record<string, unknown>;
}

/**
 * Finds the one repo a delivery can be for and checks only its secret: the repo named in the URL
 * (`/webhooks/<provider>/<repo>`), else the repos matching the identity the body claims (checked
 * once per distinct secret; normally one). Checking every repo's secret would let one forged
 * 1 MiB delivery cost an HMAC per configured repo. Nothing the body says is trusted until the
 * signature is verified: the claim only picks which secret to try, and a wrong claim is a 401.
 */
export function verifyDelivery(
  repos: readonly RepoConfig[],
  provider: Provider,
  named: string | undefined,
  headers: Headers,
  raw: Buffer,
): Verified {
  const valid = (r: RepoConfig) =>
    r.webhookSecret !== undefined && verifyWebhook(provider, headers, raw, r.webhookSecret);
  if (named !== undefined) {
    const repo = repos.find((r) => r.name === named);
    if (!repo) {
      throw new GantryError('GANTRY_ERR_WEBHOOK_UNKNOWN_REPO', `no repo ${named} is configured`);
    }
    if (!valid(repo)) {
      throw new GantryError(
        'GANTRY_ERR_WEBHOOK_SIGNATURE',
        `signature missing or not valid for repo ${named}`,
      );
    }
    return { repo };
  }
  const claim = claimWebhook(provider, headers, raw);
  const claimed = claim.repo;
  const tried = new Set<string>();
  for (const repo of claimed ? repos.filter((r) => matchesRepo(r, claimed)) : []) {
    if (repo.webhookSecret === undefined || tried.has(repo.webhookSecret)) continue;
    tried.add(repo.webhookSecret);
    if (valid(repo)) return { repo, body: claim.body };
  }
  throw new GantryError(
    'GANTRY_ERR_WEBHOOK_SIGNATURE',
    claimed
      ? 'signature missing or not valid for the repo this delivery names'
      : `the delivery names no repository; send it to /webhooks/${provider}/<repo>`,
  );
}

interface Answer {
  status: number;
  outcome: DeliveryRecord['outcome'];
  detail: string;
  job?: string;
}

/**
 * `POST /webhooks/{github,gitlab,gitea}`: verify → parse → dedupe → enqueue, and answer as soon
 * as the sync job is in Redis. The payload is a hint: what gets built is what the fetch returns.
 */
export async function webhookRoutes(
  app: FastifyInstance,
  deps: WebhookDeps & { limits: RateLimits },
): Promise<void> {
  // Signatures are over the exact bytes sent, so the body stays a Buffer until verified.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const limit: Limit = {
    max: deps.webhookFailureLimit.max,
    windowMs: deps.webhookFailureLimit.timeWindowMs,
  };
  const failures = failureBudget(deps.limits, deps.store.keys, limit);
  const redis = deps.store.redis;
  // Whether the delivery id a header names was seen: asked while the failure budget is checked
  // and the body arrives, so accepting a delivery waits on one Redis round trip fewer. Used
  // only once the signature is verified.
  const seenEarly = new WeakMap<FastifyRequest, { id: string; seen: Promise<boolean> }>();
  // An address over its budget of failures is refused before its body is even read. One MGET
  // asks for the address's bucket and the delivery's seen marker together; an address with no
  // bucket has no failure on record (a bucket expires once refilled), so it is within budget
  // without running the bucket's script, which only the rare address with failures needs.
  app.addHook('onRequest', async (req, reply) => {
    const { provider } = req.params as { provider?: string };
    const id =
      provider && isProvider(provider) ? headerDeliveryId(provider, req.headers) : undefined;
    const keys = [failures.key(req)];
    if (provider && id !== undefined) keys.push(deps.store.keys.delivery(provider, id));
    batchWrites(redis); // leaves in one write with this turn's other requests
    const found = redis.mget(keys);
    if (id !== undefined) {
      const seen = found.then((values) => values[1] != null);
      seen.catch(() => undefined); // awaited (and reported) only if the delivery verifies
      seenEarly.set(req, { id, seen });
    }
    // Redis down: the delivery will get its 503 from the route.
    const [bucket] = await found.catch(() => [null]);
    if (bucket != null) await failures.check(req, reply);
  });

  const handler = async (
    req: FastifyRequest<{ Params: { provider: Provider; repo?: string } }>,
    reply: FastifyReply,
  ) => {
    const provider = req.params.provider;
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let verified: Verified;
    try {
      const repos = deps.repos.all().map((r) => r.config);
      verified = verifyDelivery(repos, provider, req.params.repo, req.headers, raw);
    } catch (e) {
      await failures.count(req);
      throw e;
    }
    // Form bodies (`payload=<json>`) are understood by the parser; signatures cover the raw bytes.
    const event = parseWebhook(provider, req.headers, raw, verified.body);
    const early = seenEarly.get(req);
    const seen = early?.id === event.deliveryId ? early.seen : undefined;
    const answer = await redisOr503(() => accept(deps, event, [verified.repo], seen));
    return send(reply, answer, event);
  };
  const provider = { type: 'string', enum: [...PROVIDERS] };
  app.post(
    '/webhooks/:provider',
    {
      bodyLimit: deps.bodyLimitBytes,
      schema: {
        summary: 'A forge delivery; the repo is found from the repository the payload names',
        params: { type: 'object', required: ['provider'], properties: { provider } },
      },
    },
    handler,
  );
  app.post(
    '/webhooks/:provider/:repo',
    {
      bodyLimit: deps.bodyLimitBytes,
      schema: {
        summary: 'A forge delivery for one configured repo (checked against its secret only)',
        params: {
          type: 'object',
          required: ['provider', 'repo'],
          // A repo's config name is at most 63 characters; longer paths never reached the
          // route anyway (fastify's 100-character param cap answers 414, off the contract).
          properties: { provider, repo: { type: 'string', maxLength: 63 } },
        },
      },
    },
    handler,
  );
}

/**
 * Failed verifications per client address, in Redis: `check` refuses (429) an address that used
 * up its budget, before any body is read or HMAC computed; `count` spends one failure.
 */
function failureBudget(limits: RateLimits, keys: Keys, limit: Limit) {
  const address = remembered((ip) => rateSubject(undefined, ip));
  const subject = (req: FastifyRequest) => address(req.ip);
  return {
    /** The address's bucket: absent while it has no failure on record. */
    key(req: FastifyRequest): string {
      return keys.rateLimit(WEBHOOK_FAILURE_SCOPE, subject(req));
    },
    async check(req: FastifyRequest, reply: FastifyReply): Promise<void> {
      const verdict = await limits
        .peek(WEBHOOK_FAILURE_SCOPE, subject(req), limit)
        .catch(() => undefined); // Redis down: the delivery will get its 503 from the route
      if (!verdict || verdict.allowed) return;
      const seconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
      reply.header('retry-after', seconds);
      throw new GantryError(
        'GANTRY_ERR_RATE_LIMITED',
        `more than ${limit.max} deliveries from this address failed verification in ${Math.round(limit.windowMs / 1000)} s; retry after ${seconds} s`,
      );
    },
    async count(req: FastifyRequest): Promise<void> {
      await limits.take(WEBHOOK_FAILURE_SCOPE, subject(req), limit).catch(() => undefined);
    },
  };
}

function send(reply: FastifyReply, a: Answer, event: WebhookEvent) {
  return reply.status(a.status).send({
    outcome: a.outcome,
    detail: a.detail,
    deliveryId: event.deliveryId,
    ...(a.job ? { job: a.job } : {}),
  });
}

/** Anything Redis refuses while we accept a delivery means "not accepted yet: send it again". */
async function redisOr503<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (isGantryError(e)) throw e;
    throw new GantryError(
      'GANTRY_ERR_QUEUE_UNAVAILABLE',
      `cannot queue the delivery now (${errorMessage(e)}); the forge should retry`,
      { cause: e },
    );
  }
}

async function accept(
  deps: WebhookDeps,
  event: WebhookEvent,
  candidates: RepoConfig[],
  seenEarly?: Promise<boolean>,
): Promise<Answer> {
  const base = {
    provider: event.provider,
    deliveryId: event.deliveryId,
    at: new Date().toISOString(),
  };
  const record = async (a: Answer, extra: Partial<DeliveryRecord> = {}) => {
    await deps.store.logDelivery({ ...base, outcome: a.outcome, detail: a.detail, ...extra });
    return a;
  };

  if (await (seenEarly ?? deps.store.deliverySeen(event.provider, event.deliveryId))) {
    return record({ status: 200, outcome: 'duplicate', detail: 'delivery already accepted' });
  }
  if (event.kind === 'ping') return record({ status: 200, outcome: 'accepted', detail: 'pong' });
  if (event.kind === 'ignored') {
    return record({ status: 202, outcome: 'ignored', detail: `${event.reason}: ${event.detail}` });
  }

  const repo = candidates.find((r) => matchesRepo(r, event.repo));
  const where = { branch: event.branch, after: event.after };
  if (!repo) {
    return record(
      {
        status: 202,
        outcome: 'ignored',
        detail: `repo ${event.repo.fullName} is not ${candidates.map((r) => r.name).join(', ')}, whose secret signed it`,
      },
      where,
    );
  }
  if (!deps.repos.tracks(repo.name, event.branch)) {
    return record(
      { status: 202, outcome: 'ignored', detail: `branch ${event.branch} is not tracked` },
      { ...where, repo: repo.name },
    );
  }

  const job: SyncJob = {
    repo: repo.name,
    branch: event.branch,
    hintSha: event.after,
    before: event.before,
    prNumber: event.prNumber,
    trigger: {
      kind: 'webhook',
      provider: event.provider,
      deliveryId: event.deliveryId,
      actor: event.pusher,
    },
  };
  const nonce = createHash('sha256').update(`${event.provider}\0${event.deliveryId}`).digest('hex');
  const jobId = syncJobId(repo.name, event.branch, nonce.slice(0, 24));
  const answer: Answer = {
    status: 202,
    outcome: 'accepted',
    detail: `sync of ${repo.name}@${event.branch} queued`,
    job: jobId,
  };
  const rec = {
    ...base,
    outcome: answer.outcome,
    detail: answer.detail,
    ...where,
    repo: repo.name,
  };
  // One round trip: the job, then the delivery marked seen only if the job is in Redis. A
  // failure is answered 503 and the redelivery is accepted afresh (the jobId makes a half-done
  // first attempt harmless).
  const marked = await queueSyncWith(deps.queues, job, jobId, (via, jobKey) =>
    deps.store.acceptDelivery(rec, { repo: repo.name, branch: event.branch, jobId, jobKey }, via),
  );
  if (!marked) throw new Error(`sync job ${jobId} is not in Redis after its add`);
  return answer;
}
