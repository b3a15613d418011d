import { existsSync } from 'node:fs';
import { type Browser, chromium, type Locator, type Page, type Route } from 'playwright-core';

/**
 * Real headless Chromium for the console's tests and screenshots, driven by playwright-core:
 * CHROMIUM_PATH when set, else Debian's `chromium` when installed, else the Chromium that the
 * `@sparticuz/chromium` package carries inside the npm registry (unpacked to the temp folder on
 * first use, about 2 s). So `npm ci && npm test` needs no root and downloads no browser.
 */
const DEBIAN_CHROMIUM = '/usr/bin/chromium';

async function chromiumPath(): Promise<string> {
  if (process.env.CHROMIUM_PATH) {
    if (!existsSync(process.env.CHROMIUM_PATH))
      throw new Error(`CHROMIUM_PATH names no file: ${process.env.CHROMIUM_PATH}`);
    return process.env.CHROMIUM_PATH;
  }
  if (existsSync(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  const { default: packaged } = await import('@sparticuz/chromium');
  return packaged.executablePath();
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: await chromiumPath(),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
    ],
  });
}

/** Generous bounds: a loaded 2-core machine is slow, but a wait always ends. */
export const WAIT_MS = 60_000;

/**
 * Retries `check` (an assertion or a read that throws until ready) until it passes, at most
 * `timeoutMs`; throws its last error otherwise. A bounded wait, never a timing assertion.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T>,
  timeoutMs = WAIT_MS,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`Gave up waiting for ${what}: ${last instanceof Error ? last.message : String(last)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The card of a page: the list item named by the page's heading. */
export const card = (page: Page, pageName: string): Locator =>
  page.getByRole('listitem', { name: pageName, exact: true });

/** The card's main action (Sync / Stop Sync / Stopping... / Starting...), one button throughout. */
export const primaryButton = (page: Page, pageName: string): Locator =>
  card(page, pageName).locator('button[data-action="primary"]');

/** The visible label of a card's main action. */
export const primaryLabel = (page: Page, pageName: string): Promise<string> =>
  text(primaryButton(page, pageName).locator('[data-label]'));

/** A locator's text ('' when it has none), read within a second so that `eventually` can retry. */
export const text = async (locator: Locator): Promise<string> =>
  (await locator.textContent({ timeout: 1000 })) ?? '';

/** The accessible name of the focused element, and whether it is a card's main action. */
export async function focused(page: Page): Promise<{ action: string | null; text: string }> {
  return (await page.evaluate(
    '({ action: document.activeElement?.getAttribute("data-action") ?? null, text: document.activeElement?.textContent ?? "" })',
  )) as { action: string | null; text: string };
}

/** "Synced N contacts..." on the card, as a number; throws while the card shows no such line. */
export async function syncedShown(page: Page, pageName: string): Promise<number> {
  const shown = await text(card(page, pageName));
  const match = /Synced ([\d,]+) contacts\.\.\./.exec(shown);
  if (!match?.[1]) throw new Error(`no "Synced N contacts..." on the card: ${JSON.stringify(shown)}`);
  return Number(match[1].replace(/,/g, ''));
}

/**
 * Holds the page's next request to `urlPart` until `release()` is called: a way to look at the UI
 * while a request is in flight (the "Stopping..." state) without depending on timing.
 */
export async function holdNextRequest(page: Page, urlPart: string) {
  let held: (route: Route) => void = () => {};
  const arrived = new Promise<Route>((resolve) => {
    held = resolve;
  });
  const pattern = `**${urlPart}`;
  await page.route(pattern, (route) => held(route), { times: 1 });
  return {
    arrived,
    async release() {
      const route = await arrived;
      await route.continue();
      await page.unroute(pattern);
    },
  };
}
