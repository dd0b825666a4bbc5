/**
 * A real push → build → rollout on Docker with a forge and receivers configured: the forge sees
 * the statuses and the Deployment, the receivers that fail do not hold the rollout up, and a fresh
 * `git clone` of the repo shows where and when its commit was deployed (`git log --notes=gantry`).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedGitEnv } from '../../src/demo/git-http-server.js';
import { NOTES_REF } from '../../src/history/notes.js';
import {
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
} from '../../src/history/notify.js';
import { uniqueName } from '../support/env.js';
import {
  appName,
  closeWithInstances,
  finishedRollout,
  pushPageBuilt,
  startExampleFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';
import { shapeErrors, startRecorder, type Recorder } from '../support/forge-recorder.js';

const run = promisify(execFile);
const git = async (args: string[], cwd?: string) =>
  (await run('git', args, { cwd, env: isolatedGitEnv() })).stdout.trim();

describe('reporting a real rollout', () => {
  let f: Fixture;
  let forge: Recorder;
  let hook: Recorder;
  let slack: Recorder;
  const app = appName('rep');
  const secret = 'e2e-receiver-secret';

  beforeAll(async () => {
    forge = await startRecorder();
    forge.answer((c) =>
      c.path.endsWith('/deployments') ? { status: 201, body: { id: 555 } } : { status: 201 },
    );
    hook = await startRecorder();
    hook.answer(() => ({ status: 500 })); // a broken receiver
    slack = await startRecorder();
    slack.answer(() => 'hang'); // a receiver that never answers
    process.env.GANTRY_TEST_FORGE_TOKEN = 'e2e-forge-token';
    process.env.GANTRY_TEST_HOOK_SECRET = secret;
    f = await startExampleFixture(app, {
      repo: [
        `forge: { kind: github, apiUrl: "${forge.url}", project: acme/app, tokenEnv: GANTRY_TEST_FORGE_TOKEN }`,
      ],
      config: [
        'notifications:',
        `  - { name: audit, kind: webhook, url: "${hook.url}/hook", secretEnv: GANTRY_TEST_HOOK_SECRET }`,
        `  - { name: chat, kind: slack, url: "${slack.url}/services/x", apps: [${app}] }`,
      ],
    });
  });
  afterAll(async () => {
    await closeWithInstances(f, app);
    await Promise.all([forge?.close(), hook?.close(), slack?.close()]);
  });

  it('reports to the forge, notifies, and leaves a note a fresh clone shows', async () => {
    const sha = await pushPageBuilt(f, app, '<h1>reported</h1>\n', 'Reported revision (#7)');
    // Receivers failing and hanging all along: the rollout goes on regardless.
    const rec = await finishedRollout(f, app, sha);
    expect(rec.outcome, rec.reason).toBe('succeeded');

    const link = `${f.controller.url}/#/rollouts/${rec.id}`;
    await waitFor('the final commit status', async () =>
      forge.calls.some(
        (c) => (c.json as { state?: string }).state === 'success' && c.path.includes('/statuses/'),
      )
        ? true
        : undefined,
    );
    const statuses = forge.calls.filter((c) => c.path === `/repos/acme/app/statuses/${sha}`);
    expect(statuses.map((c) => (c.json as { state: string }).state)).toEqual([
      'pending',
      'success',
    ]);
    for (const c of statuses) {
      expect(shapeErrors('githubStatus', c.json)).toEqual([]);
      expect(c.json).toMatchObject({ context: 'gantry/production', target_url: link });
      expect(c.headers.authorization).toBe('Bearer e2e-forge-token');
    }
    const deployment = forge.calls.find((c) => c.path === '/repos/acme/app/deployments');
    expect(deployment?.json).toMatchObject({ ref: sha, environment: 'production' });
    await waitFor('the deployment success', async () =>
      forge.calls.filter((c) => c.path === '/repos/acme/app/deployments/555/statuses').length === 2
        ? true
        : undefined,
    );
    const success = forge.calls.filter(
      (c) => c.path === '/repos/acme/app/deployments/555/statuses',
    )[1];
    expect(shapeErrors('githubDeploymentStatus', success?.json)).toEqual([]);
    const env = await f.controller.rollouts.env(app, 'production');
    expect(success?.json).toMatchObject({
      state: 'success',
      log_url: link,
      environment_url: env.route?.url,
    });

    // The broken receiver was tried (and its deliveries were signed); the hanging one was called.
    await waitFor('webhook attempts', async () => (hook.calls.length >= 2 ? true : undefined));
    const first = hook.calls[0]!;
    expect(
      verifyWebhookSignature(
        secret,
        {
          signature: first.headers[SIGNATURE_HEADER.toLowerCase()] as string,
          timestamp: first.headers[TIMESTAMP_HEADER.toLowerCase()] as string,
        },
        first.raw,
        Math.floor(Date.now() / 1000),
      ),
    ).toBe(true);
    expect(slack.calls.length).toBeGreaterThanOrEqual(1);

    // A fresh clone of the repo, as anyone would make it, shows the deployment in its log.
    const clone = path.join(path.dirname(f.wt.dir), uniqueName('fresh'));
    const log = await waitFor(
      'the note on the origin',
      async () => {
        await git(['clone', '--quiet', f.repoUrl, clone]).catch(() => undefined);
        const fetched = await git([
          '-C',
          clone,
          'fetch',
          '--quiet',
          'origin',
          `${NOTES_REF}:${NOTES_REF}`,
        ])
          .then(() => true)
          .catch(() => false);
        if (!fetched) return undefined;
        return git(['-C', clone, 'log', '--notes=gantry', '-1', '--format=%H%n%N', sha]);
      },
      60_000,
    );
    expect(log).toMatch(
      new RegExp(
        `^${sha}\\nproduction: succeeded \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ rollout ${rec.id} \\(deploy by (\\S+ \\()?webhook github\\)+ image sha256:[0-9a-f]{12}`,
      ),
    );
  });
});
