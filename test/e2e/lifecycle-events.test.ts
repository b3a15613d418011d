import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ROUTES, routeKey } from '#shared/api/routes.ts';
import { CancelBulkResponse, CancelSyncResponse, ErrorBody, PagesResponse } from '#shared/contract.ts';
import { EVENT_SOURCE, JobEventDetail } from '#shared/events/lifecycle.ts';
import { isActive } from '#shared/job-status.ts';
import type { SimPage } from '../../local/graph-sim/demo-data.ts';
import { e2eStack } from './e2e-stack.ts';
import { PATHS, query, simPages } from './http-client.ts';

/**
 * Lifecycle events, bulk cancel and cleanup, end to end over HTTP on one embedded stack: lifecycle events (the local
 * EventBridge's feed at GET /__local/events), the execution mirror fed by the local Step
 * Functions' status-change events, cancel with cleanup (also racing a new sync of the same page)
 * and bulk cancel. No timing is asserted; every wait is a bounded poll.
 */
const CONTEXT = { chunkSize: 10, mapConcurrency: 2, maxChunksPerSegment: 4 };
const simPage = simPages('9500000000', 'E2E lifecycle');
const totalOf = (page: SimPage) => page.conversations.messenger.length + page.conversations.instagram.length;
const P = {
  full: simPage('full sync', 30, 10),
  cancelled: simPage('cancelled', 150, 0),
  cleanup: simPage('cleanup', 150, 0),
  race: simPage('cleanup race', 150, 20),
  bulkA: simPage('bulk a', 150, 0),
  bulkB: simPage('bulk b', 150, 0),
  idle: simPage('idle', 5, 0),
};
const USER = 'lifecycle-tester';
const e2e = e2eStack({ pages: Object.values(P), context: CONTEXT, analyzerLatencyMs: '30', user: USER });
const { started, waitForJob, contactsOf } = e2e;
const waitForSomeContacts = (jobId: string) =>
  waitForJob(jobId, `job ${jobId} to save contacts`, (j) => j.syncedContacts >= 5 || !isActive(j));

async function cancel(body: Record<string, unknown>) {
  const answer = await e2e.http.post(PATHS.cancel, e2e.token, body);
  expect(answer.status, answer.text).toBe(200);
  return CancelSyncResponse.strict().parse(answer.body);
}

/** The lifecycle events of a job on the local feed, parsed with the documented schema. */
async function lifecycleEvents(jobId: string) {
  const answer = await e2e.http.get(`/__local/events${query({ jobId, source: EVENT_SOURCE })}`);
  expect(answer.status, answer.text).toBe(200);
  return (answer.body as { events: { 'detail-type': string; detail: unknown }[] }).events.map((e) => ({
    type: e['detail-type'],
    detail: JobEventDetail.parse(e.detail),
  }));
}

async function contactCount(pageId: string) {
  const answer = await e2e.http.get(PATHS.pages, e2e.token);
  const page = PagesResponse.strict()
    .parse(answer.body)
    .pages.find((p) => p.id === pageId);
  return page?.contactCount;
}

/** Cancels with cleanup until the cleanup is COMPLETE (bounded); returns every answer. */
async function cancelWithCleanup(jobId: string) {
  const answers: z.infer<typeof CancelSyncResponse>[] = [];
  for (let i = 0; i < 20; i++) {
    const answer = await cancel({ jobId, cleanup: true });
    answers.push(answer);
    if (answer.cleanup?.status === 'COMPLETE') return answers;
  }
  throw new Error(`cleanup of ${jobId} never completed: ${JSON.stringify(answers.at(-1))}`);
}

