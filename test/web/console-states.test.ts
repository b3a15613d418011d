import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_NAMES, ROUTES } from '#shared/api/routes.ts';
import { PATHS } from '#test/e2e/http-client.ts';
import { consoleFallback, ensureConsoleBuilt } from '../../local/console-server.ts';
import type { ConnectedPage } from '../../web/src/types.ts';
import {
  card,
  eventually,
  focused,
  launchChromium,
  primaryButton,
  primaryLabel,
  text,
  WAIT_MS,
} from './browser.ts';
import { connectedPage, AT as NOW, syncJob } from './fixtures.ts';

/**
 * The console's texts for estimated progress, incremental re-syncs and the full re-sync, in real
 * headless Chromium. The built console is served as the local stack serves it, and its API answers
 * come from the test: `config.json` and every request to a route of shared/api/routes.ts are
 * fulfilled through the page's routes (as `holdNextRequest` holds them in console.test.ts) from a
 * list of pages the test changes as a sync moves. So each state is shown exactly, whatever the
 * backend serves today.
 */
let server: Server;
let origin: string;
let browser: Browser;

/** The paths of the API's routes (all but the public OpenAPI document), a `{param}` any segment. */
const API_PATHS = ROUTE_NAMES.filter((name) => !('public' in ROUTES[name])).map(
  (name) => new RegExp(`^${ROUTES[name].path.replace(/\{\w+\}/g, '[^/]+')}$`),
);
const isApiRoute = (url: URL) => API_PATHS.some((path) => path.test(url.pathname));

