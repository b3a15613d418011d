import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { routeKey } from '#shared/api/routes.ts';
import { SyncStatusResponse } from '#shared/contract.ts';
import type { SyncJob } from '#shared/sync/job.ts';
import { SHOWN_JOB } from '#test/shared/sync/sync-job.ts';
import { handler } from '../../functions/sync-status/handler.ts';
import { CALLER, expectError, routeCaller } from './event.ts';
import {
  ddbMock,
  expectRefused,
  givenJob,
  JOB_ID,
  JOBS_TABLE,
  PAGE_ID,
  resetAwsMocks,
  storedJob,
} from './fixtures.ts';

/** Just started: nothing discovered, nothing counted. */
function freshJob(overrides: Partial<SyncJob> = {}): SyncJob {
  return storedJob({
    phase: 'syncing:messenger',
    syncedContacts: 0,
    failedContacts: 0,
    totalContacts: 0,
    listComplete: undefined,
    updatedAt: '2026-01-01T00:00:02.000Z',
    executionArn: `arn:aws:states:us-east-1:000000000000:execution:ContactSyncTest:${JOB_ID}`,
    stopExecutionOutcome: 'STOPPED',
    ...overrides,
  });
}

const getStatus = routeCaller(handler, 'syncStatus');
const status = (query: Record<string, string> | undefined) => getStatus(undefined, query ? { query } : {});

beforeEach(resetAwsMocks);

describe(routeKey('syncStatus'), () => {
  it('returns 200 with the job and a null progress before any discovery', async () => {
    givenJob(freshJob());

    const reply = await status({ jobId: JOB_ID });

    expect(reply.statusCode).toBe(200);
    expect(SyncStatusResponse.parse(reply.body)).toEqual(reply.body);
    expect(reply.body).toEqual({
      job: { ...SHOWN_JOB, id: JOB_ID, pageId: PAGE_ID, startedAt: '2026-01-01T00:00:01.000Z' },
    });
    expect(ddbMock).toReceiveCommandWith(GetCommand, {
      TableName: JOBS_TABLE,
      Key: { jobId: JOB_ID, sk: 'JOB' },
    });
  });

  it('returns an integer progress once the total is known', async () => {
    givenJob(
      freshJob({
        phase: 'syncing:messenger',
        listComplete: true,
        syncedContacts: 20,
        failedContacts: 1,
        totalContacts: 30,
      }),
    );

    const reply = await status({ jobId: JOB_ID });

    expect(reply.statusCode).toBe(200);
    const { job } = reply.body as { job: { progress: unknown } };
    expect(job.progress).toBe(70);
    expect(Number.isInteger(job.progress)).toBe(true);
  });

  it('shows who cancelled and why, and never internals', async () => {
    givenJob(
      freshJob({
        status: 'CANCELLED',
        phase: 'cancelled',
        listComplete: true,
        syncedContacts: 4,
        totalContacts: 10,
        completedAt: '2026-01-01T00:01:00.000Z',
        cancelledBy: 'user-2',
        cancelReason: 'wrong page',
      }),
    );

    const reply = await status({ jobId: JOB_ID });

    expect(reply.body).toMatchObject({
      job: { status: 'CANCELLED', progress: 40, cancelledBy: 'user-2', cancelReason: 'wrong page' },
    });
    expect(reply.raw).not.toContain('arn:aws:states');
    expect(reply.raw).not.toContain(CALLER.org_id);
  });

  it.each<[string, Record<string, string> | undefined]>([
    ['there is no query string', undefined],
    ['jobId is absent', { pageId: PAGE_ID }],
    ['jobId is empty', { jobId: '' }],
  ])('returns 400 "jobId is required" and reads nothing when %s', async (_case, query) => {
    const reply = await status(query);

    expectRefused(reply, 400, 'jobId is required');
  });

  it.each(['job-1', '00000000-0000-4000-8000-000000000001#JOB', 'z'.repeat(200)])(
    'returns 400 "jobId must be a UUID" and reads nothing when jobId is %s',
    async (jobId) => {
      const reply = await status({ jobId });

      expectRefused(reply, 400, 'jobId must be a UUID');
    },
  );

  it('returns 404, with the security headers and no-store, when the job does not exist', async () => {
    givenJob(undefined);

    const reply = await status({ jobId: '00000000-0000-4000-8000-000000000404' });

    expectError(reply, 404, 'Sync job not found');
  });

  it('returns 403 without the job when it belongs to another organization', async () => {
    givenJob(freshJob({ organizationId: 'org-2', cancelReason: 'secret reason' }));

    const reply = await status({ jobId: JOB_ID });

    expectError(reply, 403, 'Sync job belongs to another organization');
    expect(reply.raw).not.toContain(PAGE_ID);
  });
});
