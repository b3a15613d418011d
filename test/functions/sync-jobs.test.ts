import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { routeKey } from '#shared/api/routes.ts';
import { SyncJobsResponse } from '#shared/contract.ts';
import { handler } from '../../functions/sync-jobs/handler.ts';
import { CALLER, type EventInit, expectError, expectInternalError, routeCaller } from './event.ts';
import {
  ddbMock,
  expectRefused,
  givenJobsListed,
  givenPage,
  JOBS_TABLE,
  PAGE_ID,
  resetAwsMocks,
  storedJob,
  storedPage,
} from './fixtures.ts';

/** The page's history as the byPage index answers it: newest first. */
const NEWEST = storedJob({
  jobId: '00000000-0000-4000-8000-000000000003',
  createdAt: '2026-01-03T00:00:00.000Z',
});
const MIDDLE = storedJob({
  jobId: '00000000-0000-4000-8000-000000000002',
  status: 'CANCELLED',
  phase: 'cancelled',
  createdAt: '2026-01-02T00:00:00.000Z',
  completedAt: '2026-01-02T00:01:00.000Z',
  cancelledBy: CALLER.sub,
  cancelReason: 'wrong page',
});
const OLDEST = storedJob({
  jobId: '00000000-0000-4000-8000-000000000001',
  status: 'COMPLETED',
  phase: 'done',
  createdAt: '2026-01-01T00:00:00.000Z',
  completedAt: '2026-01-01T00:05:00.000Z',
});

const getJobs = routeCaller(handler, 'syncJobs');
const listJobs = (
  query: Record<string, string> | undefined,
  init: Pick<EventInit, 'claims' | 'headers'> = {},
) => getJobs(undefined, { query, ...init });

beforeEach(() => {
  resetAwsMocks();
  givenPage(storedPage());
  givenJobsListed(NEWEST, MIDDLE, OLDEST);
});

describe(routeKey('syncJobs'), () => {
  it("returns 200 with the page's jobs, newest first, as the byPage index orders them", async () => {
    const reply = await listJobs({ pageId: PAGE_ID });

    expect(reply.statusCode).toBe(200);
    const { jobs } = SyncJobsResponse.parse(reply.body);
    expect(jobs.map((j) => j.id)).toEqual([NEWEST.jobId, MIDDLE.jobId, OLDEST.jobId]);
    expect(jobs[1]).toMatchObject({
      status: 'CANCELLED',
      cancelledBy: CALLER.sub,
      cancelReason: 'wrong page',
    });
    expect(ddbMock).toReceiveCommandWith(QueryCommand, {
      TableName: JOBS_TABLE,
      IndexName: 'byPage',
      KeyConditionExpression: 'pageId = :p',
      FilterExpression: 'organizationId = :o',
      ExpressionAttributeValues: { ':p': PAGE_ID, ':o': CALLER.org_id },
      ScanIndexForward: false,
    });
  });

  it('shows each job as sync-status does, without internals', async () => {
    const reply = await listJobs({ pageId: PAGE_ID });

    expect(reply.statusCode).toBe(200);
    expect(reply.raw).not.toContain(CALLER.org_id);
    expect(reply.raw).not.toContain('createdBy');
    expect(reply.raw).not.toContain('listed');
    expect(reply.raw).not.toContain('seenWatermarks');
  });

  it("leaves out the jobs of another organization from the page's history", async () => {
    const previousOwners = storedJob({
      jobId: '00000000-0000-4000-8000-0000000000b2',
      organizationId: 'org-2',
      cancelReason: 'internal reason of org-2',
    });
    givenJobsListed(NEWEST, previousOwners, OLDEST);

    const reply = await listJobs({ pageId: PAGE_ID });

    expect(reply.statusCode).toBe(200);
    expect(SyncJobsResponse.parse(reply.body).jobs.map((j) => j.id)).toEqual([NEWEST.jobId, OLDEST.jobId]);
    expect(reply.raw).not.toContain('internal reason of org-2');
  });

  it('returns an empty list for a page that has never synced', async () => {
    givenJobsListed();

    const reply = await listJobs({ pageId: PAGE_ID });

    expect(reply.statusCode).toBe(200);
    expect(reply.body).toEqual({ jobs: [] });
  });

  it.each<[string, Record<string, string>, number]>([
    ['20 by default', { pageId: PAGE_ID }, 20],
    ['the limit asked for', { pageId: PAGE_ID, limit: '5' }, 5],
    ['100 at the most', { pageId: PAGE_ID, limit: '100' }, 100],
  ])('queries %s jobs', async (_case, query, limit) => {
    await listJobs(query);

    expect(ddbMock).toReceiveCommandWith(QueryCommand, { TableName: JOBS_TABLE, Limit: limit });
  });

  it.each<[string, Record<string, string> | undefined, string]>([
    ['there is no query string', undefined, 'pageId is required'],
    ['pageId is missing', { limit: '5' }, 'pageId is required'],
    ['pageId is blank', { pageId: ' ' }, 'pageId is required'],
    ['pageId is not numeric', { pageId: 'my-page' }, 'pageId must be a numeric Facebook id'],
    ['limit is 0', { pageId: PAGE_ID, limit: '0' }, 'limit must be at least 1'],
    ['limit is 101', { pageId: PAGE_ID, limit: '101' }, 'limit must be at most 100'],
    ['limit is not a number', { pageId: PAGE_ID, limit: 'abc' }, 'limit must be a number'],
  ])('returns 400 and reads nothing when %s', async (_case, query, error) => {
    const reply = await listJobs(query);

    expectRefused(reply, 400, error);
  });

  it("returns 403 and reads no history for another organization's page", async () => {
    givenPage(storedPage({ organizationId: 'org-2' }));

    const reply = await listJobs({ pageId: PAGE_ID });

    expectError(reply, 403, 'Page belongs to another organization');
    expect(ddbMock).not.toReceiveCommand(QueryCommand);
  });

  it('returns the same 403 for a page that is not connected, so that existence is not leaked', async () => {
    const otherOrganizations = await listJobs(
      { pageId: PAGE_ID },
      { claims: { sub: 'user-9', org_id: 'org-9' } },
    );
    givenPage(undefined);

    const missing = await listJobs({ pageId: '100000000000404' });

    expect(missing.statusCode).toBe(403);
    expect(otherOrganizations.statusCode).toBe(403);
    expect(missing.raw).toBe(otherOrganizations.raw);
    expect(ddbMock).not.toReceiveCommand(QueryCommand);
  });

  it('returns 500 with a fixed body when the history query fails', async () => {
    ddbMock.on(QueryCommand).rejects(new Error(`ValidationException: no index byPage on ${JOBS_TABLE}`));

    const reply = await listJobs({ pageId: PAGE_ID });

    expectInternalError(reply);
  });
});
