import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueRollout } from '../../src/deploy/enqueue.js';
import {
  appName,
  closeWithInstances,
  startAppFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';

/**
 * A rollout job that fails with an error its loop cannot handle still ends: its record says
 * failed with the error, so the API, the dashboard and `gantry rollout --follow` never wait on a
 * rollout that no worker runs any more.
 */
describe('a rollout stopped by an error', () => {
  let f: Fixture;
  const app = appName('rerr');

  beforeAll(async () => {
    f = await startAppFixture(app);
  });
  afterAll(async () => {
    await closeWithInstances(f, app);
  });

  it('is recorded as failed with the error (here: an app no push has made known yet), and the revision is not marked failed', async () => {
    const sha = 'e'.repeat(40);
    const id = await enqueueRollout(
      {
        store: f.controller.store,
        rollouts: f.controller.rollouts,
        queues: f.controller.queues,
        log: pino({ level: 'silent' }),
      },
      { app, env: 'production', sha, kind: 'deploy', trigger: { kind: 'manual', actor: 'test' } },
    );
    const rec = await waitFor('the rollout to end', async () => {
      const r = await f.controller.rollouts.get(id);
      return r?.outcome ? r : undefined;
    });
    expect(rec).toMatchObject({ id, app, env: 'production', outcome: 'failed', to: { sha } });
    expect(rec.reason).toMatch(/^stopped by an error: app rerr\w+ is not known$/);
    const events = await f.controller.rollouts.events(id);
    expect(events.at(-1)).toMatchObject({ kind: 'outcome', text: `failed: ${rec.reason}` });
    expect(await f.controller.rollouts.hasFailed(app, 'production', sha)).toBe(false);
  });
});
