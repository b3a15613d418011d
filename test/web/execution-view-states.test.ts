import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Locator, Page, Route } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_NAMES, ROUTES } from '#shared/api/routes.ts';
import { consoleFallback, ensureConsoleBuilt } from '../../local/console-server.ts';
import type {
  ConnectedPage,
  ExecutionSummary,
  JobWithExecutions,
  SyncExecution,
} from '../../web/src/types.ts';
import { card, eventually, focused, launchChromium, text, WAIT_MS } from './browser.ts';
import { at, connectedPage, execution, executionSummary, stateSummary, syncJob } from './fixtures.ts';

/**
 * The execution view in real headless Chromium, each state from fixtures: the built console is
 * served as the local stack serves it, and `config.json` and every API route are fulfilled by the
 * test (as in console-states.test.ts) from jobs and summaries the test changes as a sync moves.
 * Every wait is bounded (`eventually`); nothing asserts a duration.
 */
let server: Server;
let origin: string;
let browser: Browser;

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
const TOKEN = `${base64url({ alg: 'none' })}.${base64url({ sub: 'console-tester', org_id: 'demo-org' })}.x`;

/** What the fake API answers for one execution's summary: the summary, and whether the read was throttled. */
interface SummaryAnswer {
  summary: ExecutionSummary;
  stale?: boolean;
  /** Retry-After, in seconds, sent with a stale answer. */
  retryAfter?: number;
}

/** A job the fake API knows: sync-status answers `job`, sync-execution the summary of each execution. */
interface FakeJob {
  job: JobWithExecutions;
  summaries: Record<string, SummaryAnswer>;
}

/**
 * A fake API for one browser context (every tab of it, so a link opened in a new tab is served
 * too): the pages, and each job's status and execution summaries as they are now. It counts the
 * reads of each job's status and of each execution's summary.
 */
async function openConsole(pages: ConnectedPage[], jobs: FakeJob[], path = '/') {
  const reads = { status: 0, summary: {} as Record<string, number> };
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 }, timezoneId: 'UTC' });
  contexts.push(ctx);
  const json = (route: Route, status: number, body: unknown, headers?: Record<string, string>) =>
    route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body), headers });
  await ctx.route('**/config.json', (route) =>
    json(route, 200, { apiUrl: '', token: TOKEN, tokenSource: 'config' }),
  );
  await ctx.route(isApiRoute, async (route) => {
    const request = route.request();
    const url = new URL(request.url());
    const jobOf = () => jobs.find((j) => j.job.id === url.searchParams.get('jobId'));
    if (request.method() !== 'GET') return json(route, 404, { error: 'Not Found' });
    if (url.pathname === ROUTES.listPages.path) return json(route, 200, { pages });
    if (url.pathname === ROUTES.syncStatus.path) {
      reads.status++;
      const found = jobOf();
      return found ? json(route, 200, { job: found.job }) : json(route, 404, { error: 'Job not found' });
    }
    if (url.pathname === ROUTES.syncExecution.path) {
      const name = url.searchParams.get('name') ?? '';
      reads.summary[name] = (reads.summary[name] ?? 0) + 1;
      const found = jobOf();
      const listed = found?.job.executions.find((e) => e.name === name);
      const answer = found?.summaries[name];
      if (!listed || !answer) return json(route, 404, { error: 'Execution not found' });
      const stale = answer.stale ?? false;
      return json(
        route,
        200,
        { execution: listed, summary: answer.summary, stale },
        stale && answer.retryAfter !== undefined ? { 'Retry-After': String(answer.retryAfter) } : undefined,
      );
    }
    return json(route, 404, { error: 'Not Found' });
  });
  const tab = await ctx.newPage();
  await tab.goto(`${origin}${path}`);
  await tab.getByRole('heading', { name: 'Connected pages' }).waitFor({ timeout: WAIT_MS });
  return { ctx, tab, reads };
}

