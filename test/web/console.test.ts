import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelSyncResponse,
  PagesResponse,
  PauseSyncResponse,
  StartSyncResponse,
  SyncStatusResponse,
} from '#shared/contract.ts';
import { e2eStack } from '#test/e2e/e2e-stack.ts';
import { PATHS, query, simPages } from '#test/e2e/http-client.ts';
import {
  card,
  eventually,
  focused,
  holdNextRequest,
  launchChromium,
  primaryButton,
  primaryLabel,
  syncedShown,
  text,
  WAIT_MS,
} from './browser.ts';

/**
 * The web console in real headless Chromium against the embedded stack, which serves it at `/`
 * with its dev-token config.json, as `npm start` does. Each test works on its own simulated page.
 * Every wait is bounded (see `eventually`); nothing asserts a duration.
 *
 * Chunks of 25 at 2 Graph calls/s per Page, 2 chunks at once and 1 s of analysis per
 * conversation: a 400-conversation page is read to its end in about 8 s (its progress is exact
 * from then on) and takes about 20 s to sync, so a stop always lands mid-way.
 */
const CONTEXT = { chunkSize: 25, mapConcurrency: 2 };
const ANALYZER_LATENCY_MS = '1000';

const simPage = simPages('9500000000', 'Console');
const P = {
  stop: simPage('stop page', 300, 100),
  tabs: simPage('tabs page', 300, 100),
  late: simPage('late stop page', 60, 20),
  failing: simPage('failing page', 200, 0),
  pause: simPage('pause page', 300, 100),
};

const e2e = e2eStack({
  pages: Object.values(P),
  context: CONTEXT,
  analyzerLatencyMs: ANALYZER_LATENCY_MS,
  user: 'console-tester',
  console: true,
});
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
});

const contexts: BrowserContext[] = [];
async function openConsole(context?: BrowserContext): Promise<Page> {
  const ctx = context ?? (await browser.newContext({ viewport: { width: 1000, height: 800 } }));
  if (!context) contexts.push(ctx);
  const tab = await ctx.newPage();
  await tab.goto(`${e2e.stack.apiUrl}/`);
  await tab.getByRole('heading', { name: 'Connected pages' }).waitFor({ timeout: WAIT_MS });
  return tab;
}

afterAll(async () => {
  for (const ctx of contexts) await ctx.close().catch(() => {});
});

async function pageFromApi(pageId: string) {
  const answer = await e2e.http.get(PATHS.pages, e2e.token);
  expect(answer.status, answer.text).toBe(200);
  const found = PagesResponse.parse(answer.body).pages.find((p) => p.id === pageId);
  if (!found) throw new Error(`page ${pageId} is not listed`);
  return found;
}

/** Two increasing "Synced N contacts..." readings on the card: the progress visibly rises. */
async function seeProgressRise(tab: Page, pageName: string): Promise<number[]> {
  const seen: number[] = [];
  await eventually(`"Synced N contacts..." to rise twice on ${pageName}`, async () => {
    const shown = await syncedShown(tab, pageName);
    if (shown > (seen.at(-1) ?? 0)) seen.push(shown);
    if (seen.length < 2) throw new Error(`seen so far ${JSON.stringify(seen)}`);
  });
  return seen;
}

