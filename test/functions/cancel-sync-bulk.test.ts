import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { routeKey } from '#shared/api/routes.ts';
import { handler } from '../../functions/cancel-sync-bulk/handler.ts';
import { CALLER, type Reply, routeCaller } from './event.ts';
import {
  CANCEL_COMMIT,
  cancelledJob,
  ddbMock,
  expectRefused,
  givenActiveSync,
  givenJob,
  givenJobsById,
  givenJobsListed,
  givenPage,
  givenPagesById,
  givenPagesListed,
  givenRefusedCommit,
  JOB_ID,
  JOBS_TABLE,
  PAGE_ID,
  resetAwsMocks,
  sfnMock,
  storedJob,
  storedPage,
} from './fixtures.ts';

/**
 * The route `cancelSyncBulk` on its own (the end-to-end test runs it on a local stack):
 * the body's rules, one result per page whatever each page's outcome, and the single cancel's
 * commit point reused for each active job.
 */
const bulk = routeCaller(handler, 'cancelSyncBulk');
const resultsOf = (reply: Reply) =>
  (reply.body as { results: { pageId: string; outcome: string; jobId: string | null }[] }).results;

beforeEach(resetAwsMocks);

describe(`${routeKey('cancelSyncBulk')}: input`, () => {
  it.each<[string, unknown]>([
    ['neither pageIds nor all', {}],
    ['both pageIds and all', { pageIds: [PAGE_ID], all: true }],
    ['an empty pageIds', { pageIds: [] }],
    [
      'more than 100 pageIds',
      { pageIds: Array.from({ length: 101 }, (_, i) => String(100000000000100 + i)) },
    ],
    ['a page id that is not numeric', { pageIds: ['abc'] }],
    ['all: false', { all: false }],
    ['an unknown field', { pageIds: [PAGE_ID], force: true }],
  ])('answers 400 {error} and touches nothing for %s', async (_case, body) => {
    const reply = await bulk(body);

    expect(reply.body).toEqual({ error: expect.any(String) });
    expectRefused(reply, 400, (reply.body as { error: string }).error);
  });
});

describe(`${routeKey('cancelSyncBulk')}: outcomes`, () => {
  it('cancels an active sync through the commit point and stops its execution', async () => {
    givenActiveSync();

    const reply = await bulk({ pageIds: [PAGE_ID], reason: 'closing the shop' });

    expect(reply.statusCode).toBe(200);
    expect(resultsOf(reply)).toEqual([
      expect.objectContaining({ pageId: PAGE_ID, jobId: JOB_ID, outcome: 'cancelled' }),
    ]);
    expect(ddbMock).toReceiveCommandWith(UpdateCommand, {
      ...CANCEL_COMMIT,
      Key: { jobId: JOB_ID, sk: 'JOB' },
    });
    expect(sfnMock).toReceiveCommandTimes(StopExecutionCommand, 1);
  });

  it('answers one result per page: not found, another organization, not active', async () => {
    const other = '100000000000002';
    const idle = '100000000000003';
    givenJobsListed(storedJob({ pageId: idle, status: 'COMPLETED' }));
    givenPagesById(
      storedPage({ pageId: other, organizationId: 'other-org', activeJobId: JOB_ID }),
      storedPage({ pageId: idle }),
    );

    const reply = await bulk({ pageIds: [PAGE_ID, other, idle, idle] });

    expect(reply.statusCode).toBe(200);
    const results = resultsOf(reply);
    expect(results.map((r) => [r.pageId, r.outcome])).toEqual([
      [PAGE_ID, 'not-found'],
      [other, 'forbidden'],
      [idle, 'not-active'],
    ]);
    // Nothing of another organization's is touched, and no execution is stopped.
    expect(ddbMock).not.toReceiveCommand(UpdateCommand);
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it('reports a job that completed before its cancel as finished, and keeps its result', async () => {
    givenPage(storedPage({ activeJobId: JOB_ID }));
    givenJob(storedJob());
    givenRefusedCommit(storedJob({ status: 'COMPLETED', completedAt: '2026-01-01T00:03:00.000Z' }));

    const reply = await bulk({ pageIds: [PAGE_ID] });

    expect(reply.statusCode).toBe(200);
    expect(resultsOf(reply)).toEqual([
      expect.objectContaining({ pageId: PAGE_ID, jobId: JOB_ID, outcome: 'finished' }),
    ]);
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it("with all, stops the organization's active syncs; a page that fails answers error, without internals", async () => {
    const second = '100000000000002';
    const secondJob = '00000000-0000-4000-8000-000000000002';
    givenPagesListed(
      storedPage({ activeJobId: JOB_ID, pageName: 'A page' }),
      storedPage({ pageId: second, activeJobId: secondJob, pageName: 'B page' }),
      storedPage({ pageId: '100000000000003', pageName: 'C page (idle)' }),
    );
    givenJobsById(storedJob(), storedJob({ jobId: secondJob, pageId: second }));
    ddbMock
      .on(UpdateCommand, { ...CANCEL_COMMIT, Key: { jobId: JOB_ID, sk: 'JOB' } })
      .resolves({ Attributes: cancelledJob() });
    ddbMock
      .on(UpdateCommand, { ...CANCEL_COMMIT, Key: { jobId: secondJob, sk: 'JOB' } })
      .rejects(new Error(`Requested resource not found: ${JOBS_TABLE}`));

    const reply = await bulk({ all: true, reason: 'maintenance' });

    expect(reply.statusCode).toBe(200);
    expect(reply.raw).not.toContain(JOBS_TABLE);
    expect((reply.body as { hasMore: boolean }).hasMore).toBe(false);
    expect(resultsOf(reply).map((r) => [r.pageId, r.jobId, r.outcome])).toEqual([
      [PAGE_ID, JOB_ID, 'cancelled'],
      [second, secondJob, 'error'],
    ]);
    expect(CALLER.org_id).toBe(storedPage().organizationId);
  });
});
