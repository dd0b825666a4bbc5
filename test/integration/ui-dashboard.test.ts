/**
 * The web dashboard end to end in a real headless Chromium (Debian's, driven by playwright-core)
 * against a real controller: Docker instances behind Caddy, Redis, a registry and git over HTTP.
 * It logs in with a token, watches a broken revision roll back by itself (with its evidence),
 * rolls back to an earlier revision with one click, and sees the history record it.
 *
 * Screenshots of the main pages go to `.gantry/test/<run>/screenshots/`, or to docs/screenshots/
 * with GANTRY_SCREENSHOTS=1 (how the README's pictures are made).
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../src/cli/client.js';
import type { EnvState, RolloutRecord } from '../../src/store/records.js';
import { testEnv } from '../support/env.js';
import {
  ROOT,
  appName,
  closeWithInstances,
  pushPageDeployed,
  startExampleFixture,
  type Fixture,
} from '../support/controller-fixture.js';
import { launchChromium, openLogin, submitToken, watchedPage } from '../support/browser.js';

const SHOTS = process.env.GANTRY_SCREENSHOTS === '1';

function page(version: string): string {
  return `<!doctype html>\n<title>hello</title>\n<h1>hello from gantry, version ${version}</h1>\n`;
}

describe('web dashboard in headless Chromium', () => {
  let f: Fixture;
  let browser: Browser;
  let shots: string;
  const problems: string[] = [];
  // A name of its own: instances are found by app and env labels on the shared Docker engine.
  const app = appName('hello');
  const shas: Record<'v1' | 'v2' | 'v3', string> = { v1: '', v2: '', v3: '' };

  const envState = async (): Promise<EnvState> => {
    const res = await api<{ environments: EnvState[] }>(
      f.client,
      `/api/apps/${app}/rollouts?env=production`,
    );
    return res.environments[0]!;
  };
  const rolloutsOf = () => f.controller.rollouts.list(app, 'production');

  /** A fresh browser context (its own sessionStorage), signed in with `token`. */
  async function signedIn(token: string): Promise<{ ctx: BrowserContext; page: Page }> {
    const opened = await watchedPage(browser, problems, { width: 1280, height: 800 });
    await openLogin(opened.page, f.controller.url);
    await submitToken(opened.page, token);
    return opened;
  }

  /** Waits for the page's `#phase` to show `outcome`; on timeout, says what the page showed. */
  async function outcomeShown(p: Page, outcome: string): Promise<void> {
    try {
      await expect
        .poll(() => p.locator('#phase').getAttribute('data-outcome', { timeout: 1000 }), {
          timeout: 150_000,
        })
        .toBe(outcome);
    } catch (e) {
      const shown = await p
        .locator('main')
        .innerText()
        .catch(() => '(no page)');
      throw new Error(`${String(e)}\n--- the page showed:\n${shown.slice(0, 3000)}`, { cause: e });
    }
  }

  const shot = (p: Page, name: string, fullPage = false) =>
    p.screenshot({ path: path.join(shots, `${name}.png`), fullPage });

  beforeAll(async () => {
    shots = SHOTS
      ? path.join(ROOT, 'docs', 'screenshots')
      : path.join(testEnv().runDir, 'screenshots');
    await mkdir(shots, { recursive: true });
    f = await startExampleFixture(app);
    browser = await launchChromium();

    // Two good revisions, each rolled out: the history the dashboard starts from.
    shas.v1 = await pushPageDeployed(f, app, page('1'), 'Add the hello app (#1)');
    shas.v2 = await pushPageDeployed(f, app, page('2'), 'Version 2: a friendlier greeting (#2)');
  }, 420_000);

  afterAll(async () => {
    await browser?.close();
    await closeWithInstances(f, app);
    if (!SHOTS) await rm(shots, { recursive: true, force: true }).catch(() => undefined);
  });

  it('serves the dashboard at / with a strict Content-Security-Policy', async () => {
    const res = await fetch(`${f.controller.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/ui/app.js"></script>');
    // No inline script: every <script> has a src.
    expect(html.match(/<script(?![^>]*\bsrc=)[^>]*>/g)).toBeNull();
    const js = await fetch(`${f.controller.url}/ui/app.js`);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(js.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await fetch(`${f.controller.url}/ui/nothing-here.js`)).status).toBe(404);
  });

  it('rejects a bad token and returns to the login', async () => {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await p.goto(`${f.controller.url}/#/apps/${app}`);
    await p.getByLabel('API token').fill('not-a-token');
    await p.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => p.getByRole('alert').textContent()).toMatch(/not valid/);
    await ctx.close();
  });

  it('shows the good rollouts, a broken one rolling back live with its evidence, and a one-click rollback', async () => {
    const { ctx, page: p } = await signedIn(f.deployer.token!);

    // Overview: the app, the running revision (v2), healthy, last rollout succeeded.
    const row = p.locator(`tr[data-app="${app}"][data-env="production"]`);
    await expect.poll(() => row.textContent()).toContain(shas.v2.slice(0, 12));
    await expect.poll(() => row.textContent()).toMatch(/healthy 3\/3/);
    expect(await row.textContent()).toMatch(/succeeded/);
    await shot(p, 'overview');

    // A broken revision: its health check path is gone. Watch it from the app page, live.
    await p.getByRole('link', { name: app, exact: true }).first().click();
    await p.getByRole('heading', { name: app, exact: true }).waitFor();
    await rm(path.join(f.wt.dir, 'www', 'healthz'));
    await f.wt.write('www/index.html', page('3 (broken)'));
    shas.v3 = await f.push('github', 'Version 3: move the health check (#3)');
    // The app page follows events: the running rollout's link appears without a reload.
    const watch = p.getByRole('link', { name: `watch ${shas.v3.slice(0, 12)} live` });
    await watch.waitFor({ timeout: 120_000 });
    // Through the event stream (Server-Sent Events), not the polling fallback.
    expect(await p.locator('#live').textContent()).toBe('live');
    await watch.click();
    await p.locator('#phase').waitFor();
    // Seen while still going, then ending on its own: the page updated itself.
    const seenActive = await p.locator('#phase').getAttribute('data-outcome');
    expect(seenActive).toBe('');
    await outcomeShown(p, 'failed');
    expect(await p.locator('#phase').textContent()).toMatch(/rolled back/);
    const evidence = p.locator('section.evidence');
    await expect.poll(() => evidence.textContent()).toMatch(/unhealthy/);
    expect(await evidence.textContent()).toMatch(/404/);
    expect(await evidence.locator('pre.log').textContent()).toMatch(/response:404/);
    expect(await p.locator('ol.steps').textContent()).toMatch(/outcome/);
    const ships = p.locator('section[aria-labelledby="ships"]');
    expect(await ships.textContent()).toMatch(/What it ships.*Version 3: move the health check/s);
    expect(await ships.textContent()).not.toContain('Version 2');
    await p.locator('section.evidence').scrollIntoViewIfNeeded();
    await shot(p, 'rollout-failed');
    expect((await envState()).current?.sha).toBe(shas.v2);

    // App page: v1 and v2 succeeded (v2 running), v3 rolled back with its reason.
    await p.getByRole('link', { name: app, exact: true }).first().click();
    const history = p.locator('table.history');
    await history.waitFor();
    const entry = (sha: string, kind = 'deploy') =>
      history.locator(`tr[data-sha="${sha}"][data-kind="${kind}"]`).first();
    expect(await entry(shas.v1).getAttribute('data-outcome')).toBe('succeeded');
    expect(await entry(shas.v2).getAttribute('data-outcome')).toBe('succeeded');
    expect(await entry(shas.v2).textContent()).toMatch(/running/);
    expect(await entry(shas.v3).getAttribute('data-outcome')).toBe('failed');
    expect(await entry(shas.v3).textContent()).toMatch(/rolled back/);
    expect(await entry(shas.v3).textContent()).toContain('Version 3: move the health check');
    // Only earlier healthy revisions offer a rollback; the failed one offers a retry.
    expect(await entry(shas.v1).getByRole('button', { name: 'Roll back to this' }).count()).toBe(1);
    expect(await entry(shas.v2).getByRole('button', { name: 'Roll back to this' }).count()).toBe(0);
    expect(await entry(shas.v3).getByRole('button', { name: 'Retry' }).count()).toBe(1);
    await shot(p, 'app', true);

    // One click back to v1: the confirmation says what happens and what it takes out.
    const before = (await rolloutsOf()).length;
    await entry(shas.v1).getByRole('button', { name: 'Roll back to this' }).click();
    const dialog = p.getByRole('dialog');
    await dialog.waitFor();
    const said = (await dialog.textContent()) ?? '';
    expect(said).toContain(
      `Roll production of ${app} back from ${shas.v2.slice(0, 12)} to ${shas.v1.slice(0, 12)}`,
    );
    expect(said).toContain('This takes out of production');
    expect(said).toContain('Version 2: a friendlier greeting');
    expect(said).toContain('#2');
    expect(said).not.toContain('Version 3');
    expect(said).toMatch(/No rebuild: the recorded image sha256:[0-9a-f]{64}/);
    await shot(p, 'rollback-confirm');
    expect((await rolloutsOf()).length).toBe(before); // nothing happens before confirming

    await dialog
      .getByRole('button', { name: `Roll back production to ${shas.v1.slice(0, 12)}` })
      .click();
    await expect.poll(() => p.url()).toMatch(/#\/rollouts\/r-/);
    const rollbackId = decodeURIComponent(p.url().split('#/rollouts/')[1]!);
    await outcomeShown(p, 'succeeded');
    expect(await p.locator('dl.summary').textContent()).toMatch(/rollback by ci/);
    const takesOut = p.locator('section[aria-labelledby="ships"]');
    expect(await takesOut.textContent()).toMatch(/What it takes out of production.*Version 2/s);
    const rec = (await rolloutsOf()).find((r) => r.id === rollbackId) as RolloutRecord;
    expect(rec.kind).toBe('rollback');
    expect(rec.to.sha).toBe(shas.v1);
    expect(rec.trigger).toMatchObject({ kind: 'manual', actor: 'ci' });

    // History shows the rollback, who asked for it, and the environment pinned to v1.
    await p.getByRole('link', { name: app, exact: true }).first().click();
    await history.waitFor();
    const back = history.locator(`tr[data-rollout="${rollbackId}"]`);
    expect(await back.textContent()).toMatch(/rollback by ci/);
    expect(await back.textContent()).toMatch(/running/);
    const pinned = p.locator('.standing.pinned');
    await expect.poll(() => pinned.getAttribute('data-pinned')).toBe(shas.v1);
    expect(await pinned.textContent()).toMatch(/Pinned by ci/);
    expect((await envState()).current?.sha).toBe(shas.v1);
    await shot(p, 'app-pinned');
    await ctx.close();
    expect(problems).toEqual([]);
  }, 420_000);

  it("refuses a viewer's rollback with a 403 that changes nothing", async () => {
    const { ctx, page: p } = await signedIn(f.client.token!);
    await p.goto(`${f.controller.url}/#/apps/${app}`);
    const history = p.locator('table.history');
    await history.waitFor();
    const env = await envState();
    const before = (await rolloutsOf()).length;
    const target = history
      .locator('tr')
      .filter({ has: p.getByRole('button', { name: 'Roll back to this' }) })
      .first();
    const sha = await target.getAttribute('data-sha');
    expect(sha).not.toBe(env.current?.sha);
    await target.getByRole('button', { name: 'Roll back to this' }).click();
    const dialog = p.getByRole('dialog');
    await dialog.getByRole('button', { name: /^Roll back production to / }).click();
    await expect
      .poll(() => dialog.getByRole('alert').textContent())
      .toMatch(/Your token \(viewer\) cannot roll back: .*Nothing was changed/);
    await dialog.getByRole('button', { name: 'Close' }).click();
    expect((await rolloutsOf()).length).toBe(before);
    expect((await envState()).current?.sha).toBe(env.current?.sha);
    await ctx.close();
    expect(problems).toEqual([]);
  });
  it('locks and unlocks an environment, redeploys a revision and retries a failed rollout', async () => {
    const { ctx, page: p } = await signedIn(f.deployer.token!);
    await p.goto(`${f.controller.url}/#/apps/${app}`);
    const card = p.locator('section.env[data-env="production"]');
    await card.waitFor();

    // Deploy freeze, with a reason everyone sees; then lifted.
    await card.getByRole('button', { name: 'Lock production' }).click();
    const lock = p.getByRole('dialog');
    await lock.getByLabel('Reason (shown to everyone)').fill('release freeze');
    await lock.getByRole('button', { name: 'Lock production' }).click();
    await expect
      .poll(() => card.locator('.standing.locked').textContent())
      .toMatch(/release freeze/);
    expect(await card.locator('.standing.locked').textContent()).toMatch(/locked by ci/);
    expect((await envState()).lock).toMatchObject({ reason: 'release freeze', by: 'ci' });
    await card.getByRole('button', { name: 'Unlock production' }).click();
    await p.getByRole('dialog').getByRole('button', { name: 'Unlock production' }).click();
    await expect.poll(() => card.locator('.standing.locked').count()).toBe(0);
    expect((await envState()).lock).toBeNull();

    // Redeploy v2 (no rebuild) from its history entry.
    const history = p.locator('table.history');
    const v2 = history.locator(`tr[data-sha="${shas.v2}"][data-kind="deploy"]`).first();
    await v2.getByRole('button', { name: /^Redeploy/ }).click();
    await p
      .getByRole('dialog')
      .getByRole('button', { name: `Redeploy ${shas.v2.slice(0, 12)}` })
      .click();
    await expect.poll(() => p.url()).toMatch(/#\/rollouts\/r-/);
    await outcomeShown(p, 'succeeded');
    expect(await p.locator('dl.summary').textContent()).toMatch(/deploy by ci/);
    expect((await envState()).current?.sha).toBe(shas.v2);

    // Retry the failed v3 from its rollout page: it fails the same way and is rolled back again.
    const failed = (await rolloutsOf()).find(
      (r) => r.to.sha === shas.v3 && r.outcome === 'failed',
    )!;
    await p.goto(`${f.controller.url}/#/rollouts/${failed.id}`);
    await p.locator('#phase').waitFor();
    await p.getByRole('button', { name: 'Retry' }).click();
    await p.getByRole('dialog').getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => p.url()).not.toContain(failed.id);
    await outcomeShown(p, 'failed');
    expect(await p.locator('dl.summary').textContent()).toMatch(/retry by ci/);
    expect((await envState()).current?.sha).toBe(shas.v2);

    // Unpin: automation takes over again; v2 is the newest revision that has not failed here.
    await p.goto(`${f.controller.url}/#/apps/${app}`);
    await card.getByRole('button', { name: 'Unpin production' }).click();
    await p.getByRole('dialog').getByRole('button', { name: 'Unpin production' }).click();
    await expect.poll(() => card.locator('.standing.pinned').count()).toBe(0);
    expect((await envState()).pin).toBeNull();

    // A revision's build log, one click from its history entry.
    await history
      .locator(`tr[data-sha="${shas.v1}"]`)
      .first()
      .getByRole('link', { name: 'build log' })
      .click();
    await expect.poll(() => p.locator('pre.log').textContent()).toMatch(/pushing|digest/i);
    expect(await p.locator('main h1').textContent()).toMatch(/^Build of \w{12} succeeded$/);
    await ctx.close();
    expect(problems).toEqual([]);
  }, 300_000);
});