describe('the web console', () => {
  it('serves the console at / with a config.json holding a working dev token', async () => {
    const index = await fetch(`${e2e.stack.apiUrl}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    const config = (await (await fetch(`${e2e.stack.apiUrl}/config.json`)).json()) as {
      apiUrl: string;
      token: string;
    };
    expect(config.apiUrl).toBe('');
    const pages = await e2e.http.get(PATHS.pages, config.token);
    expect(pages.status).toBe(200);
    // Files outside web/dist are not served, and unknown paths keep the API's 404 {error}.
    const outside = await fetch(`${e2e.stack.apiUrl}/..%2fpackage.json`);
    expect(outside.status).toBe(404);
    expect(await outside.json()).toEqual({ error: 'Not Found' });
  });

  it('starts a sync, shows the progress rising, stops it, and shows the toast and the final count', async () => {
    const name = P.stop.name;
    const tab = await openConsole();
    const sync = primaryButton(tab, name);
    await eventually('the idle card', async () => {
      expect(await primaryLabel(tab, name)).toBe('Sync');
      expect(await text(card(tab, name).getByTestId('contact-count'))).toBe('0 contacts');
    });
    // Every progress bar state the card goes through, recorded in the page as it renders.
    await tab.evaluate(`window.barStates = [];
      new MutationObserver(() => {
        const bar = document.querySelector('[role=progressbar]');
        const state = bar ? (bar.hasAttribute('aria-valuenow') ? 'determinate' : 'indeterminate') : 'none';
        if (window.barStates.at(-1) !== state) window.barStates.push(state);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });`);
    // Accessible names carry the page: "Sync Console stop page".
    await tab.getByRole('button', { name: `Sync ${name}`, exact: true }).click();

    // Syncing: the same button, now Stop Sync in the destructive style, keeps the focus.
    await eventually('Stop Sync', async () => expect(await primaryLabel(tab, name)).toBe('Stop Sync'));
    expect(await sync.getAttribute('class')).toContain('button-destructive');
    expect(await tab.getByRole('button', { name: `Stop Sync ${name}`, exact: true }).count()).toBe(1);
    expect(await focused(tab)).toMatchObject({ action: 'primary' });
    const bar = card(tab, name).getByRole('progressbar', { name: `Sync progress for ${name}` });
    await bar.waitFor({ timeout: WAIT_MS });

    const seen = await seeProgressRise(tab, name);
    await eventually('a determinate progress bar with a percentage', async () => {
      const now = Number(await bar.getAttribute('aria-valuenow', { timeout: 1000 }));
      expect(now).toBeGreaterThan(0);
      expect(await text(card(tab, name))).toContain(`${now}%`);
    });
    expect(await text(card(tab, name).getByRole('status'))).toMatch(/^Syncing .*: \d+% done$/);
    // Before the conversations were counted (several rate-limited Graph calls), the bar was indeterminate.
    const barStates = (await tab.evaluate('window.barStates.filter((s) => s !== "none")')) as string[];
    expect(barStates.slice(0, 2)).toEqual(['indeterminate', 'determinate']);

    // Stopping: shown at once, disabled, for as long as the cancel request is in flight.
    const hold = await holdNextRequest(tab, PATHS.cancel);
    const cancelAnswer = tab.waitForResponse((r) => r.url().includes(PATHS.cancel), { timeout: WAIT_MS });
    await sync.click();
    await hold.arrived;
    expect(await primaryLabel(tab, name)).toBe('Stopping...');
    expect(await sync.getAttribute('aria-disabled')).toBe('true');
    expect(await text(card(tab, name))).toContain('Stopping sync...');
    await hold.release();

    const answer = await cancelAnswer;
    expect(answer.status()).toBe(200);
    const ack = CancelSyncResponse.parse(await answer.json()).job;
    expect(ack.syncedContacts).toBeGreaterThanOrEqual(seen[1] as number);

    // Cancelled: the toast, "Sync cancelled", the count with its gain, and Sync again.
    await tab.getByText(`Sync cancelled for ${name}`, { exact: true }).waitFor({ timeout: WAIT_MS });
    await eventually('the cancelled card', async () => {
      expect(await primaryLabel(tab, name)).toBe('Sync');
      expect(await text(card(tab, name))).toContain('Sync cancelled');
    });
    const saved = await pageFromApi(P.stop.id);
    expect(saved.contactCount).toBe(ack.syncedContacts);
    expect(await text(card(tab, name).getByTestId('contact-count'))).toBe(
      `${ack.syncedContacts} contacts (was 0, gained ${ack.syncedContacts})`,
    );
    expect(await focused(tab)).toMatchObject({ action: 'primary' });
    expect(await text(card(tab, name).getByRole('status'))).toBe(
      `Sync cancelled for ${name}. ${ack.syncedContacts} contacts.`,
    );
  }, 180_000);

  it('shows a stop made in another tab in every open tab, and no tab is left polling', async () => {
    const name = P.tabs.name;
    const tabA = await openConsole();
    const tabB = await openConsole(tabA.context()); // the same browser: BroadcastChannel and localStorage
    const requestsOf = (tab: Page) => {
      let count = 0;
      tab.on('request', (request) => {
        if (request.url().includes(PATHS.pages)) count++;
      });
      return () => count;
    };

    await primaryButton(tabA, name).click();
    await eventually('Stop Sync in the other tab', async () =>
      expect(await primaryLabel(tabB, name)).toBe('Stop Sync'),
    );
    // Another browser profile shares nothing with these tabs: it learns of the stop by polling.
    const tabC = await openConsole();
    await eventually('Stop Sync in the other browser', async () =>
      expect(await primaryLabel(tabC, name)).toBe('Stop Sync'),
    );
    await seeProgressRise(tabB, name);

    const cancelled = tabB.waitForResponse((r) => r.url().includes(PATHS.cancel), { timeout: WAIT_MS });
    await primaryButton(tabB, name).click();
    expect((await cancelled).status()).toBe(200);
    const answeredAt = Date.now();
    await tabB.getByText(`Sync cancelled for ${name}`, { exact: true }).waitFor({ timeout: WAIT_MS });
    const seenAfter: Record<string, number> = {};
    for (const [label, tab] of [
      ['same browser', tabA],
      ['other browser', tabC],
    ] as const) {
      await eventually('the cancel in the other tabs', async () => {
        expect(await primaryLabel(tab, name)).toBe('Sync');
        expect(await text(card(tab, name))).toContain('Sync cancelled');
      });
      seenAfter[label] = Date.now() - answeredAt;
      // Tabs that saw it happen say so too.
      await tab.getByText(`Sync cancelled for ${name}`, { exact: true }).waitFor({ timeout: WAIT_MS });
    }
    // Reported, not asserted (a loaded machine is slow): at most how long after the cancel's answer each showed it.
    console.info(`[web console] the stop showed in the other tabs after ${JSON.stringify(seenAfter)} ms`);
    const kept = (await pageFromApi(P.tabs.id)).contactCount;
    // The tabs of the browser that started the sync know the count before it.
    for (const tab of [tabA, tabB])
      expect(await text(card(tab, name).getByTestId('contact-count'))).toBe(
        `${kept} contacts (was 0, gained ${kept})`,
      );
    expect(await text(card(tabC, name).getByTestId('contact-count'))).toMatch(
      new RegExp(`^${kept} contacts`),
    );

    // Idle everywhere: no tab polls any more (three seconds is two of the slowest polls).
    const counters = [tabA, tabB, tabC].map(requestsOf);
    await tabA.waitForTimeout(3000);
    expect(counters.map((count) => count())).toEqual([0, 0, 0]);
  }, 180_000);

  it('answers a stop that comes after completion with an error toast, Sync again and the completed result', async () => {
    const name = P.late.name;
    const tab = await openConsole();
    await primaryButton(tab, name).click();
    await eventually('Stop Sync', async () => expect(await primaryLabel(tab, name)).toBe('Stop Sync'));

    // The stop is clicked while the sync runs, and reaches the API only after it completed.
    const hold = await holdNextRequest(tab, PATHS.cancel);
    await primaryButton(tab, name).click();
    const route = await hold.arrived;
    const { jobId } = route.request().postDataJSON() as { jobId: string };
    await eventually(
      'the sync to complete',
      async () =>
        expect((await pageFromApi(P.late.id)).lastJob).toMatchObject({ id: jobId, status: 'COMPLETED' }),
      120_000,
      250,
    );
    expect(await primaryLabel(tab, name)).toBe('Stopping...');
    const answer = tab.waitForResponse((r) => r.url().includes(PATHS.cancel), { timeout: WAIT_MS });
    await hold.release();
    expect((await answer).status()).toBe(400);

    await tab
      .getByText('Cannot cancel job with status: COMPLETED', { exact: true })
      .waitFor({ timeout: WAIT_MS });
    expect(await tab.getByText(`Failed to cancel sync for ${name}`, { exact: true }).count()).toBe(1);
    const total = P.late.conversations.messenger.length + P.late.conversations.instagram.length;
    await eventually('Sync and the completed result', async () => {
      expect(await primaryLabel(tab, name)).toBe('Sync');
      expect(await text(card(tab, name))).toContain(`Sync completed · ${total} contacts synced`);
    });
    expect(await text(card(tab, name).getByTestId('contact-count'))).toBe(
      `${total} contacts (was 0, gained ${total})`,
    );
    expect(await focused(tab)).toMatchObject({ action: 'primary' });
    // Synced once: a full re-sync is offered beside Sync (which now reads only what changed).
    expect(await tab.getByRole('button', { name: `Full re-sync ${name}`, exact: true }).count()).toBe(1);
  }, 180_000);

  it('shows a failed sync with its error, and asks before stopping when the user chose so', async () => {
    const name = P.failing.name;
    const tab = await openConsole();

    // The per-user setting: off by default, on from the page's Settings.
    await tab.getByRole('button', { name: `Settings for ${name}`, exact: true }).click();
    const ask = tab.getByRole('checkbox', { name: /Are you sure\?/ });
    expect(await ask.isChecked()).toBe(false);
    await ask.check();
    await tab.getByRole('button', { name: 'Close', exact: true }).click();

    // Every Graph call of this page now answers 190: the sync fails and says what to do.
    e2e.stack.graph?.setFaults({ rate: 1, codes: [190] });
    try {
      await primaryButton(tab, name).click();
      await tab.getByText(`Sync failed for ${name}`, { exact: true }).waitFor({ timeout: WAIT_MS });
    } finally {
      e2e.stack.graph?.setFaults(null);
    }
    await eventually('the failed card', async () => {
      expect(await primaryLabel(tab, name)).toBe('Sync');
      expect(await text(card(tab, name))).toMatch(/Sync failed: .*reconnect the page/);
    });

    // With the setting on, Stop Sync asks first; "Keep syncing" leaves the sync running.
    await primaryButton(tab, name).click();
    await eventually('Stop Sync', async () => expect(await primaryLabel(tab, name)).toBe('Stop Sync'));
    await primaryButton(tab, name).click();
    const dialog = tab.getByRole('dialog', { name: 'Stop this sync?' });
    await dialog.waitFor({ timeout: WAIT_MS });
    await dialog.getByRole('button', { name: 'Keep syncing' }).click();
    expect(await primaryLabel(tab, name)).toBe('Stop Sync');
    await primaryButton(tab, name).click();
    await dialog.getByRole('button', { name: 'Stop Sync' }).click();
    await tab.getByText(`Sync cancelled for ${name}`, { exact: true }).waitFor({ timeout: WAIT_MS });
  }, 180_000);

  it('pauses a sync, keeps it paused, resumes it, and retries it after a stop', async () => {
    const name = P.pause.name;
    const tab = await openConsole();
    const secondary = card(tab, name).locator('button[data-action="secondary"]');
    await primaryButton(tab, name).click();
    await eventually('Stop Sync', async () => expect(await primaryLabel(tab, name)).toBe('Stop Sync'));
    await seeProgressRise(tab, name);

    // Syncing shows Pause beside Stop Sync; Pausing... while the request is in flight.
    const hold = await holdNextRequest(tab, PATHS.pause);
    const pauseAnswer = tab.waitForResponse((r) => r.url().includes(PATHS.pause), { timeout: WAIT_MS });
    await tab.getByRole('button', { name: `Pause ${name}`, exact: true }).click();
    await hold.arrived;
    expect(await text(secondary.locator('[data-label]'))).toBe('Pausing...');
    expect(await secondary.getAttribute('aria-disabled')).toBe('true');
    await hold.release();
    const answer = await pauseAnswer;
    expect(answer.status()).toBe(200);
    const paused = PauseSyncResponse.parse(await answer.json()).job;

    // Paused: Resume is the main action, Stop Sync beside it, the count frozen at the answer.
    await tab.getByText(`Sync paused for ${name}`, { exact: true }).waitFor({ timeout: WAIT_MS });
    await eventually('the paused card', async () => {
      expect(await primaryLabel(tab, name)).toBe('Resume');
      expect(await text(secondary.locator('[data-label]'))).toBe('Stop Sync');
      expect(await text(card(tab, name))).toContain(`Sync paused · ${paused.syncedContacts} contacts synced`);
    });
    expect(await text(card(tab, name).getByRole('status'))).toBe(
      `Sync paused for ${name}. ${paused.syncedContacts} contacts synced so far.`,
    );
    await tab.waitForTimeout(1500);
    const still = await e2e.http.get(`${PATHS.status}${query({ jobId: paused.id })}`, e2e.token);
    expect(SyncStatusResponse.parse(still.body).job).toMatchObject({
      status: 'PAUSED',
      syncedContacts: paused.syncedContacts,
    });
    expect(await text(card(tab, name))).toContain(`Sync paused · ${paused.syncedContacts} contacts synced`);

    // Resume: the same button, syncing again from the paused count.
    const resumed = tab.waitForResponse((r) => r.url().includes(PATHS.resume), { timeout: WAIT_MS });
    await primaryButton(tab, name).click();
    expect((await resumed).status()).toBe(200);
    await eventually('Stop Sync again', async () => expect(await primaryLabel(tab, name)).toBe('Stop Sync'));
    expect(await focused(tab)).toMatchObject({ action: 'primary' });
    await eventually('the count to rise past the pause', async () =>
      expect(await syncedShown(tab, name)).toBeGreaterThan(paused.syncedContacts),
    );

    // Stopped, the card offers Retry; a retry is a new sync linked to the stopped one.
    await primaryButton(tab, name).click();
    await tab.getByText(`Sync cancelled for ${name}`, { exact: true }).waitFor({ timeout: WAIT_MS });
    const retryAnswer = tab.waitForResponse((r) => r.url().includes(PATHS.retry), { timeout: WAIT_MS });
    await tab.getByRole('button', { name: `Retry ${name}`, exact: true }).click();
    const retry = await retryAnswer;
    expect(retry.status()).toBe(202);
    const { jobId } = StartSyncResponse.parse(await retry.json());
    await eventually('the retry syncing', async () =>
      expect(await primaryLabel(tab, name)).toBe('Stop Sync'),
    );
    const retried = await e2e.http.get(`${PATHS.status}${query({ jobId })}`, e2e.token);
    expect(SyncStatusResponse.parse(retried.body).job.resumedFrom).toBe(paused.id);
    await primaryButton(tab, name).click();
    await eventually('the retry stopped', async () => expect(await primaryLabel(tab, name)).toBe('Sync'));
  }, 180_000);

  it('disconnects a page only after confirmation', async () => {
    const name = P.failing.name;
    const tab = await openConsole();
    await tab.getByRole('button', { name: `Disconnect ${name}`, exact: true }).click();
    const dialog = tab.getByRole('dialog', { name: 'Disconnect this page?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await card(tab, name).count()).toBe(1);
    await tab.getByRole('button', { name: `Disconnect ${name}`, exact: true }).click();
    await dialog.getByRole('button', { name: 'Disconnect' }).click();
    await tab.getByText(`Disconnected ${name}`, { exact: true }).waitFor({ timeout: WAIT_MS });
    await eventually('the card to go', async () => expect(await card(tab, name).count()).toBe(0));
    const answer = await e2e.http.get(PATHS.pages, e2e.token);
    expect(PagesResponse.parse(answer.body).pages.map((p) => p.id)).not.toContain(P.failing.id);
  }, 120_000);
});
