import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../src/cli/client.js';
import { appName, closeWithInstances, finishedRollout, pushBuilt, rolloutEnded, startAppFixture, type Fixture } from '../support/controller-fixture.js';

describe('dbg', () => {
  let f: Fixture;
  const app = 'hello';
  beforeAll(async () => {
    f = await startAppFixture(app, { replicas: 2 });
    const sha = await pushBuilt(f, app, 'first');
    expect((await finishedRollout(f, app, sha)).outcome).toBe('succeeded');
  }, 300_000);
  afterAll(async () => closeWithInstances(f, app));
  it('x', async () => {
    const body = JSON.stringify({ env: 'production', processes: { web: 3 } });
    const r = await api<{ rolloutId: string }>(f.deployer, `/api/apps/${app}/scale`, { method: 'POST', body });
    console.log('SCALE', body, JSON.stringify(r));
    await rolloutEnded(f, r.rolloutId);
    const q = await api<{ rolloutId: string }>(f.deployer, `/api/apps/${app}/restart`, { method: 'POST', body: '{"process":"web"}' });
    console.log('RESTART', JSON.stringify(q));
    await rolloutEnded(f, q.rolloutId);
    console.log('CONFIG', JSON.stringify(await api(f.client, `/api/apps/${app}/config`)));
    const rel = await api<{releases: unknown[]}>(f.client, `/api/apps/${app}/releases?limit=1`);
    console.log('RELEASES', JSON.stringify(rel));
    const bad = await fetch(`${f.controller.url}/api/apps/${app}/scale`, { method: 'POST', headers: { authorization: `Bearer ${f.deployer.token}`, 'content-type': 'application/json' }, body: '{"processes":{"web":500}}' });
    console.log('BAD', bad.status, await bad.text());
  }, 200_000);
});
