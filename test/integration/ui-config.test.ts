/**
 * The config page in a real headless Chromium against a real controller (Docker, Caddy, Redis):
 * a deployer sets a var through the form and follows the new release rolling out, sets a secret,
 * and rolls back to an earlier release from the app page. No secret value — neither one set
 * through the API nor one typed into the form — ever appears in the page's text or in any
 * response the page received.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../src/cli/client.js';
import {
  appName,
  finishedRollout,
  pushBuilt,
  rolloutEnded,
  startAppFixture,
  type Fixture,
} from '../support/controller-fixture.js';
import { launchChromium, signIn, watchedPage } from '../support/browser.js';

const SECRET = 'postgres://app:ui-s3cr3t-Hq27@db.internal/app';
const TYPED = 'typed-in-the-form-Xv90';

describe('config page in headless Chromium', () => {
  let f: Fixture;
  let browser: Browser;
  const app = appName('uicfg');
  const problems: string[] = [];
  /** Every response body the page received (the event stream excepted: it never ends). */
  const received: string[] = [];

  const finished = (id: string) => rolloutEnded(f, id);

  async function outcomeShown(p: Page, outcome: string): Promise<void> {
    await expect
      .poll(() => p.locator('#phase').getAttribute('data-outcome', { timeout: 1000 }), {
        timeout: 150_000,
      })
      .toBe(outcome);
  }

  /** The page's text and every answer it got hold neither secret value. */
  async function noSecretsShown(p: Page): Promise<void> {
    const text = await p.evaluate(
      () => document.documentElement.outerHTML + document.body.innerText,
    );
    // The capture works: the config answers are in it, names and all.
    await expect.poll(() => received.join('\n')).toContain('"DATABASE_URL":{"set":true');
    for (const s of [SECRET, TYPED]) {
      expect(text).not.toContain(s);
      for (const body of received) expect(body).not.toContain(s);
    }
  }

  beforeAll(async () => {
    f = await startAppFixture(app);
    const sha = await pushBuilt(f, app, 'first');
    expect((await finishedRollout(f, app, sha)).outcome).toBe('succeeded');
    // A secret set through the API (release v2): the page must never see its value.
    const res = await api<{ rolloutId: string }>(f.admin, `/api/apps/${app}/config`, {
      method: 'PATCH',
      body: JSON.stringify({ secrets: { DATABASE_URL: SECRET } }),
    });
    expect((await finished(res.rolloutId)).outcome).toBe('succeeded');
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    const rt = f?.controller.runtime;
    await f?.close();
    if (rt) for (const i of await rt.list({ app })) await rt.remove(i);
  });

  it('sets a var, follows its release, rolls back to a release, and never shows a secret value', async () => {
    const { ctx, page: p } = await watchedPage(browser, problems);
    p.on('response', (r) => {
      if (new URL(r.url()).pathname === '/api/events') return;
      received.push(`${r.url()}\n`);
      void r.text().then(
        (t) => received.push(t),
        () => undefined,
      );
    });
    await signIn(p, f.controller.url, f.deployer.token!);

    // From the app page to the environment's config.
    await p.goto(`${f.controller.url}/#/apps/${app}`);
    await p.getByRole('link', { name: 'Config and secrets' }).click();
    await p.getByRole('heading', { name: `${app} · production · config` }).waitFor();
    const secretRow = p.locator('tr[data-key="DATABASE_URL"]');
    expect(await secretRow.getAttribute('data-kind')).toBe('secret');
    expect(await secretRow.textContent()).toMatch(/secret set \(value hidden\)changed by root/);
    await noSecretsShown(p);

    // Set a var: the page names the new release rolling out and links to its rollout.
    await p.getByLabel('Key').fill('LOG_LEVEL');
    await p.getByLabel('Value').fill('debug');
    await p.getByRole('button', { name: 'Set', exact: true }).click();
    const result = p.locator('#config-result [data-release]');
    await result.waitFor();
    expect(await result.getAttribute('data-release')).toBe('3');
    expect(await result.textContent()).toMatch(
      /Release v3 is rolling out \(v3: set LOG_LEVEL by ci\)/,
    );
    expect(await p.locator('tr[data-key="LOG_LEVEL"]').textContent()).toMatch(/debug/);
    await result.getByRole('link', { name: /Watch rollout r-/ }).click();
    await outcomeShown(p, 'succeeded');

    // A secret typed into the form: sent once, never shown back.
    await p.goto(`${f.controller.url}/#/apps/${app}/config/production`);
    await p.getByLabel('Key').fill('API_TOKEN');
    await p.getByLabel('Value').fill(TYPED);
    await p.getByLabel(/^Secret/).check();
    expect(await p.getByLabel('Value').getAttribute('type')).toBe('password');
    await p.getByRole('button', { name: 'Set', exact: true }).click();
    await p.locator('#config-result [data-release="4"]').waitFor();
    expect(await p.locator('tr[data-key="API_TOKEN"]').getAttribute('data-kind')).toBe('secret');
    expect(await p.getByLabel('Value').inputValue()).toBe('');
    const v4 = await p.locator('#config-result [data-release]').getAttribute('data-rollout');
    expect((await finished(v4!)).outcome).toBe('succeeded');
    await noSecretsShown(p);

    // The app page lists the releases; roll back to v3 (LOG_LEVEL, no API_TOKEN) from it.
    await p.goto(`${f.controller.url}/#/apps/${app}`);
    const releases = p.locator('table.releases');
    await releases.waitFor();
    const row = (v: number) => releases.locator(`tr[data-release="${v}"]`);
    await expect.poll(() => row(4).textContent()).toMatch(/running now/);
    expect(await row(4).textContent()).toMatch(/set API_TOKEN \(secret\)ci/);
    expect(await row(3).textContent()).toMatch(/set LOG_LEVEL/);
    expect(await row(4).getByRole('button', { name: 'Roll back to this' }).count()).toBe(0);
    await row(3).getByRole('button', { name: 'Roll back to this' }).click();
    const dialog = p.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toMatch(/back to release v3/);
    await dialog.getByRole('button', { name: 'Roll back production to v3' }).click();
    await expect.poll(() => p.url()).toMatch(/#\/rollouts\/r-/);
    await outcomeShown(p, 'succeeded');
    const state = await f.controller.rollouts.env(app, 'production');
    expect(state.current?.release).toBe(5);
    const [instance] = (await f.controller.runtime!.list({ app })).filter(
      (i) => i.state === 'running',
    );
    const env = await f.controller.runtime!.exec(
      instance!,
      ['sh', '-c', 'echo "$LOG_LEVEL|$API_TOKEN"'],
      10_000,
    );
    expect(env.output.trim()).toBe('debug|');
    await p.goto(`${f.controller.url}/#/apps/${app}`);
    await releases.waitFor();
    expect(await row(5).textContent()).toMatch(
      /rollback to v3ci.*running now|running now.*rollback to v3/,
    );
    await noSecretsShown(p);
    await ctx.close();
    expect(problems).toEqual([]);
  }, 420_000);
});
