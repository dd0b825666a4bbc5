import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../src/cli/client.js';
import { pushPayload, sendPushWebhook } from '../../src/demo/forge.js';
import { startRedis } from '../../src/demo/redis-server.js';
import { signWebhook } from '../../src/source/webhooks/index.js';
import type { DeliveryRecord } from '../../src/store/records.js';
import { testEnv, uniqueName } from '../support/env.js';
import { startFixture, type Fixture } from '../support/controller-fixture.js';

/** Every job the sources queue has seen, whatever state it is in now. */
async function sourceJobs(f: Fixture): Promise<number> {
  const counts = await f.controller.queues.sources.getJobCounts(
    'waiting',
    'active',
    'delayed',
    'completed',
    'failed',
    'prioritized',
  );
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

function post(
  f: Fixture,
  provider: string,
  body: Buffer | string,
  headers: Record<string, string>,
) {
  return fetch(`${f.controller.url}/webhooks/${provider}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
}

function flat(h: Record<string, string | string[] | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(h).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

describe('webhook ingest: bad input is refused and loses nothing', () => {
  let f: Fixture;
  const push = () => ({
    repoUrl: f.repoUrl,
    fullName: 'acme/app',
    branch: 'main',
    before: '1'.repeat(40),
    after: '2'.repeat(40),
    message: 'x',
  });

  beforeAll(async () => {
    // No seed commit: these tests are about the HTTP edge, not builds.
    f = await startFixture({ seed: false, config: ['webhooks: { bodyLimitBytes: 4096 }'] });
  });
  afterAll(async () => {
    await f?.close();
  });

  it('a wrong or missing signature gets 401 and enqueues nothing', async () => {
    const before = await sourceJobs(f);
    const body = Buffer.from(JSON.stringify(pushPayload('github', push())));
    const wrong = flat(signWebhook('github', body, 'not-the-secret-at-all'));
    expect((await post(f, 'github', body, wrong)).status).toBe(401);
    const { 'x-hub-signature-256': _sig, ...unsigned } = flat(
      signWebhook('github', body, f.secret),
    );
    expect((await post(f, 'github', body, unsigned)).status).toBe(401);
    const gitlab = Buffer.from(JSON.stringify(pushPayload('gitlab', push())));
    const res = await post(f, 'gitlab', gitlab, {
      ...flat(signWebhook('gitlab', gitlab, f.secret)),
      'x-gitlab-token': 'nope',
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'GANTRY_ERR_WEBHOOK_SIGNATURE' });
    // A tampered body no longer matches its signature.
    const tampered = Buffer.from(body.toString().replace('refs/heads/main', 'refs/heads/evil'));
    expect(
      (await post(f, 'github', tampered, flat(signWebhook('github', body, f.secret)))).status,
    ).toBe(401);
    expect(await sourceJobs(f)).toBe(before);
  });

  it('the repo can be named in the URL: only its secret is checked, and the payload must match', async () => {
    const before = await sourceJobs(f);
    const body = Buffer.from(
      JSON.stringify(pushPayload('github', { ...push(), after: '3'.repeat(40) })),
    );
    const signed = flat(signWebhook('github', body, f.secret));
    const forged = flat(signWebhook('github', body, 'not-the-secret-at-all'));
    const wrong = await post(f, 'github/app', body, forged);
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { message: string }).message).toMatch(/repo app/);
    const unknown = await post(f, 'github/nope', body, signed);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'GANTRY_ERR_WEBHOOK_UNKNOWN_REPO' });
    expect(await sourceJobs(f)).toBe(before);

    const ok = await post(f, 'github/app', body, signed);
    expect(ok.status).toBe(202);
    expect(await sourceJobs(f)).toBe(before + 1);
    // A hook of another repository pointed at this repo's URL (same secret) queues nothing.
    const elsewhere = Buffer.from(
      JSON.stringify(
        pushPayload('github', {
          ...push(),
          repoUrl: 'https://example.com/acme/other.git',
          fullName: 'acme/other',
          after: '4'.repeat(40),
        }),
      ),
    );
    const res = await post(
      f,
      'github/app',
      elsewhere,
      flat(signWebhook('github', elsewhere, f.secret)),
    );
    expect(res.status).toBe(202);
    expect(((await res.json()) as { outcome: string }).outcome).toBe('ignored');
    expect(await sourceJobs(f)).toBe(before + 1);
  });

  it('a body over the configured limit gets 413', async () => {
    const big = Buffer.alloc(8192, 'a');
    const res = await post(f, 'gitea', big, flat(signWebhook('gitea', big, f.secret)));
    expect(res.status).toBe(413);
  });

  it('malformed JSON and missing or mistyped fields get 400 with the field named', async () => {
    const before = await sourceJobs(f);
    const junk = Buffer.from('{"ref": "refs/heads/main", ');
    const res = await post(f, 'github', junk, flat(signWebhook('github', junk, f.secret)));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'GANTRY_ERR_WEBHOOK_PAYLOAD' });

    const noAfter = pushPayload('gitea', push());
    delete noAfter.after;
    const body = Buffer.from(JSON.stringify(noAfter));
    const res2 = await post(f, 'gitea', body, flat(signWebhook('gitea', body, f.secret)));
    expect(res2.status).toBe(400);
    expect(((await res2.json()) as { message: string }).message).toMatch(/after/);
    expect(await sourceJobs(f)).toBe(before);
    // The process is still up and well.
    expect((await fetch(`${f.controller.url}/healthz`)).status).toBe(200);
  });

  it('a redelivered delivery id is accepted once', async () => {
    const before = await sourceJobs(f);
    const first = await sendPushWebhook(f.controller.url, 'github', f.secret, push(), {
      deliveryId: 'redeliver-1',
    });
    const again = await sendPushWebhook(f.controller.url, 'github', f.secret, push(), {
      deliveryId: 'redeliver-1',
    });
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.body.outcome).toBe('duplicate');
    expect(await sourceJobs(f)).toBe(before + 1);
    const { deliveries } = await api<{ deliveries: DeliveryRecord[] }>(
      f.client,
      '/api/webhooks/deliveries',
    );
    const mine = deliveries.filter((d) => d.deliveryId === 'redeliver-1').map((d) => d.outcome);
    expect(mine.sort()).toEqual(['accepted', 'duplicate']);
  });

  it('pings answer 200; tags, deletions and untracked branches are acknowledged and ignored', async () => {
    const before = await sourceJobs(f);
    // A ping that names no repository (an organisation hook) can only be verified when the URL
    // names the repo; one that does (a repository hook) works on either URL.
    const ping = Buffer.from(JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 }));
    const pingHeaders = flat(signWebhook('github', ping, f.secret, { event: 'ping' }));
    expect((await post(f, 'github/app', ping, pingHeaders)).status).toBe(200);
    const anonymous = await post(f, 'github', ping, pingHeaders);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { message: string }).message).toMatch(
      /webhooks\/github\/<repo>/,
    );
    const repoPing = Buffer.from(
      JSON.stringify({
        zen: 'Design for failure.',
        hook_id: 2,
        repository: { full_name: 'acme/app', clone_url: f.repoUrl },
      }),
    );
    const pingRes = await post(
      f,
      'github',
      repoPing,
      flat(signWebhook('github', repoPing, f.secret, { event: 'ping' })),
    );
    expect(pingRes.status).toBe(200);

    const tag = { ...pushPayload('github', push()), ref: 'refs/tags/v1.0.0' };
    const deletion = { ...pushPayload('gitea', push()), after: '0'.repeat(40), deleted: true };
    const other = pushPayload('gitlab', { ...push(), branch: 'feature/x' });
    for (const [provider, payload] of [
      ['github', tag],
      ['gitea', deletion],
      ['gitlab', other],
    ] as const) {
      const body = Buffer.from(JSON.stringify(payload));
      const res = await post(f, provider, body, flat(signWebhook(provider, body, f.secret)));
      expect(res.status, provider).toBe(202);
      expect(((await res.json()) as { outcome: string }).outcome).toBe('ignored');
    }
    expect(await sourceJobs(f)).toBe(before);
  });

  it('answers 503 when Redis is unreachable, so the forge keeps the delivery', async () => {
    const redis = await startRedis({ dir: path.join(testEnv().runDir, uniqueName('redis')) });
    const g = await startFixture({ seed: false, redisUrl: redis.url }).catch(async (e: unknown) => {
      await redis.stop();
      throw e;
    });
    try {
      await redis.stop();
      const res = await sendPushWebhook(g.controller.url, 'github', g.secret, {
        ...push(),
        repoUrl: g.repoUrl,
      });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ code: 'GANTRY_ERR_QUEUE_UNAVAILABLE' });
      expect((await fetch(`${g.controller.url}/healthz`)).status).toBe(503);
    } finally {
      await g.close();
    }
  });
});
