/**
 * Headless Chromium for the dashboard tests (Debian's, driven by playwright-core): one launch,
 * and pages that record script errors and sign in as a person would.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.GANTRY_CHROMIUM ?? '/usr/bin/chromium';

/** Chromium without a sandbox (containers), a GPU, or its own background traffic. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * A page in a fresh context (its own sessionStorage) whose script errors and CSP refusals go to
 * `problems`: the UI must run under its own policy. Expected refusals (401/403/404) are not problems.
 */
export async function watchedPage(
  browser: Browser,
  problems: string[],
  viewport = { width: 1280, height: 900 },
): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({ viewport });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // ERR_NETWORK_CHANGED: another test made or removed a network namespace's veth, and Chromium
    // drops the loads in flight; the page's own polling loads again. Not the dashboard's doing.
    if (m.type() === 'error' && !/status of (401|403|404)|ERR_NETWORK_CHANGED/.test(m.text()))
      problems.push(`console: ${m.text()}`);
  });
  return { ctx, page };
}

/**
 * Opens the dashboard at `url` until it shows the login route: a first load cut short (a host
 * network change, see watchedPage) is loaded again, as a person would.
 */
export async function openLogin(page: Page, url: string): Promise<void> {
  // A navigation cut short throws; the check below says whether the page got there.
  const open = () => page.goto(`${url}/`).catch(() => undefined);
  await open();
  for (let attempt = 1; !/#\/login$/.test(page.url()); attempt++) {
    const shown = await page.waitForURL(/#\/login$/, { timeout: 10_000 }).then(
      () => true,
      () => false,
    );
    if (shown) return;
    if (attempt >= 3) throw new Error(`the dashboard never showed its login: at ${page.url()}`);
    await open();
  }
}

/** Opens the dashboard at `url` and signs in with `token` ({@link submitToken}). */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/`);
  // Once seen under a fully loaded suite: the first load never rendered the form. A reload is
  // what a person would do; a second miss still fails the test.
  const form = page.getByLabel('API token');
  if (
    !(await form.waitFor({ timeout: 20_000 }).then(
      () => true,
      () => false,
    ))
  ) {
    await page.reload();
  }
  await submitToken(page, token);
}

/** Fills the login form the page shows with `token` and waits for the apps list. */
export async function submitToken(page: Page, token: string): Promise<void> {
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Apps' }).waitFor();
}