const viewOf = (tab: Page) => tab.getByRole('dialog', { name: 'Sync details' });
const itemOf = (view: Locator, name: string) => view.locator(`li.execution[data-execution="${name}"]`);
const toggleOf = (view: Locator, name: string) => view.getByRole('button', { name, exact: true });
const summaryOf = (view: Locator, name: string) =>
  view.getByRole('region', { name: `Summary of ${name}`, exact: true });
const detailsButton = (tab: Page, pageName: string) =>
  tab.getByRole('button', { name: `Details of the sync of ${pageName}`, exact: true });

/** The names of the listed executions, in order. */
const listedNames = async (view: Locator): Promise<string[]> =>
  Promise.all(
    (await view.locator('li.execution').all()).map(
      async (li) => (await li.getAttribute('data-execution')) ?? '',
    ),
  );

/** Opens the view from the page's card and waits for its executions; the focus moves into it. */
async function openDetails(tab: Page, pageName: string, executions: number) {
  await detailsButton(tab, pageName).click();
  const view = viewOf(tab);
  await view.waitFor({ timeout: WAIT_MS });
  await eventually('the executions', async () =>
    expect(await view.locator('li.execution').count()).toBe(executions),
  );
  return view;
}

/** The cells of a state's row in the states table of an execution. */
const stateRow = (view: Locator, name: string, state: string) =>
  summaryOf(view, name).locator(`tr[data-state="${state}"]`).locator('th, td').allTextContents();

const ABORTED_BY = (error: string, cause: string, seconds: number) => ({
  type: 'ExecutionAborted',
  at: at(seconds),
  error,
  cause,
});