beforeAll(async () => {
  const webRoot = await ensureConsoleBuilt();
  const serve = consoleFallback(webRoot, { dataDir: '/nonexistent' });
  server = createServer((req, res) => {
    if (serve(req, res)) return;
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'Not Found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

const contexts: BrowserContext[] = [];
afterEach(async () => {
  for (const ctx of contexts.splice(0)) await ctx.close().catch(() => {});
});

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** Only read for its claims by the console; the fake API does not check it. */
const TOKEN = `${base64url({ alg: 'none' })}.${base64url({ sub: 'console-tester', org_id: 'demo-org' })}.x`;

/**
 * A fake API for one tab: GET pages answers `pages` as they are now; a start records its body,
 * answers 202 (after `hold`, when set) and makes a PENDING job of the asked mode the page's active job.
 */
async function openConsole(pages: ConnectedPage[]) {
  const started: Record<string, unknown>[] = [];
  let hold: Promise<void> | null = null;
  const ctx = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  contexts.push(ctx);
  const tab = await ctx.newPage();
  const json = (route: Route, status: number, body: unknown) =>
    route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
  await tab.route('**/config.json', (route) =>
    json(route, 200, { apiUrl: '', token: TOKEN, tokenSource: 'config' }),
  );
  await tab.route(isApiRoute, async (route) => {
    const request = route.request();
    const path = new URL(request.url()).pathname;
    if (request.method() === 'GET' && path === PATHS.pages) return json(route, 200, { pages });
    if (request.method() === 'POST' && path === PATHS.start) {
      const body = request.postDataJSON() as { pageId: string; mode?: 'incremental' | 'full' };
      started.push(body);
      if (hold) await hold;
      const page = pages.find((p) => p.id === body.pageId);
      if (!page) return json(route, 404, { error: 'Page not found' });
      const mode = body.mode ?? 'incremental';
      page.activeJob = syncJob({
        id: `job-${started.length}-${page.id}`,
        pageId: page.id,
        status: 'PENDING',
        phase: 'queued',
        mode,
        since: mode === 'incremental' ? NOW : null,
      });
      return json(route, 202, {
        jobId: page.activeJob.id,
        status: 'PENDING',
        mode,
        since: page.activeJob.since,
        message: 'Sync started',
      });
    }
    return json(route, 404, { error: 'Not Found' });
  });
  await tab.goto(`${origin}/`);
  await tab.getByRole('heading', { name: 'Connected pages' }).waitFor({ timeout: WAIT_MS });
  return {
    tab,
    started,
    holdStarts() {
      let release = () => {};
      hold = new Promise<void>((resolve) => {
        release = () => {
          hold = null;
          resolve();
        };
      });
      return release;
    },
  };
}

const liveRegion = (tab: Page, name: string) => card(tab, name).getByRole('status');

describe('the web console with estimated progress and incremental re-syncs', () => {
  it('shows an estimated progress as "about N %" with a filled bar, and an exact one as "N%"', async () => {
    const name = 'Estimate page';
    const page = connectedPage('9600000001', name, { contactCount: 120 });
    page.activeJob = syncJob({
      id: 'job-estimate',
      pageId: page.id,
      syncedContacts: 120,
      totalContacts: 300,
      progress: 40,
      progressEstimated: true,
    });
    const { tab } = await openConsole([page]);
    const bar = card(tab, name).getByRole('progressbar', { name: `Sync progress for ${name}` });
    await eventually('the estimated progress', async () => {
      expect(await text(card(tab, name).locator('.progress-text'))).toBe('about 40 %');
    });
    expect(await bar.getAttribute('aria-valuenow')).toBe('40');
    expect(await bar.getAttribute('aria-valuetext')).toBe('about 40 %, 120 contacts synced');
    expect(await bar.locator('.progress-fill').getAttribute('style')).toContain('width: 40%');
    expect(await text(liveRegion(tab, name))).toBe(`Syncing ${name}: about 40 % done`);
    expect(await liveRegion(tab, name).getAttribute('aria-live')).toBe('polite');
    expect(await text(card(tab, name))).toContain('Synced 120 contacts...');

    // The end of the list is found: the same bar, now exact.
    page.activeJob = { ...page.activeJob, syncedContacts: 140, progress: 45, progressEstimated: false };
    await eventually('the exact progress', async () => {
      expect(await text(card(tab, name).locator('.progress-text'))).toBe('45%');
      expect(await text(liveRegion(tab, name))).toBe(`Syncing ${name}: 40% done`);
    });
    expect(await bar.getAttribute('aria-valuetext')).toBe('45%, 140 contacts synced');

    // No estimate at all: "Counting..." as before.
    page.activeJob = { ...page.activeJob, progress: null, progressEstimated: true };
    await eventually('no estimate', async () => {
      expect(await text(card(tab, name).locator('.progress-text'))).toBe('Counting…');
      expect(await bar.getAttribute('aria-valuenow')).toBeNull();
    });
  }, 120_000);

  it('shows an incremental re-sync checking for changes, then its counters, then "N updated"', async () => {
    const name = 'Changes page';
    const page = connectedPage('9600000002', name, { contactCount: 300 });
    const running = syncJob({ id: 'job-changes', pageId: page.id, mode: 'incremental', since: NOW });
    page.activeJob = running;
    const { tab } = await openConsole([page]);
    await eventually('checking for changes', async () => {
      expect(await text(card(tab, name))).toContain('Checking for changes...');
      expect(await text(liveRegion(tab, name))).toBe(`Checking ${name} for changes`);
    });
    expect(await primaryLabel(tab, name)).toBe('Stop Sync');

    page.activeJob = { ...running, syncedContacts: 5, totalContacts: 8, progress: 62 };
    await eventually('the counters', async () => {
      expect(await text(card(tab, name))).toContain('Synced 5 contacts...');
      expect(await text(card(tab, name))).not.toContain('Checking for changes');
    });

    page.activeJob = null;
    page.lastJob = {
      ...running,
      status: 'COMPLETED',
      syncedContacts: 12,
      failedContacts: 2,
      totalContacts: 14,
      progress: 100,
      completedAt: NOW,
    };
    page.contactCount = 303;
    await tab.getByText(`Sync completed for ${name}`, { exact: true }).waitFor({ timeout: WAIT_MS });
    expect(await tab.getByText('12 updated, 2 failed', { exact: true }).count()).toBe(1); // the toast
    await eventually('the completed card', async () => {
      expect(await primaryLabel(tab, name)).toBe('Sync');
      expect(await text(card(tab, name))).toContain('Sync completed · 12 updated, 2 failed');
      expect(await text(liveRegion(tab, name))).toBe(`Sync completed for ${name}. 12 updated, 2 failed.`);
    });
  }, 120_000);

  it('shows "Up to date", starts a full re-sync on request, and leaves Sync to the API', async () => {
    const quiet = connectedPage('9600000003', 'Quiet page', {
      contactCount: 347,
      lastJob: syncJob({
        id: 'job-quiet',
        pageId: '9600000003',
        status: 'COMPLETED',
        mode: 'incremental',
        since: NOW,
        progress: 100,
        completedAt: NOW,
      }),
    });
    const other = connectedPage('9600000004', 'Other page', {
      contactCount: 20,
      lastJob: syncJob({
        id: 'job-other',
        pageId: '9600000004',
        status: 'COMPLETED',
        syncedContacts: 20,
        progress: 100,
      }),
    });
    const fresh = connectedPage('9600000005', 'Fresh page');
    const { tab, started, holdStarts } = await openConsole([quiet, other, fresh]);
    const name = quiet.pageName;
    await eventually('the up-to-date card', async () => {
      expect(await text(card(tab, name))).toContain('Up to date');
      expect(await text(liveRegion(tab, name))).toBe(`Sync completed for ${name}. Up to date.`);
    });
    expect(await text(card(tab, name).locator('.status-line'))).toBe('Up to date');
    // A full sync keeps its words; a page never synced has nothing to re-sync.
    expect(await text(card(tab, other.pageName))).toContain('Sync completed · 20 contacts synced');
    expect(
      await tab.getByRole('button', { name: `Full re-sync ${other.pageName}`, exact: true }).count(),
    ).toBe(1);
    expect(
      await tab.getByRole('button', { name: `Full re-sync ${fresh.pageName}`, exact: true }).count(),
    ).toBe(0);

    // Full re-sync: posts mode "full"; while the request is in flight both actions wait; once the
    // sync runs the button goes and its focus moves to the main action, now Stop Sync.
    const release = holdStarts();
    const full = tab.getByRole('button', { name: `Full re-sync ${name}`, exact: true });
    await full.click();
    await eventually('the start request', async () =>
      expect(started).toEqual([{ pageId: quiet.id, mode: 'full' }]),
    );
    expect(await primaryLabel(tab, name)).toBe('Starting...');
    expect(await primaryButton(tab, name).getAttribute('aria-disabled')).toBe('true');
    expect(await full.getAttribute('aria-disabled')).toBe('true');
    expect(await text(card(tab, name))).toContain('Starting full re-sync...');
    expect(await text(liveRegion(tab, name))).toBe(`Starting a full re-sync of ${name}`);
    expect(await focused(tab)).toMatchObject({ action: 'full-resync' });
    await full.click({ force: true }); // aria-disabled: nothing more is posted
    release();
    await eventually('Stop Sync', async () => expect(await primaryLabel(tab, name)).toBe('Stop Sync'));
    expect(await focused(tab)).toMatchObject({ action: 'primary' });
    expect(await full.count()).toBe(0);
    // A full re-sync shows today's texts, not "Checking for changes...".
    expect(await text(card(tab, name))).toContain('Starting sync...');

    // Sync sends no mode: the API picks incremental for a page synced before.
    await primaryButton(tab, other.pageName).click();
    await eventually('the second start', async () => expect(started.at(-1)).toEqual({ pageId: other.id }));
    await eventually('checking for changes', async () =>
      expect(await text(card(tab, other.pageName))).toContain('Checking for changes...'),
    );
    expect(started).toHaveLength(2);
  }, 120_000);
});
