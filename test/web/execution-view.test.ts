import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routePath } from '#shared/api/routes.ts';
import {
  CancelSyncResponse,
  PauseSyncResponse,
  SyncExecutionResponse,
  SyncStatusResponse,
} from '#shared/contract.ts';
import { e2eStack } from '#test/e2e/e2e-stack.ts';
import { PATHS, simPages } from '#test/e2e/http-client.ts';
import {
  eventually,
  focused,
  launchChromium,
  primaryButton,
  primaryLabel,
  syncedShown,
  text,
  WAIT_MS,
} from './browser.ts';

/**
 * The execution view in real headless Chromium against the embedded stack (which serves the console
 * at `/`, as `npm start` does): a sync started, paused, resumed and cancelled through the console,
 * the cancel's StopExecution held by the local Step Functions for a few seconds so that the
 * workers' own cancel check sees the cancelled job first. Then the view shows the job's two
 * executions, their console links (the local view itself) and what each did.
 * Every wait is bounded (`eventually`); nothing asserts a duration.
 *
 * How a worker slot meets its cancel check: a chunk in progress notices a stop by itself (its
 * commit is refused) and ends the slot, and a slot waiting for the reader to stage its next chunk
 * reads the job's status every CHUNK_WAIT_STATUS_MS and ends too. Only a slot whose wait runs out
 * (CHUNK_WAIT_MS, then its turn ends on the same chunk) goes through "Check if cancelled before the
 * chunk" again. So here the analysis is quick (the slots keep up with the reader and wait for it),
 * a wait runs out after a quarter of a second, and the slots leave the job's status to the check:
 * after the cancel, a waiting slot meets the check well within the held stop.
 *
 * Chunks of 10, 2 slots per platform, the reader at the Graph simulator's 2 calls/s per Page: the
 * 500-conversation page is read for over 20 s, well over the time a pause, a resume and a cancel
 * take. maxChunksPerSegment stays at its default (far above the 50 chunks), so no continuation
 * execution appears.
 */
const CONTEXT = { chunkSize: 10, mapConcurrency: 2 };
const ANALYZER_LATENCY_MS = '100';
/** How long the local StopExecution waits before it stops the execution. */
const STOP_DELAY_MS = 3000;
/** Read by the worker slots (chunk-worker.ts), which run in this process. */
const SLOT_WAIT = { CHUNK_WAIT_MS: '250', CHUNK_WAIT_STATUS_MS: '600000' };

const simPage = simPages('9510000000', 'Executions');
const PAGE = simPage('cancel check page', 300, 200);

const e2e = e2eStack({
  pages: [PAGE],
  context: CONTEXT,
  analyzerLatencyMs: ANALYZER_LATENCY_MS,
  user: 'execution-viewer',
  console: true,
});
let browser: Browser;
const contexts: BrowserContext[] = [];

const originalEnv = Object.fromEntries(Object.keys(SLOT_WAIT).map((key) => [key, process.env[key]]));
beforeAll(async () => {
  Object.assign(process.env, SLOT_WAIT);
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  for (const ctx of contexts) await ctx.close().catch(() => {});
  await browser?.close();
  for (const [key, value] of Object.entries(originalEnv))
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
});

async function openConsole(): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  contexts.push(ctx);
  const tab = await ctx.newPage();
  await tab.goto(`${e2e.stack.apiUrl}/`);
  await tab.getByRole('heading', { name: 'Connected pages' }).waitFor({ timeout: WAIT_MS });
  return tab;
}

/** The count on the card rises above `above`: the sync is visibly under way. */
const seeSyncedAbove = (tab: Page, above: number) =>
  eventually(`"Synced N contacts..." above ${above}`, async () =>
    expect(await syncedShown(tab, PAGE.name)).toBeGreaterThan(above),
  );

/** The job as sync-status answers it over HTTP (a 200 with the documented shape). */
async function statusOf(jobId: string) {
  const answer = await e2e.http.get(routePath('syncStatus', { jobId }), e2e.token);
  expect(answer.status, answer.text).toBe(200);
  return SyncStatusResponse.parse(answer.body).job;
}

