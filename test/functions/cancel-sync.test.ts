import {
  ConditionalCheckFailedException,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { ExecutionDoesNotExist, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import {
  DynamoDBDocumentClient,
  GetCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/cancel-sync/handler.ts';
import { CancelSyncResponse } from '../../shared/contract.ts';
import type { JobStatus, SyncJob } from '../../shared/sync/job.ts';
import {
  CALLER,
  type EventInit,
  errorMessage,
  expectSecurityHeaders,
  expectUncachedJson,
  httpEvent,
  invoke,
  type JwtClaims,
  setFields,
  storedJob,
} from './event.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const sfnMock = mockClient(SFNClient);

const JOBS_TABLE = process.env.JOBS_TABLE ?? '';
const PAGES_TABLE = process.env.PAGES_TABLE ?? '';
const DERIVED_ARN =
  'arn:aws:states:us-east-1:000000000000:execution:ContactSyncTest:00000000-0000-4000-8000-000000000001';
const INTERNAL_ERROR = '{"error":"Internal server error"}';

/** The job as DynamoDB returns it after the commit update (ReturnValues: ALL_NEW). */
function cancelledJob(overrides: Partial<SyncJob> = {}): SyncJob {
  return storedJob({
    status: 'CANCELLED',
    phase: 'cancelled',
    completedAt: '2026-01-01T00:02:00.000Z',
    cancelledBy: CALLER.sub,
    ...overrides,
  });
}

const lostRace = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

/** The commit point: the only update of the jobs table that asks for the new item back. */
const COMMIT = { TableName: JOBS_TABLE, ReturnValues: 'ALL_NEW' } as const;

const cancel = (body: unknown, init: Omit<EventInit, 'body'> = {}) =>
  invoke(handler, httpEvent({ path: '/api/facebook/sync-cancel', body, ...init }));

const updates = () => ddbMock.commandCalls(UpdateCommand).map((call) => call.args[0].input);

/** The statuses an update's `#status IN (...)` condition allows. */
function allowedStatuses(input: UpdateCommandInput): unknown[] {
  const list = /#status IN \(([^)]*)\)/.exec(input.ConditionExpression ?? '')?.[1] ?? '';
  return list.split(',').map((placeholder) => input.ExpressionAttributeValues?.[placeholder.trim()]);
}

function givenStoredJob(job: SyncJob | undefined) {
  ddbMock.on(GetCommand, { TableName: JOBS_TABLE }).resolves({ Item: job });
}

beforeEach(() => {
  ddbMock.reset();
  sfnMock.reset();
});

describe('POST /api/facebook/sync-cancel: input', () => {
  it.each<[string, JwtClaims]>([
    ['no claims', {}],
    ['no org_id', { sub: CALLER.sub }],
    ['no sub', { org_id: CALLER.org_id }],
    ['an empty org_id', { sub: CALLER.sub, org_id: '' }],
    ['a numeric org_id', { sub: CALLER.sub, org_id: 42 }],
  ])('returns 401 and reads nothing when the token has %s', async (_case, claims) => {
    const reply = await cancel({ jobId: '00000000-0000-4000-8000-000000000001' }, { claims });

    expect(reply.statusCode).toBe(401);
    expect(errorMessage(reply)).toBe('Unauthorized');
    expect(ddbMock).not.toReceiveAnyCommand();
    expect(sfnMock).not.toReceiveAnyCommand();
  });

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

    expect(reply.statusCode).toBe(400);
    expect(reply.raw).toBe('{"error":"jobId is required"}');
    expect(ddbMock).not.toReceiveAnyCommand();
  });

  it.each([
    ['not JSON', '{"jobId":'],
    ['a JSON array', '["00000000-0000-4000-8000-000000000001"]'],
    ['a JSON string', '"00000000-0000-4000-8000-000000000001"'],
    ['JSON null', 'null'],
  ])('returns 400 when the body is %s', async (_case, body) => {
    const reply = await cancel(body);

    expect(reply.statusCode).toBe(400);
    expect(errorMessage(reply)).toMatch(/^Request body must be/);
    expect(ddbMock).not.toReceiveAnyCommand();
  });

  it.each<[string, unknown, string]>([
    ['jobId is not a UUID', { jobId: 'job-1' }, 'jobId must be a UUID'],
    [
      'jobId carries a key suffix',
      { jobId: '00000000-0000-4000-8000-000000000001#FAILED' },
      'jobId must be a UUID',
    ],
    [
      'reason is not a string',
      { jobId: '00000000-0000-4000-8000-000000000001', reason: 5 },
      'reason must be a string',
    ],
    [
      'the body has an unknown key',
      { jobId: '00000000-0000-4000-8000-000000000001', status: 'CANCELLED' },
      'Unrecognized key: "status"',
    ],
    [
      'several fields are invalid',
      { jobId: 'x', reason: 5 },
      'jobId must be a UUID; reason must be a string',
    ],
  ])('returns 400 naming the field and reads nothing when %s', async (_case, body, error) => {
    const reply = await cancel(body);

    expect(reply.statusCode).toBe(400);
    expect(errorMessage(reply)).toBe(error);
    expect(ddbMock).not.toReceiveAnyCommand();
  });

  it('returns 400 and reads nothing when the body is over 16 KB', async () => {
    const body = JSON.stringify({
      jobId: '00000000-0000-4000-8000-000000000001',
      pad: 'x'.repeat(16 * 1024),
    });

    const reply = await cancel(body);

    expect(reply.statusCode).toBe(400);
    expect(errorMessage(reply)).toBe('Request body is too large');
    expect(ddbMock).not.toReceiveAnyCommand();
  });

  it.each<[string, Record<string, string | undefined>]>([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['no content type', { 'content-type': undefined }],
  ])(
    'returns 415 with the security headers and cancels nothing when JSON is sent as %s',
    async (_case, headers) => {
      const reply = await cancel({ jobId: '00000000-0000-4000-8000-000000000001' }, { headers });

      expect(reply.statusCode).toBe(415);
      expect(errorMessage(reply)).toBe('Content-Type must be application/json');
      expectSecurityHeaders(reply);
      expect(ddbMock).not.toReceiveAnyCommand();
      expect(sfnMock).not.toReceiveAnyCommand();
    },
  );

  it('returns 400 when the reason is longer than 500 characters', async () => {
    const reply = await cancel({ jobId: '00000000-0000-4000-8000-000000000001', reason: 'x'.repeat(501) });

    expect(reply.statusCode).toBe(400);
    expect(errorMessage(reply)).toBe('reason must be at most 500 characters');
    expect(ddbMock).not.toReceiveAnyCommand();
  });

  it('accepts a reason of exactly 500 characters and stores it', async () => {
    const reason = 'r'.repeat(500);
    givenStoredJob(storedJob());
    ddbMock.on(UpdateCommand, COMMIT).resolves({ Attributes: cancelledJob({ cancelReason: reason }) });

    const reply = await cancel({ jobId: '00000000-0000-4000-8000-000000000001', reason });

    expect(reply.statusCode).toBe(200);
    const commit = updates().find((input) => input.ReturnValues === 'ALL_NEW');
    expect(commit && setFields(commit)).toMatchObject({ cancelReason: reason });
  });
});

describe('POST /api/facebook/sync-cancel: the job', () => {
  it('returns 404 when the job does not exist', async () => {
    givenStoredJob(undefined);

    const reply = await cancel({ jobId: '00000000-0000-4000-8000-000000000404' });

    expect(reply.statusCode).toBe(404);
    expect(errorMessage(reply)).toBe('Sync job not found');
    expectSecurityHeaders(reply);
    expect(ddbMock).toReceiveCommandWith(GetCommand, {
      TableName: JOBS_TABLE,
      Key: { jobId: '00000000-0000-4000-8000-000000000404', sk: 'JOB' },
    });
    expect(ddbMock).not.toReceiveCommand(UpdateCommand);
  });

  it('returns 403 and changes nothing when the job belongs to another organization', async () => {
    givenStoredJob(storedJob({ organizationId: 'org-2' }));

    const reply = await cancel({ jobId: '00000000-0000-4000-8000-000000000001' });

    expect(reply.statusCode).toBe(403);
    expect(errorMessage(reply)).toBe('Sync job belongs to another organization');
    expect(ddbMock).not.toReceiveCommand(UpdateCommand);
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it.each<JobStatus>(['COMPLETED', 'FAILED'])(
    'returns 400 and changes nothing when the job is %s',
    async (status) => {
      givenStoredJob(storedJob({ status, completedAt: '2026-01-01T00:05:00.000Z' }));

      const reply = await cancel({ jobId: '00000000-0000-4000-8000-000000000001' });

      expect(reply.statusCode).toBe(400);
      expect(errorMessage(reply)).toBe(`Cannot cancel job with status: ${status}`);
      expect(ddbMock).not.toReceiveCommand(UpdateCommand);
      expect(sfnMock).not.toReceiveAnyCommand();
    },
  );

  it('returns 200 with the stored job and writes nothing when the job is already CANCELLED', async () => {
    const stored = cancelledJob({
      syncedContacts: 11,
      failedContacts: 3,
      completedAt: '2025-12-31T23:59:59.000Z',
    });
    givenStoredJob(stored);

    const reply = await cancel({ jobId: '00000000-0000-4000-8000-000000000001', reason: 'again' });

    expect(reply.statusCode).toBe(200);
    expect(CancelSyncResponse.strict().parse(reply.body)).toEqual({
      success: true,
      job: {
        id: '00000000-0000-4000-8000-000000000001',
        status: 'CANCELLED',
        syncedContacts: 11,
        failedContacts: 3,
        totalContacts: 40,
        completedAt: '2025-12-31T23:59:59.000Z',
      },
    });
    expect(ddbMock).not.toReceiveCommand(UpdateCommand);
    expect(sfnMock).not.toReceiveAnyCommand();
  });
});

describe('POST /api/facebook/sync-cancel: the commit point', () => {
  it.each<JobStatus>(['PENDING', 'IN_PROGRESS'])(
    'cancels a %s job with one update conditional on PENDING or IN_PROGRESS',
    async (status) => {
      givenStoredJob(storedJob({ status }));
      ddbMock
        .on(UpdateCommand, COMMIT)
        .resolves({ Attributes: cancelledJob({ cancelReason: 'wrong page' }) });

      const reply = await cancel({ jobId: '00000000-0000-4000-8000-000000000001', reason: 'wrong page' });

      expect(reply.statusCode).toBe(200);
      expect(ddbMock).toReceiveCommandWith(UpdateCommand, {
        TableName: JOBS_TABLE,
        Key: { jobId: '00000000-0000-4000-8000-000000000001', sk: 'JOB' },
        ConditionExpression: expect.stringContaining('#status IN ('),
        ExpressionAttributeNames: expect.objectContaining({ '#status': 'status' }),
      });
      const commit = updates().find((input) => input.ReturnValues === 'ALL_NEW');
      if (!commit) throw new Error('no commit update');
      expect(allowedStatuses(commit).sort()).toEqual(['IN_PROGRESS', 'PENDING']);
      expect(setFields(commit)).toMatchObject({
        status: 'CANCELLED',
        cancelledBy: CALLER.sub,
        cancelReason: 'wrong page',
        completedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
    },
  );

  it('answers with the counters and completedAt the commit wrote', async () => {
    givenStoredJob(storedJob({ syncedContacts: 7 }));
    // A contact committed between the read and the cancel: the written item is the truth.
    ddbMock.on(UpdateCommand, COMMIT).resolves({ Attributes: cancelledJob({ syncedContacts: 8 }) });

    const reply = await cancel({ jobId: '00000000-0000-4000-8000-000000000001' });

    expect(reply.statusCode).toBe(200);
    expect(CancelSyncResponse.strict().parse(reply.body)).toEqual({
      success: true,
      job: {
        id: '00000000-0000-4000-8000-000000000001',
        status: 'CANCELLED',
        syncedContacts: 8,
        failedContacts: 2,
        totalContacts: 40,
        completedAt: '2026-01-01T00:02:00.000Z',
      },
    });
  });

  it('answers 200 with the security headers and Cache-Control: no-store', async () => {
    givenStoredJob(storedJob());
    ddbMock.on(UpdateCommand, COMMIT).resolves({ Attributes: cancelledJob() });

    const reply = await cancel({ jobId: '00000000-0000-4000-8000-000000000001' });

    expect(reply.statusCode).toBe(200);
    expectSecurityHeaders(reply);
    expectUncachedJson(reply);
  });

  it('releases the page lock held by the job', async () => {
    givenStoredJob(storedJob());
    ddbMock.on(UpdateCommand, COMMIT).resolves({ Attributes: cancelledJob() });

    await cancel({ jobId: '00000000-0000-4000-8000-000000000001' });

    expect(ddbMock).toReceiveCommandWith(UpdateCommand, {
      TableName: PAGES_TABLE,
      Key: { pageId: '100000000000001' },
      UpdateExpression: 'REMOVE activeJobId',
      ExpressionAttributeValues: { ':j': '00000000-0000-4000-8000-000000000001' },
    });
  });

  it('returns 400 with the winner status when completion commits first', async () => {
    ddbMock
      .on(GetCommand, { TableName: JOBS_TABLE })
      .resolvesOnce({ Item: storedJob() })
      .resolves({ Item: storedJob({ status: 'COMPLETED', completedAt: '2026-01-01T00:03:00.000Z' }) });
    ddbMock.on(UpdateCommand, COMMIT).rejects(lostRace());

    const reply = await cancel({ jobId: '00000000-0000-4000-8000-000000000001' });

    expect(reply.statusCode).toBe(400);
    expect(errorMessage(reply)).toBe('Cannot cancel job with status: COMPLETED');
    expect(sfnMock).not.toReceiveAnyCommand();
    expect(ddbMock).not.toReceiveCommandWith(UpdateCommand, { TableName: PAGES_TABLE });
  });

  it('returns 200 with the stored job when another cancel commits first', async () => {
    const winner = cancelledJob({ cancelledBy: 'user-2', syncedContacts: 9 });
    ddbMock
      .on(GetCommand, { TableName: JOBS_TABLE })
      .resolvesOnce({ Item: storedJob() })
      .resolves({ Item: winner });
    ddbMock.on(UpdateCommand, COMMIT).rejects(lostRace());

    const reply = await cancel({ jobId: '00000000-0000-4000-8000-000000000001' });

    expect(reply.statusCode).toBe(200);
    expect(reply.body).toMatchObject({ success: true, job: { status: 'CANCELLED', syncedContacts: 9 } });
  });
});

describe('POST /api/facebook/sync-cancel: stopping the execution', () => {
  const stopOutcome = () =>
    updates()
      .map(setFields)
      .find((fields) => 'stopExecutionOutcome' in fields)?.stopExecutionOutcome;

  it('stops the execution recorded on the job', async () => {
    const executionArn = 'arn:aws:states:us-east-1:000000000000:execution:ContactSyncTest:recorded';
    givenStoredJob(storedJob({ executionArn }));
    ddbMock.on(UpdateCommand, COMMIT).resolves({ Attributes: cancelledJob({ executionArn }) });

    const reply = await cancel({ jobId: '00000000-0000-4000-8000-000000000001' });

    expect(reply.statusCode).toBe(200);
    expect(sfnMock).toReceiveCommandTimes(StopExecutionCommand, 1);
    expect(sfnMock).toReceiveCommandWith(StopExecutionCommand, { executionArn });
    expect(stopOutcome()).toBe('STOPPED');
  });

  it('derives the execution ARN from the state machine and the job id when none is recorded', async () => {
    givenStoredJob(storedJob({ status: 'PENDING' }));
    ddbMock.on(UpdateCommand, COMMIT).resolves({ Attributes: cancelledJob() });

    await cancel({ jobId: '00000000-0000-4000-8000-000000000001' });

    expect(sfnMock).toReceiveCommandWith(StopExecutionCommand, { executionArn: DERIVED_ARN });
  });

  it.each([
    [
      'the execution does not exist',
      new ExecutionDoesNotExist({ message: 'no such execution', $metadata: {} }),
      'NO_EXECUTION',
    ],
    ['StopExecution fails', new Error('socket hang up'), 'FAILED: Error'],
  ])('still answers 200 CANCELLED and records the outcome when %s', async (_case, error, outcome) => {
    givenStoredJob(storedJob());
    ddbMock.on(UpdateCommand, COMMIT).resolves({ Attributes: cancelledJob() });
    sfnMock.on(StopExecutionCommand).rejects(error);

    const reply = await cancel({ jobId: '00000000-0000-4000-8000-000000000001' });

    expect(reply.statusCode).toBe(200);
    expect(reply.body).toMatchObject({
      success: true,
      job: { id: '00000000-0000-4000-8000-000000000001', status: 'CANCELLED' },
    });
    expect(stopOutcome()).toBe(outcome);
    expect(ddbMock).toReceiveCommandWith(UpdateCommand, {
      TableName: PAGES_TABLE,
      UpdateExpression: 'REMOVE activeJobId',
    });
  });
});

describe('POST /api/facebook/sync-cancel: failures', () => {
  it('returns 500 with a fixed body when reading the job fails', async () => {
    ddbMock
      .on(GetCommand)
      .rejects(
        new Error(
          `User: arn:aws:iam::123:role/x is not authorized to perform: dynamodb:GetItem on ${JOBS_TABLE}`,
        ),
      );

    const reply = await cancel({ jobId: '00000000-0000-4000-8000-000000000001' });

    expect(reply.statusCode).toBe(500);
    expect(reply.raw).toBe(INTERNAL_ERROR);
    expectSecurityHeaders(reply);
  });

  it('returns 500 with a fixed body when the commit update fails for another reason than the condition', async () => {
    givenStoredJob(storedJob());
    ddbMock.on(UpdateCommand, COMMIT).rejects(
      new ProvisionedThroughputExceededException({
        message: `Throughput exceeded on ${JOBS_TABLE}`,
        $metadata: {},
      }),
    );

    const reply = await cancel({ jobId: '00000000-0000-4000-8000-000000000001' });

    expect(reply.statusCode).toBe(500);
    expect(reply.raw).toBe(INTERNAL_ERROR);
    expect(sfnMock).not.toReceiveAnyCommand();
  });
});
