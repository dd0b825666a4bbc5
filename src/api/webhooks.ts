import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RepoConfig } from '../config/controller-config.js';
import { GantryError, errorMessage, isGantryError } from '../errors.js';
import type { SyncJob } from '../queue/jobs.js';
import { syncJobId } from '../queue/names.js';
import type { Queues } from '../queue/queues.js';
import { normalizeRepoUrl, type RepoRegistry } from '../source/repos.js';
import {
  PROVIDERS,
  parseWebhook,
  verifyWebhook,
  type Provider,
  type PushEvent,
  type WebhookEvent,
} from '../source/webhooks/index.js';
import type { DeliveryRecord } from '../store/records.js';
import type { Store } from '../store/store.js';

export interface WebhookDeps {
  store: Store;
  queues: Queues;
  repos: RepoRegistry;
  bodyLimitBytes: number;
}

function matchesRepo(repo: RepoConfig, event: PushEvent): boolean {
  const want = normalizeRepoUrl(repo.url);
  return (
    event.repo.urls.some((u) => normalizeRepoUrl(u) === want) ||
    want.endsWith(`/${event.repo.fullName.toLowerCase()}`)
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
export async function webhookRoutes(app: FastifyInstance, deps: WebhookDeps): Promise<void> {
  // Signatures are over the exact bytes sent, so the body stays a Buffer until verified.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.post<{ Params: { provider: Provider } }>(
    '/webhooks/:provider',
    {
      bodyLimit: deps.bodyLimitBytes,
      schema: {
        params: {
          type: 'object',
          required: ['provider'],
          properties: { provider: { type: 'string', enum: [...PROVIDERS] } },
        },
      },
    },
    async (req, reply) => {
      const provider = req.params.provider;
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const candidates = deps.repos
        .all()
        .map((r) => r.config)
        .filter(
          (r) => r.webhookSecret && verifyWebhook(provider, req.headers, raw, r.webhookSecret),
        );
      if (candidates.length === 0) {
        throw new GantryError(
          'GANTRY_ERR_WEBHOOK_SIGNATURE',
          'signature missing or not valid for any configured repo',
        );
      }
      // Form bodies (`payload=<json>`) are understood by the parser; signatures cover the raw bytes.
      const event = parseWebhook(provider, req.headers, raw);
      const answer = await redisOr503(() => accept(deps, event, candidates));
      return send(reply, answer, event);
    },
  );
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

  if (await deps.store.deliverySeen(event.provider, event.deliveryId)) {
    return record({ status: 200, outcome: 'duplicate', detail: 'delivery already accepted' });
  }
  if (event.kind === 'ping') return record({ status: 200, outcome: 'accepted', detail: 'pong' });
  if (event.kind === 'ignored') {
    return record({ status: 202, outcome: 'ignored', detail: `${event.reason}: ${event.detail}` });
  }

  const repo = candidates.find((r) => matchesRepo(r, event));
  const where = { branch: event.branch, after: event.after };
  if (!repo) {
    return record(
      {
        status: 202,
        outcome: 'ignored',
        detail: `repo ${event.repo.fullName} is not configured for this secret`,
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
  await deps.queues.sources.add('sync', job, { jobId });
  // Marked seen only once the job is queued: a failure before this point is answered 503 and
  // the redelivery is accepted afresh (the jobId makes a half-done first attempt harmless).
  const answer: Answer = {
    status: 202,
    outcome: 'accepted',
    detail: `sync of ${repo.name}@${event.branch} queued`,
    job: jobId,
  };
  await deps.store.acceptDelivery(
    { ...base, outcome: answer.outcome, detail: answer.detail, ...where, repo: repo.name },
    { repo: repo.name, branch: event.branch, jobId },
  );
  return answer;
}