describe('lifecycle events and the execution mirror', () => {
  it('publishes Started then Completed for a full sync, and the job mirrors SUCCEEDED', async () => {
    const jobId = await started(P.full.id);
    const done = await waitForJob(jobId, 'the sync to complete', (j) => j.status === 'COMPLETED');
    expect(done.syncedContacts).toBe(totalOf(P.full));

    const mirrored = await waitForJob(
      jobId,
      'the mirror to see the end',
      (j) => j.executionStatus === 'SUCCEEDED',
    );
    expect(mirrored.status).toBe('COMPLETED');
    const events = await lifecycleEvents(jobId);
    expect(events.map((e) => e.type)).toEqual(['Sync Job Started', 'Sync Job Completed']);
    expect(events[0]?.detail).toMatchObject({ version: '1', jobId, pageId: P.full.id, status: 'PENDING' });
    expect(events[1]?.detail).toMatchObject({
      status: 'COMPLETED',
      syncedContacts: totalOf(P.full),
      failedContacts: 0,
      totalContacts: totalOf(P.full),
    });
    // Ids, statuses and counters only: no token, no message text.
    const raw = JSON.stringify(events);
    expect(raw).not.toContain(P.full.accessToken);
    expect(raw).not.toMatch(/"(message|messages|accessToken|token)"/);
  });

  it('publishes Cancelled with who and why, and the job mirrors the ABORTED execution', async () => {
    const jobId = await started(P.cancelled.id);
    await waitForSomeContacts(jobId);
    const answer = await cancel({ jobId, reason: 'wrong page' });

    const events = await lifecycleEvents(jobId);
    expect(events.map((e) => e.type)).toEqual(['Sync Job Started', 'Sync Job Cancelled']);
    expect(events[1]?.detail).toMatchObject({
      status: 'CANCELLED',
      cancelledBy: USER,
      cancelReason: 'wrong page',
      syncedContacts: answer.job.syncedContacts,
    });
    const job = await waitForJob(
      jobId,
      'the mirror to see the abort',
      (j) => j.executionStatus === 'ABORTED',
    );
    expect(job.status).toBe('CANCELLED');
    // A repeated cancel is idempotent and publishes nothing more.
    await cancel({ jobId });
    expect((await lifecycleEvents(jobId)).length).toBe(2);
  });
});

describe('cancel with cleanup', () => {
  it('deletes the contacts the job created, keeps the page count right, and re-reports the same totals', async () => {
    const before = await contactCount(P.cleanup.id);
    const jobId = await started(P.cleanup.id);
    await waitForSomeContacts(jobId);

    const answers = await cancelWithCleanup(jobId);
    const report = answers.at(-1)?.cleanup;
    expect(report?.status).toBe('COMPLETE');
    expect(report?.created).toBe(answers[0]?.job.syncedContacts);
    expect(report).toMatchObject({ deleted: report?.created, kept: 0, remaining: 0, untouched: 0 });
    expect(await contactsOf(P.cleanup.id)).toEqual([]);
    expect(await contactCount(P.cleanup.id)).toBe(before);

    // Idempotent: the same totals, nothing else deleted, counters unchanged.
    const again = await cancel({ jobId, cleanup: true });
    expect(again.cleanup).toEqual(report);
    expect(again.job).toEqual(answers[0]?.job);
    // Without cleanup the answer keeps its original shape.
    expect(await cancel({ jobId })).not.toHaveProperty('cleanup');
  });

  // Two syncs of the page one after the other take about 19 s on 2 cores: the default 20 s is too tight.
  it('never deletes a contact that a concurrent new sync of the page has written', {
    timeout: 60_000,
  }, async () => {
    const first = await started(P.race.id);
    await waitForSomeContacts(first);
    const cancelled = await cancel({ jobId: first });
    expect(cancelled.job.status).toBe('CANCELLED');

    // The page is free at once: a new sync runs while the first job's cleanup deletes.
    const second = await started(P.race.id);
    const [answers] = await Promise.all([
      (async () => {
        await waitForJob(second, 'the new sync to write', (j) => j.syncedContacts > 0 || !isActive(j));
        return cancelWithCleanup(first);
      })(),
      waitForJob(second, 'the new sync to complete', (j) => j.status === 'COMPLETED'),
    ]);
    const done = await waitForJob(second, 'the new sync to complete', (j) => j.status === 'COMPLETED');
    const report = answers.at(-1)?.cleanup;
    expect(report?.status).toBe('COMPLETE');
    expect((report?.deleted ?? 0) + (report?.kept ?? 0)).toBe(report?.created);
    expect(report?.created).toBe(cancelled.job.syncedContacts);

    // The new sync's data is whole: every conversation is a contact it wrote, and the count agrees.
    const contacts = await contactsOf(P.race.id);
    expect(done.syncedContacts).toBe(totalOf(P.race));
    expect(contacts.length).toBe(totalOf(P.race));
    expect(contacts.every((c) => c.lastSyncJobId === second)).toBe(true);
    // A contact the first job created and the second updated was kept, with its creator.
    expect(contacts.filter((c) => c.createdByJobId === first).length).toBe(report?.kept);
    expect(await contactCount(P.race.id)).toBe(totalOf(P.race));
  });
});

