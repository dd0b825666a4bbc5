import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../src/cli/client.js';
import { startFixture, type Fixture } from '../support/controller-fixture.js';

/** Configuration is the admin's: viewers and deployers get 403, and no secret is ever returned. */
describe('GET /api/config', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ seed: false });
  });
  afterAll(async () => {
    await f.close();
  });

  it('is refused without a token (401) and below admin (403)', async () => {
    const none = await fetch(`${f.controller.url}/api/config`);
    expect(none.status).toBe(401);
    await expect(api(f.client, '/api/config')).rejects.toThrow(/403/);
    await expect(api(f.deployer, '/api/config')).rejects.toThrow(/403/);
  });

  it('shows an admin the effective configuration with every secret redacted', async () => {
    const config = await api<{
      tokens: { name: string; role: string }[];
      repos: { name: string; webhookSecret: string | null }[];
    }>(f.admin, '/api/config');
    expect(config.tokens.map((t) => t.role)).toEqual(['viewer', 'deployer', 'admin']);
    expect(config.repos[0]).toMatchObject({ name: 'app', webhookSecret: '(set)' });
    const text = JSON.stringify(config);
    for (const secret of [f.secret, f.token, f.deployer.token, f.admin.token]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/sha256:[0-9a-f]{64}/);
  });
});
