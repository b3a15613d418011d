import { TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { ExecutionDoesNotExist, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { routeKey } from '#shared/api/routes.ts';
import { CancelSyncResponse } from '#shared/contract.ts';
import { BUSY_MESSAGE } from '#shared/http.ts';
import type { JobStatus } from '#shared/job-status.ts';
import { handler } from '../../functions/cancel-sync/handler.ts';
import { expectError, expectInternalError, routeCaller, setFields } from './event.ts';
import {
  CANCEL_COMMIT,
  cancelledJob,
  commitInput,
  ddbMock,
  expectCancelCommit,
  expectLockReleased,
  expectOnlyTheRefusedCommit,
  expectRefused,
  givenCancellable,
  givenJob,
  givenRefusedCommit,
  JOB_ID,
  JOBS_TABLE,
  PAGES_TABLE,
  resetAwsMocks,
  sfnMock,
  storedJob,
  throughputExceeded,
  updateInputs,
} from './fixtures.ts';

const DERIVED_ARN = `arn:aws:states:us-east-1:000000000000:execution:ContactSyncTest:${JOB_ID}`;

const cancel = routeCaller(handler, 'cancelSync');

/** The answer to a cancel of JOB_ID (of the 40 contacts storedJob lists), with its final counters. */
const cancelAnswer = (job: { syncedContacts: number; failedContacts: number; completedAt: string }) => ({
  success: true,
  job: { id: JOB_ID, status: 'CANCELLED', totalContacts: 40, ...job },
});

beforeEach(resetAwsMocks);

describe(`${routeKey('cancelSync')}: input`, () => {
  it.each<[string, unknown]>([
    ['there is no body', undefined],
    ['the body is empty', ''],
    ['the body is {}', {}],
    ['jobId is null', { jobId: null }],
    ['jobId is not a string', { jobId: 7 }],
    ['jobId is empty', { jobId: '' }],
    ['jobId is blank', { jobId: '   ' }],
  ])('returns 400 "jobId is required" when %s', async (_case, body) => {
    const reply = await cancel(body);

    expectRefused(reply, 400, 'jobId is required');
  });

  it.each<[string, unknown, string]>([
    ['jobId is not a UUID', { jobId: 'job-1' }, 'jobId must be a UUID'],
    ['jobId carries a key suffix', { jobId: `${JOB_ID}#FAILED` }, 'jobId must be a UUID'],
    ['reason is not a string', { jobId: JOB_ID, reason: 5 }, 'reason must be a string'],
    ['the body has an unknown key', { jobId: JOB_ID, status: 'CANCELLED' }, 'Unrecognized key: "status"'],
    [
      'several fields are invalid',
      { jobId: 'x', reason: 5 },
      'jobId must be a UUID; reason must be a string',
    ],
    [
      'the reason is longer than 500 characters',
      { jobId: JOB_ID, reason: 'x'.repeat(501) },
      'reason must be at most 500 characters',
    ],
  ])('returns 400 naming the field and reads nothing when %s', async (_case, body, error) => {
    const reply = await cancel(body);

    expectRefused(reply, 400, error);
  });

  it('accepts a reason of exactly 500 characters and stores it', async () => {
    const reason = 'r'.repeat(500);
    givenCancellable(cancelledJob({ cancelReason: reason }));

    const reply = await cancel({ jobId: JOB_ID, reason });

    expect(reply.statusCode).toBe(200);
    expect(setFields(commitInput())).toMatchObject({ cancelReason: reason });
  });
});

describe(`${routeKey('cancelSync')}: the job`, () => {
  it('returns 404 when the job does not exist', async () => {
    givenRefusedCommit(undefined);

    const reply = await cancel({ jobId: '00000000-0000-4000-8000-000000000404' });

    expectError(reply, 404, 'Sync job not found');
    expectOnlyTheRefusedCommit('00000000-0000-4000-8000-000000000404');
  });

  it('returns 403 and changes nothing when the job belongs to another organization', async () => {
    givenRefusedCommit(storedJob({ organizationId: 'org-2' }));

    const reply = await cancel({ jobId: JOB_ID });

    expectError(reply, 403, 'Sync job belongs to another organization');
    expectOnlyTheRefusedCommit();
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it.each<JobStatus>(['COMPLETED', 'FAILED'])(
    'returns 400 and changes nothing when the job is %s',
    async (status) => {
      givenRefusedCommit(storedJob({ status, completedAt: '2026-01-01T00:05:00.000Z' }));

      const reply = await cancel({ jobId: JOB_ID });

      expectError(reply, 400, `Cannot cancel job with status: ${status}`);
      expectOnlyTheRefusedCommit();
      expect(sfnMock).not.toReceiveAnyCommand();
    },
  );

  it('returns 200 with the stored job and writes nothing when the job is already CANCELLED', async () => {
    givenRefusedCommit(
      cancelledJob({ syncedContacts: 11, failedContacts: 3, completedAt: '2025-12-31T23:59:59.000Z' }),
    );

    const reply = await cancel({ jobId: JOB_ID, reason: 'again' });

    expect(reply.statusCode).toBe(200);
    expect(CancelSyncResponse.strict().parse(reply.body)).toEqual(
      cancelAnswer({ syncedContacts: 11, failedContacts: 3, completedAt: '2025-12-31T23:59:59.000Z' }),
    );
    expectOnlyTheRefusedCommit();
    expect(sfnMock).not.toReceiveAnyCommand();
  });
});

describe(`${routeKey('cancelSync')}: the commit point`, () => {
  it.each<JobStatus>(['PENDING', 'IN_PROGRESS', 'PAUSED'])(
    'cancels a %s job with one update conditional on PENDING, IN_PROGRESS or PAUSED',
    async (status) => {
      givenCancellable(cancelledJob({ cancelReason: 'wrong page' }), storedJob({ status }));

      const reply = await cancel({ jobId: JOB_ID, reason: 'wrong page' });

      expect(reply.statusCode).toBe(200);
      expect(ddbMock).toReceiveCommandWith(UpdateCommand, {
        TableName: JOBS_TABLE,
        Key: { jobId: JOB_ID, sk: 'JOB' },
        ConditionExpression: expect.stringContaining('#status IN ('),
        ExpressionAttributeNames: expect.objectContaining({ '#status': 'status' }),
      });
      expectCancelCommit(commitInput(), 'wrong page');
    },
  );

  it('answers with the counters and completedAt the commit wrote', async () => {
    // A contact committed between the read and the cancel: the written item is the truth.
    givenCancellable(cancelledJob({ syncedContacts: 8 }));

    const reply = await cancel({ jobId: JOB_ID });

    expect(reply.statusCode).toBe(200);
    expect(CancelSyncResponse.strict().parse(reply.body)).toEqual(
      cancelAnswer({ syncedContacts: 8, failedContacts: 2, completedAt: '2026-01-01T00:02:00.000Z' }),
    );
  });

  it('releases the page lock held by the job', async () => {
    givenCancellable();

    await cancel({ jobId: JOB_ID });

    expectLockReleased(JOB_ID);
  });

  it('returns 400 with the winner status when completion commits first', async () => {
    givenRefusedCommit(storedJob({ status: 'COMPLETED', completedAt: '2026-01-01T00:03:00.000Z' }));

    const reply = await cancel({ jobId: JOB_ID });

    expectError(reply, 400, 'Cannot cancel job with status: COMPLETED');
    expect(sfnMock).not.toReceiveAnyCommand();
    expect(ddbMock).not.toReceiveCommandWith(UpdateCommand, { TableName: PAGES_TABLE });
  });

  it('returns 200 with the stored job when another cancel commits first', async () => {
    givenRefusedCommit(cancelledJob({ cancelledBy: 'user-2', syncedContacts: 9 }));

    const reply = await cancel({ jobId: JOB_ID });

    expect(reply.statusCode).toBe(200);
    expect(reply.body).toMatchObject({ success: true, job: { status: 'CANCELLED', syncedContacts: 9 } });
  });
});

describe(`${routeKey('cancelSync')}: stopping the execution`, () => {
  const stopOutcome = () =>
    updateInputs()
      .map(setFields)
      .find((fields) => 'stopExecutionOutcome' in fields)?.stopExecutionOutcome;

  it('stops the execution recorded on the job, and leaves the STOPPED record to the execution mirror', async () => {
    const executionArn = 'arn:aws:states:us-east-1:000000000000:execution:ContactSyncTest:recorded';
    givenCancellable(cancelledJob({ executionArn }), storedJob({ executionArn }));

    const reply = await cancel({ jobId: JOB_ID });

    expect(reply.statusCode).toBe(200);
    expect(sfnMock).toReceiveCommandTimes(StopExecutionCommand, 1);
    expect(sfnMock).toReceiveCommandWith(StopExecutionCommand, { executionArn });
    // The ABORTED status change records it (mirror-execution.test.ts): one write of the job
    // item before the answer, the commit.
    expect(stopOutcome()).toBeUndefined();
    expect(updateInputs().filter((input) => input.TableName === JOBS_TABLE)).toHaveLength(1);
  });

  it('derives the execution ARN from the state machine and the job id when none is recorded', async () => {
    givenCancellable(cancelledJob(), storedJob({ status: 'PENDING' }));

    await cancel({ jobId: JOB_ID });

    expect(sfnMock).toReceiveCommandWith(StopExecutionCommand, { executionArn: DERIVED_ARN });
  });

  it.each([
    [
      'the execution does not exist',
      new ExecutionDoesNotExist({ message: 'no such execution', $metadata: {} }),
      'NO_EXECUTION',
    ],
    ['StopExecution fails', new Error('socket hang up'), 'FAILED: Error'],
  ])(
    'still answers 200 CANCELLED and records the outcome itself when %s (no event will come)',
    async (_case, error, outcome) => {
      givenCancellable();
      sfnMock.on(StopExecutionCommand).rejects(error);

      const reply = await cancel({ jobId: JOB_ID });

      expect(reply.statusCode).toBe(200);
      expect(reply.body).toMatchObject({ success: true, job: { id: JOB_ID, status: 'CANCELLED' } });
      expect(stopOutcome()).toBe(outcome);
      expectLockReleased(JOB_ID);
    },
  );
});

describe(`${routeKey('cancelSync')}: failures`, () => {
  it('returns 500 with a fixed body when the commit update fails for another reason than the condition', async () => {
    givenJob(storedJob());
    ddbMock
      .on(UpdateCommand, CANCEL_COMMIT)
      .rejects(new Error(`Requested resource not found: ${JOBS_TABLE}`));

    const reply = await cancel({ jobId: JOB_ID });

    expectInternalError(reply);
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it('returns 503 to retry, and stops nothing, when the commit update is throttled', async () => {
    givenJob(storedJob());
    ddbMock.on(UpdateCommand, CANCEL_COMMIT).rejects(throughputExceeded(JOBS_TABLE));

    const reply = await cancel({ jobId: JOB_ID });

    expectError(reply, 503, BUSY_MESSAGE);
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it('returns 503 to retry, never 500, when the commit keeps meeting another transaction', async () => {
    givenJob(storedJob());
    ddbMock
      .on(UpdateCommand, CANCEL_COMMIT)
      .rejects(
        new TransactionConflictException({ message: 'Transaction is ongoing for the item', $metadata: {} }),
      );

    const reply = await cancel({ jobId: JOB_ID });

    expectError(reply, 503, BUSY_MESSAGE);
    expect(sfnMock).not.toReceiveAnyCommand();
  });
});