/** An execution's summary as sync-execution answers it over HTTP. */
async function executionOf(jobId: string, name: string) {
  const answer = await e2e.http.get(routePath('syncExecution', { jobId, name }), e2e.token);
  expect(answer.status, answer.text).toBe(200);
  return SyncExecutionResponse.parse(answer.body);
}

const summaryOf = (view: Locator, name: string) =>
  view.getByRole('region', { name: `Summary of ${name}`, exact: true });

describe('the execution view on the embedded stack', () => {
  it("shows a paused, resumed and cancelled sync's two executions, their local console links, the cancel check and each stop", async () => {
    const name = PAGE.name;
    const tab = await openConsole();
    await eventually('the idle card', async () => expect(await primaryLabel(tab, name)).toBe('Sync'));

    // Start, then pause mid-way.
    await primaryButton(tab, name).click();
    await eventually('Stop Sync', async () => expect(await primaryLabel(tab, name)).toBe('Stop Sync'));
    await seeSyncedAbove(tab, 0);
    const pauseAnswer = tab.waitForResponse((r) => r.url().includes(PATHS.pause), { timeout: WAIT_MS });
    await tab.getByRole('button', { name: `Pause ${name}`, exact: true }).click();
    const pauseResponse = await pauseAnswer;
    expect(pauseResponse.status()).toBe(200);
    const paused = PauseSyncResponse.parse(await pauseResponse.json()).job;
    const jobId = paused.id;
    const resumed = `${jobId}-resume1`;
    await eventually('the paused card', async () => expect(await primaryLabel(tab, name)).toBe('Resume'));

    // Resume: a second execution, syncing on past the pause.
    const resumeAnswer = tab.waitForResponse((r) => r.url().includes(PATHS.resume), { timeout: WAIT_MS });
    await primaryButton(tab, name).click();
    expect((await resumeAnswer).status()).toBe(200);
    await eventually('Stop Sync again', async () => expect(await primaryLabel(tab, name)).toBe('Stop Sync'));
    await seeSyncedAbove(tab, paused.syncedContacts);

    // Cancel while the local StopExecution is held: the workers' cancel check sees the cancelled job.
    e2e.stack.sfn.stopDelayMs = STOP_DELAY_MS;
    try {
      const cancelAnswer = tab.waitForResponse((r) => r.url().includes(PATHS.cancel), { timeout: WAIT_MS });
      await primaryButton(tab, name).click();
      const cancelResponse = await cancelAnswer;
      expect(cancelResponse.status()).toBe(200);
      expect(CancelSyncResponse.parse(await cancelResponse.json()).job.id).toBe(jobId);
      await eventually('the cancelled card', async () => expect(await primaryLabel(tab, name)).toBe('Sync'));
      // Both executions have ended (the held stop included).
      await eventually(
        'both executions to end',
        async () => {
          const job = await statusOf(jobId);
          expect(job.executions.map((e) => e.name)).toEqual([jobId, resumed]);
          expect(job.executions.filter((e) => e.status === 'RUNNING')).toEqual([]);
        },
        WAIT_MS,
        250,
      );
    } finally {
      e2e.stack.sfn.stopDelayMs = 0;
    }

    // sync-status over HTTP: the two executions, in order, each with its local console link.
    const job = await statusOf(jobId);
    expect(job.status).toBe('CANCELLED');
    const [first, second] = job.executions;
    expect(first).toMatchObject({
      name: jobId,
      status: 'ABORTED',
      consoleUrl: `${e2e.stack.apiUrl}/#/jobs/${jobId}/executions/${jobId}`,
    });
    expect(second).toMatchObject({
      name: resumed,
      consoleUrl: `${e2e.stack.apiUrl}/#/jobs/${jobId}/executions/${resumed}`,
    });
    expect(first?.stopDate).not.toBeNull();
    expect(second?.stopDate).not.toBeNull();
    // sync-execution over HTTP: the resumed run is final, and the cancel check stopped a worker.
    const resumedRun = await eventually('the resumed run summary to be complete', async () => {
      const answer = await executionOf(jobId, resumed);
      expect(answer.summary.complete).toBe(true);
      return answer;
    });
    expect(resumedRun.summary.map?.stoppedByCancelCheck).toBeGreaterThanOrEqual(1);

    // The view, from the card's Details: the focus moves into it.
    const details = tab.getByRole('button', { name: `Details of the sync of ${name}`, exact: true });
    await details.click();
    const view = tab.getByRole('dialog', { name: 'Sync details' });
    await view.waitFor({ timeout: WAIT_MS });
    expect(await focused(tab)).toMatchObject({ text: 'Close' });
    await eventually('the two executions', async () =>
      expect(await view.locator('li.execution').count()).toBe(2),
    );
    expect(await text(view.getByTestId('job-status'))).toBe('Cancelled');
    expect(await text(view.getByTestId('job-counters'))).toBe(
      `${job.syncedContacts} synced, ${job.failedContacts} failed, ${job.totalContacts} total`,
    );
    const items = view.locator('li.execution');
    expect(await items.nth(0).getAttribute('data-execution')).toBe(jobId);
    expect(await items.nth(1).getAttribute('data-execution')).toBe(resumed);
    for (const execution of job.executions) {
      const link = view.getByRole('link', { name: `Console view of ${execution.name}, in a new tab` });
      expect(await link.getAttribute('href')).toBe(execution.consoleUrl);
    }
    expect(await text(items.nth(0).locator('.execution-status'))).toBe('Aborted');

    // The resumed run is open (the latest): workers stopped by the cancel check, and its end.
    const resumedEnd = await eventually('the resumed run in the view', async () => {
      const map = await text(summaryOf(view, resumed).getByTestId('execution-map'));
      const stopped = /, (\d+) stopped by the cancel check;/.exec(map);
      expect(Number(stopped?.[1])).toBeGreaterThanOrEqual(1);
      const end = await text(summaryOf(view, resumed).getByTestId('execution-end'));
      expect(end).not.toBe('Still running');
      return end;
    });
    console.info(`[execution view] the resumed run ended as "${resumedEnd}"`);
    // Either StopExecution landed first, or the execution's own check saw the cancel and ended it.
    expect(resumedEnd).toMatch(
      /^(Aborted: SyncCancelled — Cancelled by the user|Stopped by its cancel check: the job was no longer running)$/,
    );

    // The first, opened: stopped by the pause.
    await view.getByRole('button', { name: jobId, exact: true }).click();
    await eventually('the first run in the view', async () =>
      expect(await text(summaryOf(view, jobId).getByTestId('execution-end'))).toBe(
        'Aborted: SyncPaused — Paused by the user',
      ),
    );
    expect(await view.getByRole('alert').count()).toBe(0);

    // No PII: neither the page's name nor any contact's.
    const shown = await text(view);
    expect(shown).not.toContain(name);
    const contacts = await e2e.contactsOf(PAGE.id);
    expect(contacts.length).toBeGreaterThan(0);
    // (Full names only: a single word could be part of a state's name.)
    for (const contact of contacts.filter((c) => c.displayName.includes(' ')))
      expect(shown).not.toContain(contact.displayName);

    // Close: the hash is cleared and the focus is back on Details.
    await view.getByRole('button', { name: 'Close', exact: true }).click();
    await eventually('the view to close', async () => expect(await view.count()).toBe(0));
    expect(await tab.evaluate('location.hash')).toBe('');
    expect(await focused(tab)).toMatchObject({ action: 'details' });

    // The resumed run's console link, opened as a page of its own: the same view, on that execution.
    const linked = await openConsoleAt(second?.consoleUrl ?? '');
    const linkedView = linked.getByRole('dialog', { name: 'Sync details' });
    await eventually('the linked view', async () => {
      expect(
        await linkedView.getByRole('button', { name: resumed, exact: true }).getAttribute('aria-expanded'),
      ).toBe('true');
      expect(await text(summaryOf(linkedView, resumed).getByTestId('execution-end'))).toBe(resumedEnd);
    });
  }, 240_000);
});

async function openConsoleAt(url: string): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  contexts.push(ctx);
  const tab = await ctx.newPage();
  await tab.goto(url);
  return tab;
}