describe(routeKey('cancelSyncBulk'), () => {
  it('stops several pages at once, one result each, and is idempotent', async () => {
    const a = await started(P.bulkA.id);
    const b = await started(P.bulkB.id);
    const missing = '9599999999999';
    const body = { pageIds: [P.bulkA.id, P.bulkB.id, P.idle.id, missing], reason: 'bulk stop' };

    const answer = await e2e.http.post(ROUTES.cancelSyncBulk.path, e2e.token, body);
    expect(answer.status, answer.text).toBe(200);
    const { results, hasMore } = CancelBulkResponse.strict().parse(answer.body);
    expect(hasMore).toBe(false);
    expect(results.map((r) => [r.pageId, r.jobId, r.outcome])).toEqual([
      [P.bulkA.id, a, 'cancelled'],
      [P.bulkB.id, b, 'cancelled'],
      [P.idle.id, null, 'not-active'],
      [missing, null, 'not-found'],
    ]);
    for (const jobId of [a, b]) {
      const job = await e2e.job(jobId);
      expect(job).toMatchObject({ status: 'CANCELLED', cancelledBy: USER, cancelReason: 'bulk stop' });
      const result = results.find((r) => r.jobId === jobId);
      expect(result?.job?.syncedContacts).toBe(job.syncedContacts);
      expect((await lifecycleEvents(jobId)).map((e) => e.type)).toContain('Sync Job Cancelled');
    }

    const repeated = CancelBulkResponse.parse(
      (await e2e.http.post(ROUTES.cancelSyncBulk.path, e2e.token, body)).body,
    );
    expect(repeated.results.map((r) => r.outcome)).toEqual([
      'already-cancelled',
      'already-cancelled',
      'not-active',
      'not-found',
    ]);
    // Nothing left to stop in the organization... for these pages: `all` finds none of them.
    const all = CancelBulkResponse.parse(
      (await e2e.http.post(ROUTES.cancelSyncBulk.path, e2e.token, { all: true })).body,
    );
    expect(all.results.filter((r) => [P.bulkA.id, P.bulkB.id].includes(r.pageId))).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    ['neither pageIds nor all', {}, 'Give exactly one of pageIds and all'],
    ['both pageIds and all', { pageIds: [P.idle.id], all: true }, 'Give exactly one of pageIds and all'],
    [
      'more than 100 pageIds',
      { pageIds: Array.from({ length: 101 }, (_, i) => String(i + 1)) },
      'pageIds must have at most 100 ids',
    ],
  ])('answers 400 for %s', async (_case, body, error) => {
    const answer = await e2e.http.post(ROUTES.cancelSyncBulk.path, e2e.token, body);
    expect(answer.status, answer.text).toBe(400);
    expect(ErrorBody.strict().parse(answer.body).error).toBe(error);
  });
});