describe('the execution view', () => {
  it('shows a paused, resumed and cancelled job: two executions, the cancel check, each stop, and gives the focus back', async () => {
    const name = 'Paused page';
    const jobId = '11111111-1111-4111-8111-111111111111';
    const resumed = `${jobId}-resume1`;
    const job: JobWithExecutions = {
      ...syncJob({
        id: jobId,
        pageId: '9700000001',
        status: 'CANCELLED',
        phase: 'cancelled',
        syncedContacts: 120,
        failedContacts: 3,
        totalContacts: 400,
        progress: 30,
        completedAt: at(200),
        pausedAt: at(60),
      }),
      executions: [
        execution(jobId, jobId, { status: 'ABORTED', stopDate: at(60) }, 'http://127.0.0.1:1'),
        execution(jobId, resumed, { status: 'ABORTED', startDate: at(90), stopDate: at(200) }),
      ],
    };
    const page = connectedPage('9700000001', name, { contactCount: 120, lastJob: job });
    const summaries: Record<string, SummaryAnswer> = {
      [jobId]: {
        summary: executionSummary({
          complete: true,
          eventCount: 84,
          states: [
            stateSummary('ReadConversations', { totalMs: 4200 }),
            stateSummary('ProcessChunks', {
              type: 'Map',
              entered: 1,
              exited: 0,
              lastExitedAt: null,
              totalMs: 0,
            }),
          ],
          map: {
            iterations: 2,
            succeeded: 0,
            failed: 0,
            aborted: 2,
            stoppedByCancelCheck: 0,
            chunksProcessed: 5,
          },
          end: ABORTED_BY('SyncPaused', 'Paused by the user', 60),
        }),
      },
      [resumed]: {
        summary: executionSummary({
          complete: true,
          eventCount: 131,
          states: [
            stateSummary('ProcessChunks', { type: 'Map', entered: 1, exited: 1, totalMs: 105_000 }),
            stateSummary('CheckCancelled', { type: 'Choice', entered: 9, exited: 9, totalMs: 90 }),
          ],
          map: {
            iterations: 2,
            succeeded: 0,
            failed: 0,
            aborted: 0,
            stoppedByCancelCheck: 2,
            chunksProcessed: 7,
          },
          end: ABORTED_BY('SyncCancelled', 'Cancelled by the user', 200),
        }),
      },
    };
    const { tab, reads } = await openConsole([page], [{ job, summaries }]);

    const view = await openDetails(tab, name, 2);
    expect(await focused(tab)).toMatchObject({ text: 'Close' });
    expect(await tab.evaluate('location.hash')).toBe(`#/jobs/${jobId}`);
    expect(await view.getByRole('heading', { name: 'Sync details' }).count()).toBe(1);
    // The job's counters.
    expect(await text(view.getByTestId('job-status'))).toBe('Cancelled');
    expect(await text(view.getByTestId('job-counters'))).toBe('120 synced, 3 failed, 400 total');
    expect(await text(view.locator('.job-counters'))).toContain('cancelled');
    expect(await text(view.locator('.job-counters'))).toContain('30%');

    // The executions in order, the latest open, each with its console link in a new tab.
    expect(await listedNames(view)).toEqual([jobId, resumed]);
    expect(await toggleOf(view, jobId).getAttribute('aria-expanded')).toBe('false');
    expect(await toggleOf(view, resumed).getAttribute('aria-expanded')).toBe('true');
    for (const listed of job.executions) {
      const link = itemOf(view, listed.name).getByRole('link', {
        name: `Console view of ${listed.name}, in a new tab`,
      });
      expect(await link.getAttribute('href')).toBe(listed.consoleUrl);
      expect(await link.getAttribute('target')).toBe('_blank');
      expect(await text(itemOf(view, listed.name).locator('.execution-status'))).toBe('Aborted');
    }
    expect(await text(itemOf(view, jobId).getByTestId('execution-duration'))).toBe('1 min 00 s');
    expect(await itemOf(view, resumed).locator('time').first().getAttribute('datetime')).toBe(at(90));

    // The resumed run: stopped by the cancel check, ended by the cancel.
    await eventually('the resumed run summary', async () =>
      expect(await text(summaryOf(view, resumed).getByTestId('execution-end'))).toBe(
        'Aborted: SyncCancelled — Cancelled by the user',
      ),
    );
    expect(await text(summaryOf(view, resumed).getByTestId('execution-map'))).toBe(
      '2 worker iterations: 0 succeeded, 0 failed, 0 aborted, 2 stopped by the cancel check; 7 chunks processed',
    );
    expect(await stateRow(view, resumed, 'ProcessChunks')).toEqual([
      'ProcessChunks',
      'Map',
      '1',
      '1',
      'Mar 1, 2025, 10:00:00 AM',
      '1 min 45 s',
      '0',
      '0',
      '0',
      '—',
    ]);
    expect(await stateRow(view, resumed, 'CheckCancelled')).toEqual(
      expect.arrayContaining(['CheckCancelled', 'Choice', '9', '90 ms']),
    );

    // The first: opened on request, ended by the pause.
    await toggleOf(view, jobId).click();
    expect(await toggleOf(view, jobId).getAttribute('aria-expanded')).toBe('true');
    await eventually('the first run summary', async () =>
      expect(await text(summaryOf(view, jobId).getByTestId('execution-end'))).toBe(
        'Aborted: SyncPaused — Paused by the user',
      ),
    );
    expect(await text(summaryOf(view, jobId).getByTestId('execution-map'))).toBe(
      '2 worker iterations: 0 succeeded, 0 failed, 2 aborted, 0 stopped by the cancel check; 5 chunks processed',
    );
    // Ids, state names, counts, times and error names only: not even the page's name.
    expect(await text(view)).not.toContain(name);
    expect(await view.getByRole('alert').count()).toBe(0);

    // Complete summaries are final, and a cancelled job with ended executions is not polled: nothing
    // is read again over three seconds (two of the slowest polls). The reads are counted from the
    // view as loaded (a development build, as the tests make it, runs each first read twice).
    const loaded = { status: reads.status, summary: { ...reads.summary } };
    expect(Object.keys(loaded.summary).sort()).toEqual([jobId, resumed].sort());
    await tab.waitForTimeout(3000);
    expect({ status: reads.status, summary: reads.summary }).toEqual(loaded);

    // Close: the hash is cleared and the focus is back on Details.
    await view.getByRole('button', { name: 'Close', exact: true }).click();
    await eventually('the view to close', async () => expect(await view.count()).toBe(0));
    expect(await tab.evaluate('location.hash')).toBe('');
    expect(await focused(tab)).toMatchObject({ action: 'details' });
  }, 120_000);

  it('shows a continued job: its three executions in order, each succeeded', async () => {
    const name = 'Continued page';
    const jobId = '22222222-2222-4222-8222-222222222222';
    const names = [jobId, `${jobId}-messenger1`, `${jobId}-messenger2`];
    const job: JobWithExecutions = {
      ...syncJob({
        id: jobId,
        pageId: '9700000002',
        status: 'COMPLETED',
        phase: 'completed',
        syncedContacts: 900,
        totalContacts: 900,
        progress: 100,
        completedAt: at(300),
      }),
      executions: names.map((n, i) =>
        execution(jobId, n, { status: 'SUCCEEDED', startDate: at(i * 100), stopDate: at(i * 100 + 90) }),
      ),
    };
    const summaries = Object.fromEntries(
      names.map((n, i) => [
        n,
        {
          summary: executionSummary({
            complete: true,
            eventCount: 200 + i,
            states: [stateSummary('ProcessChunks', { type: 'Map' })],
            map: {
              iterations: 4,
              succeeded: 4,
              failed: 0,
              aborted: 0,
              stoppedByCancelCheck: 0,
              chunksProcessed: 12,
            },
            end: { type: 'ExecutionSucceeded', at: at(i * 100 + 90), error: null, cause: null },
          }),
        },
      ]),
    );
    const page = connectedPage('9700000002', name, { contactCount: 900, lastJob: job });
    const { tab } = await openConsole([page], [{ job, summaries }]);
    const view = await openDetails(tab, name, 3);
    expect(await listedNames(view)).toEqual(names);
    expect(await text(view.getByTestId('job-counters'))).toBe('900 synced, 0 failed, 900 total');
    for (const n of names) {
      expect(await text(itemOf(view, n).locator('.execution-status'))).toBe('Succeeded');
      expect(await text(itemOf(view, n).getByTestId('execution-duration'))).toBe('1 min 30 s');
    }
    expect(await toggleOf(view, names[2] as string).getAttribute('aria-expanded')).toBe('true');
    await eventually('the latest summary', async () =>
      expect(await text(summaryOf(view, names[2] as string).getByTestId('execution-end'))).toBe('Succeeded'),
    );
    expect(await text(summaryOf(view, names[2] as string).getByTestId('execution-map'))).toBe(
      '4 worker iterations: 4 succeeded, 0 failed, 0 aborted, 0 stopped by the cancel check; 12 chunks processed',
    );
    await toggleOf(view, names[1] as string).click();
    await eventually('the continuation summary', async () =>
      expect(await text(summaryOf(view, names[1] as string).getByTestId('execution-end'))).toBe('Succeeded'),
    );
    // Escape closes the view too.
    await tab.keyboard.press('Escape');
    // The dialog's close event comes after it is hidden: the hash is cleared then.
    await eventually('the view to close and the hash to clear', async () => {
      expect(await viewOf(tab).count()).toBe(0);
      expect(await tab.evaluate('location.hash')).toBe('');
    });
  }, 120_000);

  it('shows a failed job: its error name, the retries and the errors of each state, and no cause', async () => {
    const name = 'Failed page';
    const jobId = '33333333-3333-4333-8333-333333333333';
    const job: JobWithExecutions = {
      ...syncJob({
        id: jobId,
        pageId: '9700000003',
        status: 'FAILED',
        phase: 'failed',
        syncedContacts: 40,
        totalContacts: 200,
        progress: 20,
        completedAt: at(50),
        error: 'Facebook refused the page token: reconnect the page',
      }),
      executions: [execution(jobId, jobId, { status: 'FAILED', stopDate: at(50) })],
    };
    const summaries = {
      [jobId]: {
        summary: executionSummary({
          complete: true,
          eventCount: 61,
          states: [
            stateSummary('ReadConversations', {
              entered: 1,
              exited: 0,
              lastExitedAt: null,
              totalMs: 0,
              retries: 2,
              failed: 3,
              caught: 1,
              errors: ['GraphRateLimited', 'GraphAuthError'],
            }),
            stateSummary('MarkFailed', { totalMs: 120 }),
          ],
          end: {
            type: 'ExecutionFailed',
            at: at(50),
            error: 'GraphAuthError',
            cause: '{"errorMessage":"a message the view does not show"}',
          },
        }),
      },
    };
    const page = connectedPage('9700000003', name, { contactCount: 40, lastJob: job });
    const { tab } = await openConsole([page], [{ job, summaries }]);
    const view = await openDetails(tab, name, 1);
    expect(await text(view.getByTestId('job-status'))).toBe('Failed');
    expect(await text(itemOf(view, jobId).locator('.execution-status'))).toBe('Failed');
    await eventually('the failed summary', async () =>
      expect(await text(summaryOf(view, jobId).getByTestId('execution-end'))).toBe('Failed: GraphAuthError'),
    );
    expect(await stateRow(view, jobId, 'ReadConversations')).toEqual([
      'ReadConversations',
      'Task',
      '1',
      '0',
      'Mar 1, 2025, 10:00:00 AM',
      '0 ms',
      '2',
      '1',
      '3',
      'GraphRateLimited, GraphAuthError',
    ]);
    expect(await summaryOf(view, jobId).getByTestId('execution-map').count()).toBe(0);
    expect(await text(view)).not.toContain('a message the view does not show');
    expect(await text(view)).not.toContain('reconnect the page');
  }, 120_000);

  it('keeps a running job current: its counters, a new execution and its summary move on the next polls, then stop', async () => {
    const name = 'Running page';
    const jobId = '44444444-4444-4444-8444-444444444444';
    const running = syncJob({
      id: jobId,
      pageId: '9700000004',
      syncedContacts: 10,
      totalContacts: 100,
      progress: 10,
    });
    const fake: FakeJob = {
      job: { ...running, executions: [execution(jobId, jobId)] },
      summaries: {
        [jobId]: {
          summary: executionSummary({
            eventCount: 20,
            states: [
              stateSummary('ProcessChunks', { type: 'Map', exited: 0, lastExitedAt: null, totalMs: 0 }),
            ],
            map: {
              iterations: 2,
              succeeded: 0,
              failed: 0,
              aborted: 0,
              stoppedByCancelCheck: 0,
              chunksProcessed: 1,
            },
          }),
        },
      },
    };
    const page = connectedPage('9700000004', name, { contactCount: 10, activeJob: fake.job });
    const { tab, reads } = await openConsole([page], [fake]);
    const view = await openDetails(tab, name, 1);
    await eventually('the running summary', async () => {
      expect(await text(summaryOf(view, jobId).getByTestId('execution-end'))).toBe('Still running');
      expect(await text(summaryOf(view, jobId).getByTestId('execution-map'))).toContain('1 chunk processed');
    });
    expect(await text(itemOf(view, jobId).getByTestId('execution-duration'))).toMatch(/ so far$/);
    expect(await text(itemOf(view, jobId).locator('.execution-status'))).toBe('Running');

    // The sync moves: the next polls show it.
    fake.job = { ...fake.job, syncedContacts: 40, progress: 40 };
    fake.summaries[jobId] = {
      summary: executionSummary({
        eventCount: 64,
        states: [stateSummary('ProcessChunks', { type: 'Map', exited: 0, lastExitedAt: null, totalMs: 0 })],
        map: {
          iterations: 2,
          succeeded: 0,
          failed: 0,
          aborted: 0,
          stoppedByCancelCheck: 0,
          chunksProcessed: 4,
        },
      }),
    };
    await eventually('the counters and the summary to move', async () => {
      expect(await text(view.getByTestId('job-counters'))).toBe('40 synced, 0 failed, 100 total');
      expect(await text(summaryOf(view, jobId).getByTestId('execution-map'))).toContain('4 chunks processed');
    });

    // It continues in a new execution: listed, and open as the latest.
    const next = `${jobId}-messenger1`;
    fake.job = {
      ...fake.job,
      syncedContacts: 60,
      progress: 60,
      executions: [
        execution(jobId, jobId, { status: 'SUCCEEDED', stopDate: at(80) }),
        execution(jobId, next, { startDate: at(80) }),
      ],
    };
    fake.summaries[jobId] = {
      summary: executionSummary({
        complete: true,
        eventCount: 90,
        map: {
          iterations: 2,
          succeeded: 2,
          failed: 0,
          aborted: 0,
          stoppedByCancelCheck: 0,
          chunksProcessed: 6,
        },
        end: { type: 'ExecutionSucceeded', at: at(80), error: null, cause: null },
      }),
    };
    fake.summaries[next] = { summary: executionSummary({ eventCount: 5 }) };
    await eventually('the continuation', async () => {
      expect(await listedNames(view)).toEqual([jobId, next]);
      expect(await text(summaryOf(view, next).getByTestId('execution-end'))).toBe('Still running');
    });
    expect(await text(itemOf(view, jobId).locator('.execution-status'))).toBe('Succeeded');

    // It completes: both are final, and the polling stops.
    fake.job = {
      ...fake.job,
      status: 'COMPLETED',
      phase: 'completed',
      syncedContacts: 100,
      progress: 100,
      completedAt: at(120),
      executions: [
        execution(jobId, jobId, { status: 'SUCCEEDED', stopDate: at(80) }),
        execution(jobId, next, { status: 'SUCCEEDED', startDate: at(80), stopDate: at(120) }),
      ],
    };
    fake.summaries[next] = {
      summary: executionSummary({
        complete: true,
        eventCount: 40,
        end: { type: 'ExecutionSucceeded', at: at(120), error: null, cause: null },
      }),
    };
    await eventually('the completed job', async () => {
      expect(await text(view.getByTestId('job-status'))).toBe('Completed');
      expect(await text(summaryOf(view, next).getByTestId('execution-end'))).toBe('Succeeded');
    });
    const after = { status: reads.status, summary: { ...reads.summary } };
    await tab.waitForTimeout(3000); // two of the slowest polls
    expect({ status: reads.status, summary: reads.summary }).toEqual(after);
  }, 120_000);

  it('shows a stale summary without an error and reads it again only after its Retry-After, while the job is still polled', async () => {
    const name = 'Throttled page';
    const jobId = '55555555-5555-4555-8555-555555555555';
    const fake: FakeJob = {
      job: {
        ...syncJob({ id: jobId, pageId: '9700000005', syncedContacts: 5, totalContacts: 50, progress: 10 }),
        executions: [execution(jobId, jobId)],
      },
      summaries: {
        [jobId]: {
          stale: true,
          retryAfter: 30,
          summary: executionSummary({
            eventCount: 12,
            map: {
              iterations: 2,
              succeeded: 0,
              failed: 0,
              aborted: 0,
              stoppedByCancelCheck: 0,
              chunksProcessed: 1,
            },
          }),
        },
      },
    };
    const page = connectedPage('9700000005', name, { contactCount: 5, activeJob: fake.job });
    const { tab, reads } = await openConsole([page], [fake]);
    const view = await openDetails(tab, name, 1);
    await eventually('the stale summary', async () => {
      expect(await text(summaryOf(view, jobId).getByTestId('execution-map'))).toContain('1 chunk processed');
      expect(await text(summaryOf(view, jobId).getByTestId('stale-note'))).toContain(
        'Step Functions is busy',
      );
    });
    expect(await view.getByRole('alert').count()).toBe(0);
    expect(await view.locator('.notice').count()).toBe(0);
    const summaryReads = reads.summary[jobId];

    // The job keeps moving and is read again and again; the throttled summary is not.
    const statusReads = reads.status;
    let synced = 5;
    await eventually('three more reads of the job', async () => {
      fake.job = { ...fake.job, syncedContacts: ++synced };
      expect(reads.status).toBeGreaterThanOrEqual(statusReads + 3);
    });
    await eventually('the job to show a new count', async () =>
      expect(await text(view.getByTestId('job-counters'))).not.toBe('5 synced, 0 failed, 50 total'),
    );
    expect(reads.summary[jobId]).toBe(summaryReads);
    expect(await text(summaryOf(view, jobId).getByTestId('stale-note'))).toContain('Step Functions is busy');
  }, 120_000);

  it('opens from #/jobs/<jobId>/executions/<name> with that execution open, opens a console link in a new tab, and clears the hash on close', async () => {
    const name = 'Linked page';
    const jobId = '66666666-6666-4666-8666-666666666666';
    const resumed = `${jobId}-resume1`;
    const job: JobWithExecutions = {
      ...syncJob({ id: jobId, pageId: '9700000006', status: 'PAUSED', phase: 'paused', syncedContacts: 20 }),
      executions: [] as SyncExecution[],
    };
    const page = connectedPage('9700000006', name, { contactCount: 20, activeJob: job });
    const fake: FakeJob = { job, summaries: {} };
    const { ctx, tab, reads } = await openConsole(
      [page],
      [fake],
      `/#/jobs/${jobId}/executions/${encodeURIComponent(jobId)}`,
    );
    // Not listed (yet): the view says so.
    const view = viewOf(tab);
    await eventually('the empty view', async () =>
      expect(await text(view)).toContain('No executions are recorded for this sync.'),
    );
    await view.getByRole('button', { name: 'Close', exact: true }).click();
    expect(await tab.evaluate('location.hash')).toBe('');

    job.executions = [
      execution(jobId, jobId, { status: 'ABORTED', stopDate: at(30) }, origin),
      execution(jobId, resumed, { status: 'ABORTED', startDate: at(40), stopDate: at(70) }, origin),
    ];
    fake.summaries = {
      [jobId]: {
        summary: executionSummary({
          complete: true,
          eventCount: 30,
          end: ABORTED_BY('SyncPaused', 'Paused by the user', 30),
        }),
      },
      [resumed]: {
        summary: executionSummary({
          complete: true,
          eventCount: 30,
          end: ABORTED_BY('SyncPaused', 'Paused by the user', 70),
        }),
      },
    };
    await tab.goto(`${origin}/#/jobs/${jobId}/executions/${jobId}`);
    await eventually('the linked execution open', async () => {
      expect(await toggleOf(view, jobId).getAttribute('aria-expanded')).toBe('true');
      expect(await text(summaryOf(view, jobId).getByTestId('execution-end'))).toBe(
        'Aborted: SyncPaused — Paused by the user',
      );
    });
    expect(await toggleOf(view, resumed).getAttribute('aria-expanded')).toBe('false');
    expect(reads.summary[resumed]).toBeUndefined();
    expect(await focused(tab)).toMatchObject({ text: 'Close' });

    // The local consoleUrl is this same view: the link opens it, on that execution, in a new tab.
    const opened = ctx.waitForEvent('page', { timeout: WAIT_MS });
    await itemOf(view, resumed).getByRole('link').click();
    const other = await opened;
    expect(other.url()).toBe(`${origin}/#/jobs/${jobId}/executions/${resumed}`);
    const otherView = viewOf(other);
    await eventually('the view in the new tab', async () => {
      expect(await toggleOf(otherView, resumed).getAttribute('aria-expanded')).toBe('true');
      expect(await toggleOf(otherView, jobId).getAttribute('aria-expanded')).toBe('false');
    });
    await other.close();

    // Closing clears the hash and leaves the pages.
    await tab.keyboard.press('Escape');
    await eventually('the view to close and the hash to clear', async () => {
      expect(await view.count()).toBe(0);
      expect(await tab.evaluate('location.hash')).toBe('');
    });
    expect(await card(tab, name).count()).toBe(1);

    // A job that is not the caller's (or gone): the API's error, as an alert.
    await tab.goto(`${origin}/#/jobs/77777777-7777-4777-8777-777777777777`);
    await eventually('the error', async () =>
      expect(await text(view.getByRole('alert'))).toBe('Could not load the sync: Job not found'),
    );
  }, 120_000);
});
