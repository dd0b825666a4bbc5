import { describe, expect, it } from 'vitest';
import { verifyDelivery } from '../../src/api/webhooks.js';
import type { RepoConfig } from '../../src/config/controller-config.js';
import { pushPayload } from '../../src/demo/forge.js';
import { signWebhook, verifyWebhook, type Provider } from '../../src/source/webhooks/index.js';
import { isGantryError } from '../../src/errors.js';

/** 100 repos whose secrets count who reads them: reading a secret is what checking it costs. */
function repos(n = 100) {
  const reads = new Map<string, number>();
  const all = Array.from({ length: n }, (_, i): RepoConfig => {
    const name = `repo-${i}`;
    const cfg = {
      name,
      url: `https://git.example.com/acme/${name}.git`,
      branches: ['main'],
      apps: ['.'],
      pollIntervalSeconds: 0,
    } as RepoConfig;
    Object.defineProperty(cfg, 'webhookSecret', {
      enumerable: true,
      get: () => {
        reads.set(name, (reads.get(name) ?? 0) + 1);
        return `secret-of-${name}`;
      },
    });
    return cfg;
  });
  return { all, checked: () => [...reads.keys()] };
}

/** A push delivery for `repo-<i>`, padded to about 1 MiB (the default body limit). */
function delivery(provider: Provider, i: number) {
  const payload = pushPayload(provider, {
    repoUrl: `https://git.example.com/acme/repo-${i}.git`,
    fullName: `acme/repo-${i}`,
    branch: 'main',
    before: '1'.repeat(40),
    after: '2'.repeat(40),
    message: 'x'.repeat(1 << 20),
  });
  return Buffer.from(JSON.stringify(payload));
}

function code(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (e) {
    return isGantryError(e) ? e.code : String(e);
  }
}

describe('verifyDelivery checks one repo’s secret, not every repo’s', () => {
  for (const provider of ['github', 'gitlab', 'gitea'] as const) {
    it(`${provider}: a forged delivery is checked against the secret of the repo it names`, () => {
      const { all, checked } = repos();
      const body = delivery(provider, 42);
      const forged = signWebhook(provider, body, 'guessed');
      expect(code(() => verifyDelivery(all, provider, undefined, forged, body))).toBe(
        'GANTRY_ERR_WEBHOOK_SIGNATURE',
      );
      expect(checked()).toEqual(['repo-42']);
    });
  }

  it('the repo named in the URL is the only one checked', () => {
    const { all, checked } = repos();
    const body = delivery('github', 7);
    const forged = signWebhook('github', body, 'guessed');
    expect(code(() => verifyDelivery(all, 'github', 'repo-42', forged, body))).toBe(
      'GANTRY_ERR_WEBHOOK_SIGNATURE',
    );
    expect(checked()).toEqual(['repo-42']);
    expect(code(() => verifyDelivery(all, 'github', 'nope', forged, body))).toBe(
      'GANTRY_ERR_WEBHOOK_UNKNOWN_REPO',
    );
  });

  it('a claim that matches no repo checks no secret; a body that is not JSON is a 400', () => {
    const { all, checked } = repos();
    const body = delivery('github', 1000);
    const headers = signWebhook('github', body, 'guessed');
    expect(code(() => verifyDelivery(all, 'github', undefined, headers, body))).toBe(
      'GANTRY_ERR_WEBHOOK_SIGNATURE',
    );
    const junk = Buffer.from('{"repository": ');
    expect(code(() => verifyDelivery(all, 'github', undefined, headers, junk))).toBe(
      'GANTRY_ERR_WEBHOOK_PAYLOAD',
    );
    expect(checked()).toEqual([]);
  });

  it('a genuine delivery verifies, by URL or by claim, and hands back the decoded body', () => {
    const { all } = repos();
    const body = delivery('gitea', 42);
    const headers = signWebhook('gitea', body, 'secret-of-repo-42');
    const byClaim = verifyDelivery(all, 'gitea', undefined, headers, body);
    expect(byClaim.repo.name).toBe('repo-42');
    expect(byClaim.body).toMatchObject({ ref: 'refs/heads/main' });
    expect(verifyDelivery(all, 'gitea', 'repo-42', headers, body).repo.name).toBe('repo-42');
  });

  it('logs the CPU a forged 1 MiB delivery costs with 100 repos, before and after', () => {
    const { all } = repos();
    const body = delivery('github', 42);
    const forged = signWebhook('github', body, 'guessed');
    const perRequestMs = (run: () => void, n = 20) => {
      const start = process.cpuUsage();
      for (let i = 0; i < n; i++) run();
      const used = process.cpuUsage(start);
      return (used.user + used.system) / 1000 / n;
    };
    // Before: every repo's secret was tried over the whole body.
    const before = perRequestMs(() => {
      all.filter((r) => verifyWebhook('github', forged, body, r.webhookSecret!));
    }, 5);
    const byClaim = perRequestMs(() =>
      code(() => verifyDelivery(all, 'github', undefined, forged, body)),
    );
    const byUrl = perRequestMs(() =>
      code(() => verifyDelivery(all, 'github', 'repo-42', forged, body)),
    );
    console.log(
      `forged 1 MiB github delivery, 100 repos: CPU ${before.toFixed(2)} ms before; after ${byClaim.toFixed(2)} ms (repo from the payload), ${byUrl.toFixed(2)} ms (/webhooks/github/<repo>)`,
    );
    expect(before).toBeGreaterThan(0);
  });
});
