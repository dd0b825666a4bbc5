/**
 * The process panel of the app page in a real headless Chromium against a real controller
 * (Docker, Caddy, Redis): the counts of each process type, the scale form (a viewer is refused
 * and nothing changes; a deployer's scale is a release followed to its outcome) and the rolling
 * restart, which the history then shows as a restart.
 */
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appName,
  closeWithInstances,
  finishedRollout,
  pushBuilt,
  ROOT,
  startAppFixture,
  waitFor,
  type Fixture,
} from '../support/controller-fixture.js';
import { launchChromium, signIn, watchedPage } from '../support/browser.js';

describe('process panel in headless Chromium', () => {
  let f: Fixture;
  let browser: Browser;
  const app = appName('uiscale');
  const problems: string[] = [];

  /**
   * Script errors and failed loads, but for one the test causes itself: each container started
   * adds a network interface to the host, Chromium aborts the requests in flight at that moment
   * (ERR_NETWORK_CHANGED), and the page's next refresh makes them again.
   */
  const realProblems = () => problems.filter((m) => !m.includes('net::ERR_NETWORK_CHANGED'));
  const webRow = (p: Page) => p.locator('[data-processes="production"] tr[data-process="web"]');
  async function outcomeShown(p: Page, outcome: string): Promise<void> {
    await expect
      .poll(() => p.locator('#phase').getAttribute('data-outcome', { timeout: 1000 }), {
        timeout: 150_000,
      })
      .toBe(outcome);
  }
  async function openApp(p: Page): Promise<void> {
    await p.goto(`${f.controller.url}/#/apps/${app}`);
    await webRow(p).waitFor();
  }

  beforeAll(async () => {
    f = await startAppFixture(app, { replicas: 2 });
    const sha = await pushBuilt(f, app, 'first');
    expect((await finishedRollout(f, app, sha)).outcome).toBe('succeeded');
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await closeWithInstances(f, app);
  });

  it("shows web's counts and refuses a viewer's scale, changing nothing", async () => {
    const { ctx, page: p } = await watchedPage(browser, problems);
    await signIn(p, f.controller.url, f.token);
    await openApp(p);
    await expect.poll(() => webRow(p).getAttribute('data-ready'), { timeout: 60_000 }).toBe('2');
    expect(await webRow(p).getAttribute('data-desired')).toBe('2');
    expect(await webRow(p).textContent()).toMatch(/web.*2\/2/);

    await p.getByLabel('web instances in production').fill('3');
    await p.getByRole('button', { name: 'Scale', exact: true }).click();
    const alert = p.locator('[data-processes="production"] [role="alert"]');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(
      /Your token \(viewer\) cannot scale.*Nothing was changed/,
    );
    const releases = (await f.controller.rollouts.list(app, 'production')).length;
    expect(releases).toBe(1);
    await ctx.close();
    expect(realProblems()).toEqual([]);
  });

  it('scales web to 3 and restarts every process, each followed to its outcome', async () => {
    const { ctx, page: p } = await watchedPage(browser, problems);
    await signIn(p, f.controller.url, f.deployer.token!);
    await openApp(p);

    // Nothing changed: the form says so and sends nothing.
    await p.getByRole('button', { name: 'Scale', exact: true }).click();
    const alert = p.locator('[data-processes="production"] [role="alert"]');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/nothing differs/);

    await p.getByLabel('web instances in production').fill('3');
    await p.getByRole('button', { name: 'Scale', exact: true }).click();
    await expect.poll(() => p.url()).toMatch(/#\/rollouts\/r-/);
    await outcomeShown(p, 'succeeded');
    expect(await p.getByRole('heading', { level: 1 }).textContent()).toMatch(/^Scale of /);
    const [scaled] = await f.controller.rollouts.list(app, 'production');
    expect(scaled?.trigger).toEqual({ kind: 'manual', actor: 'ci', via: 'scale' });
    expect(scaled?.to.release).toBe(2);

    // The panel reads the new formation once the reconciler has seen it (a page shown before
    // that is refreshed by the next event, or here by a reload).
    await openApp(p);
    const counts = async () => {
      await p.reload();
      await webRow(p).waitFor();
      return [
        await webRow(p).getAttribute('data-desired'),
        await webRow(p).getAttribute('data-ready'),
      ];
    };
    await expect.poll(counts, { timeout: 60_000 }).toEqual(['3', '3']);
    expect(await webRow(p).textContent()).toMatch(/web.*3\/3/);
    // GANTRY_SCREENSHOTS=1 refreshes the README's picture of the panel.
    if (process.env.GANTRY_SCREENSHOTS === '1') {
      // The page re-renders on events: a clip of the page, not of an element that may be replaced.
      const card = p.locator('section.env[data-env="production"]');
      const clip = await waitFor(
        'the card laid out',
        async () => (await card.boundingBox()) ?? undefined,
      );
      await p.screenshot({ path: path.join(ROOT, 'docs', 'screenshots', 'processes.png'), clip });
    }

    await p.getByRole('button', { name: 'Restart production' }).click();
    const dialog = p.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toMatch(/Replace every instance of production/);
    await dialog.getByLabel('Which processes').selectOption('web');
    await dialog.getByRole('button', { name: 'Restart production' }).click();
    await expect.poll(() => p.url()).toMatch(/#\/rollouts\/r-/);
    await outcomeShown(p, 'succeeded');
    expect(await p.getByRole('heading', { level: 1 }).textContent()).toMatch(/^Restart of /);

    await openApp(p);
    const row = p.locator('table.history tr').nth(1);
    expect(await row.getAttribute('data-kind')).toBe('restart');
    expect(await row.textContent()).toMatch(/restart by ci/);
    expect(await p.locator('table.history tr[data-kind="scale"]').count()).toBe(1);
    await ctx.close();
    expect(realProblems()).toEqual([]);
  }, 420_000);
});
