import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { routeKey } from '#shared/api/routes.ts';
import { ConflictBody, StartSyncResponse } from '#shared/contract.ts';
import type { JobStatus } from '#shared/job-status.ts';
import { handler } from '../../functions/retry-sync/handler.ts';
import { CALLER, expectError, routeCaller } from './event.ts';
import {
  ddbMock,
  expectRefused,
  givenJob,
  givenPage,
  INVALID_JOB_BODIES,
  itRefusesJobsIn,
  JOB_ID,
  JOBS_TABLE,
  PAGE_ID,
  pageLockConflict,
  putJob,
  resetAwsMocks,
  sfnMock,
  storedJob,
  storedPage,
  UUID,
} from './fixtures.ts';

const retry = routeCaller(handler, 'retrySync');

beforeEach(resetAwsMocks);

describe(routeKey('retrySync'), () => {
  it.each<[string, unknown, string]>([
    ...INVALID_JOB_BODIES,
    ['the body names a page', { jobId: JOB_ID, pageId: PAGE_ID }, 'Unrecognized key: "pageId"'],
  ])('returns 400 and reads nothing when %s', async (_case, body, error) => {
    expectRefused(await retry(body), 400, error);
  });

  it('returns 404 when the job does not exist', async () => {
    givenJob(undefined);

    expectError(await retry({ jobId: JOB_ID }), 404, 'Sync job not found');
    expect(ddbMock).not.toReceiveCommand(TransactWriteCommand);
  });

  it('returns 403 and creates nothing when the job belongs to another organization', async () => {
    givenJob(storedJob({ status: 'FAILED', organizationId: 'org-2' }));

    expectError(await retry({ jobId: JOB_ID }), 403, 'Sync job belongs to another organization');
    expect(ddbMock).not.toReceiveCommand(TransactWriteCommand);
  });

  itRefusesJobsIn(
    ['PENDING', 'IN_PROGRESS', 'PAUSED', 'COMPLETED'],
    'returns 400 and creates nothing when the job is %s',
    ['retry', retry],
    TransactWriteCommand,
  );

  it.each<JobStatus>(['FAILED', 'CANCELLED'])(
    'returns 202 with a new PENDING job linked to the %s one, started like any sync',
    async (status) => {
      givenJob(storedJob({ status, completedAt: '2026-01-01T00:05:00.000Z' }));
      givenPage(storedPage());
      sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
        executionArn: `arn:aws:states:us-east-1:000000000000:execution:ContactSyncTest:${input.name}`,
      }));

      const reply = await retry({ jobId: JOB_ID });

      expect(reply.statusCode).toBe(202);
      const body = StartSyncResponse.strict().parse(reply.body);
      expect(body.jobId).toMatch(UUID);
      expect(body.jobId).not.toBe(JOB_ID);
      expect(putJob()).toMatchObject({
        jobId: body.jobId,
        pageId: PAGE_ID,
        organizationId: CALLER.org_id,
        status: 'PENDING',
        syncedContacts: 0,
        resumedFrom: JOB_ID,
      });
      expect(sfnMock).toReceiveCommandWith(StartExecutionCommand, { name: body.jobId });
    },
  );

  it('returns 409 with the active job id when another sync holds the page', async () => {
    const active = '00000000-0000-4000-8000-000000000099';
    givenJob(storedJob({ status: 'CANCELLED' }));
    givenPage(storedPage(), storedPage({ activeJobId: active }));
    ddbMock.on(GetCommand, { TableName: JOBS_TABLE, Key: { jobId: active, sk: 'JOB' } }).resolves({
      Item: storedJob({ jobId: active, status: 'IN_PROGRESS' }),
    });
    ddbMock.on(TransactWriteCommand).rejects(pageLockConflict());

    const reply = await retry({ jobId: JOB_ID });

    expect(reply.statusCode).toBe(409);
    expect(ConflictBody.parse(reply.body)).toEqual({
      error: 'A sync is already running for this page',
      activeJobId: active,
    });
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it('returns 404 when the page of the job is no longer connected', async () => {
    givenJob(storedJob({ status: 'FAILED' }));
    givenPage(undefined);

    expectError(await retry({ jobId: JOB_ID }), 404, 'Page not connected');
  });
});
