/**
 * The dashboard's view of the reconciler, in headless Chromium against a real controller: an
 * EnvStatus and a timeline written into Redis through RolloutStore (as the reconciler writes
 * them) show as badges, an instances table with verdicts, the timeline, and for an orphaned
 * environment a notice whose Prune button (after its confirmation) really removes the instances.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healEventText, type HealEvent } from '../../src/reconcile/events.js';
import {
  appName,
  closeWithInstances,
  pushPageDeployed,
  startExampleFixture,
  type Fixture,
} from '../support/controller-fixture.js';
import { launchChromium, signIn, watchedPage } from '../support/browser.js';

const ENV = 'production';
const run = promisify(execFile);

describe('dashboard: environment status, timeline and prune', () => {
  let f: Fixture;
  let browser: Browser;
  const problems: string[] = [];
  const app = appName('uistat');

  async function signedIn(token: string): Promise<Page> {
    const { page } = await watchedPage(browser, problems);
    await signIn(page, f.controller.url, token);
    return page;
  }

  beforeAll(async () => {
    f = await startExampleFixture(app);
    // The statuses here are the test's: the controller's reconciler is kept off this environment,
    // as when another controller owns it (its ownership lease is taken before the first deploy).
    const { redis, keys } = f.controller.store;
    await redis.set(keys.reconcileOwner(app, ENV), 'test', 'PX', 600_000);
    browser = await launchChromium();
    await pushPageDeployed(f, app, '<h1>ui status</h1>\n', 'First');
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await closeWithInstances(f, app);
  });

  it('shows badges, verdicts and the timeline; Prune removes an orphaned environment', async () => {
    const rollouts = f.controller.rollouts;
    const running = await f.controller.runtime!.list({ app, env: ENV });
    const state = await rollouts.env(app, ENV);
    const victim = running[2]!;
    await rollouts.putStatus({
      app,
      env: ENV,
      sync: { status: 'out-of-sync', reasons: [{ reason: 'orphaned', detail: 'left the config' }] },
      health: { status: 'degraded', detail: '2/3 healthy' },
      desired: null,
      instances: running.map((i) => ({
        slot: i.slot,
        id: i.id,
        host: i.host,
        revision: i.revision,
        state: i === victim ? 'exited' : 'running',
        verdict: i === victim ? 'unhealthy' : 'healthy',
        routed: i !== victim,
        ...(i === victim ? { detail: 'exited 137' } : {}),
      })),
      route: { id: state.route!.id, url: state.route!.url, upstreams: [] },
      selfHeal: true,
      orphaned: { why: `${ENV} is no longer in gantry.yaml` },
      observedAt: new Date().toISOString(),
    });
    const heal: HealEvent = {
      kind: 'replaced',
      at: Date.now(),
      slot: victim.slot,
      instanceId: victim.id,
      replacement: `${victim.slot}-b`,
      cause: 'exited',
      detail: 'exited 137',
    };
    await rollouts.appendEnvEvents(app, ENV, [
      { at: heal.at, kind: 'self-heal', text: healEventText(heal), data: heal },
    ]);

    const p = await signedIn(f.deployer.token!);
    // Overview: health and sync badges per environment.
    const row = p.locator(`tr[data-app="${app}"][data-env="${ENV}"] .status-badges`);
    await expect.poll(() => row.getAttribute('data-health')).toBe('degraded');
    expect(await row.textContent()).toMatch(/degraded\s*out-of-sync\s*orphaned/);

    await p.goto(`${f.controller.url}/#/apps/${app}`);
    const card = p.locator(`section.env[data-env="${ENV}"]`);
    await card.locator('.status-badges').waitFor();
    expect(await card.locator('.status-badges').getAttribute('data-sync')).toBe('out-of-sync');
    expect(await card.locator('[data-health-detail]').textContent()).toBe('2/3 healthy');
    expect(await card.locator('[data-sync-reason="orphaned"]').textContent()).toBe(
      'orphaned: left the config',
    );
    const verdicts = await card
      .locator('table.instances tr[data-slot]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-verdict')));
    expect(verdicts.sort()).toEqual(['healthy', 'healthy', 'unhealthy']);
    expect(await card.locator(`tr[data-slot="${victim.slot}"]`).textContent()).toContain(
      'exited 137',
    );
    expect(await card.locator('ol.timeline li').first().textContent()).toContain(
      `self-heal: replaced ${victim.slot} with ${victim.slot}-b, exited 137`,
    );
    expect(await card.locator('.standing.orphaned').textContent()).toContain(
      'is no longer in gantry.yaml',
    );

    // Prune: a confirmation that says what goes, then the instances are really gone.
    await card.getByRole('button', { name: `Prune ${ENV} of ${app}` }).click();
    const dialog = p.getByRole('dialog');
    expect(await dialog.textContent()).toContain('3 instance(s)');
    await dialog.getByRole('button', { name: `Prune ${ENV}` }).click();
    await expect
      .poll(() => card.locator('ol.timeline li').first().textContent(), { timeout: 30_000 })
      .toContain('pruned by ci: 3 instance(s)');
    expect(await card.locator('.standing.orphaned').count()).toBe(0);
    const { stdout } = await run('docker', [
      'ps',
      '-aq',
      '--filter',
      `label=dev.gantry.app=${app}`,
    ]);
    expect(stdout.trim()).toBe('');
    expect(problems).toEqual([]);
  }, 120_000);
});
