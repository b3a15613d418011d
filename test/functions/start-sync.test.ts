import {
  DeleteItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { routeKey } from '#shared/api/routes.ts';
import { ConflictBody, StartSyncResponse } from '#shared/contract.ts';
import { expectFullStart } from '#test/shared/api-answers.ts';
import { handler } from '../../functions/start-sync/handler.ts';
import { CALLER, expectError, expectInternalError, routeCaller, setFields } from './event.ts';
import {
  ddbMock,
  expectLockReleased,
  expectRefused,
  givenPage,
  givenStartablePage,
  IDEMPOTENCY_TABLE,
  idempotencyDdbMock,
  JOBS_TABLE,
  kmsMock,
  PAGE_ID,
  PAGES_TABLE,
  pageLockConflict,
  putJob,
  resetAwsMocks,
  STATE_MACHINE_ARN,
  sfnMock,
  storedPage,
  TOKEN_CIPHERTEXT,
  UUID,
} from './fixtures.ts';

const start = routeCaller(handler, 'startSync');

/** The page is free when first read, and locked by job `activeJobId` (now `status`) when read again. */
function givenLockTakenBy(activeJobId: string, status: string) {
  givenPage(storedPage(), storedPage({ activeJobId }));
  ddbMock.on(GetCommand, { TableName: JOBS_TABLE }).resolves({ Item: { jobId: activeJobId, status } });
}

/** Every table name a command of either DynamoDB client was sent to. */
function tablesTouched(): unknown[] {
  return [...ddbMock.calls(), ...idempotencyDdbMock.calls()].map(
    (call) => (call.args[0] as { input: { TableName?: unknown } }).input.TableName,
  );
}

beforeEach(resetAwsMocks);

describe(routeKey('startSync'), () => {
  it('returns 202 PENDING and starts an execution named after the job with ids only', async () => {
    givenStartablePage();

    const reply = await start({ pageId: PAGE_ID });

    expect(reply.statusCode).toBe(202);
    const body = expectFullStart(reply.body, expect.stringMatching(UUID));
    expect(sfnMock).toReceiveCommandTimes(StartExecutionCommand, 1);
    expect(sfnMock).toReceiveCommandWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE_ARN,
      name: body.jobId,
    });
    const input = sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '';
    expect(JSON.parse(input)).toEqual({ jobId: body.jobId, pageId: PAGE_ID });
    expect(input).not.toContain(TOKEN_CIPHERTEXT);
    expect(kmsMock).not.toReceiveAnyCommand();
  });

  it('plans again when a sync of the page completed between its read and the lock, and runs incremental', async () => {
    const watermarks = {
      messengerWatermark: '2026-06-01T10:00:00.000Z',
      instagramWatermark: '2026-05-01T10:00:00.000Z',
      watermarkRecordedAt: new Date().toISOString(),
      syncsSinceFull: 0,
    };
    givenStartablePage();
    givenPage(storedPage(), storedPage(watermarks));
    // The lock is free, but the page's watermarks are not those the job was planned from.
    ddbMock
      .on(TransactWriteCommand)
      .rejectsOnce(
        new TransactionCanceledException({
          message: 'Transaction cancelled [ConditionalCheckFailed, None]',
          $metadata: {},
          CancellationReasons: [
            { Code: 'ConditionalCheckFailed', Item: marshall({ ...storedPage(), ...watermarks }) },
            { Code: 'None' },
          ],
        }),
      )
      .resolves({});

    const reply = await start({ pageId: PAGE_ID });

    expect(reply.statusCode).toBe(202);
    expect(reply.body).toMatchObject({ mode: 'incremental', since: '2026-05-01T10:00:00.000Z' });
    const [first, second] = ddbMock.commandCalls(TransactWriteCommand).map((c) => c.args[0].input);
    expect(first?.TransactItems?.[0]?.Update?.ConditionExpression).toContain(
      'attribute_not_exists(watermarkRecordedAt)',
    );
    expect(second?.TransactItems?.[0]?.Update).toMatchObject({
      ConditionExpression: expect.stringContaining('watermarkRecordedAt = :recorded'),
      ExpressionAttributeValues: expect.objectContaining({ ':recorded': watermarks.watermarkRecordedAt }),
    });
    expect(second?.TransactItems?.[1]?.Put?.Item).toMatchObject({
      mode: 'incremental',
      sinceByPlatform: { messenger: watermarks.messengerWatermark, instagram: watermarks.instagramWatermark },
    });
  });

  it('creates the PENDING job and takes the page lock in one transaction', async () => {
    givenPage(storedPage());
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:execution', startDate: new Date() });

    const reply = await start({ pageId: PAGE_ID });

    const { jobId } = reply.body as { jobId: string };
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 1);
    expect(ddbMock).toReceiveCommandWith(TransactWriteCommand, {
      TransactItems: expect.arrayContaining([
        {
          Update: expect.objectContaining({
            TableName: PAGES_TABLE,
            Key: { pageId: PAGE_ID },
            ConditionExpression: expect.stringContaining('attribute_not_exists(activeJobId)'),
            ExpressionAttributeValues: { ':j': jobId },
          }),
        },
      ]),
    });
    expect(putJob()).toMatchObject({
      jobId,
      organizationId: CALLER.org_id,
      pageId: PAGE_ID,
      status: 'PENDING',
      syncedContacts: 0,
      failedContacts: 0,
      totalContacts: 0,
      createdBy: CALLER.sub,
    });
    expect(JSON.stringify(putJob())).not.toContain(TOKEN_CIPHERTEXT);
    const jobUpdates = ddbMock
      .commandCalls(UpdateCommand, { TableName: JOBS_TABLE, Key: { jobId, sk: 'JOB' } })
      .map((call) => setFields(call.args[0].input));
    expect(jobUpdates).toEqual([expect.objectContaining({ executionArn: 'arn:execution' })]);
  });

  it.each<[string, unknown, string]>([
    ['pageId is missing', {}, 'pageId is required'],
    ['pageId is not a string', { pageId: 12 }, 'pageId is required'],
    ['pageId is blank', { pageId: '  ' }, 'pageId is required'],
    ['pageId is not numeric', { pageId: 'my-page' }, 'pageId must be a numeric Facebook id'],
    ['pageId carries a key suffix', { pageId: `${PAGE_ID}#x` }, 'pageId must be a numeric Facebook id'],
    [
      'the body has an unknown key',
      { pageId: PAGE_ID, organizationId: 'org-2' },
      'Unrecognized key: "organizationId"',
    ],
  ])('returns 400 with exactly {error} and reads nothing when %s', async (_case, body, error) => {
    const reply = await start(body);

    expectRefused(reply, 400, error);
  });

  it('returns 404 when the page is not connected', async () => {
    givenPage(undefined);

    const reply = await start({ pageId: '100000000000404' });

    expectError(reply, 404, 'Page not connected');
    expect(ddbMock).not.toReceiveCommand(TransactWriteCommand);
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it('returns 403 and creates no job when the page belongs to another organization', async () => {
    givenPage(storedPage({ organizationId: 'org-2' }));

    const reply = await start({ pageId: PAGE_ID });

    expectError(reply, 403, 'Page belongs to another organization');
    expect(ddbMock).not.toReceiveCommand(TransactWriteCommand);
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it('returns 409 with the active job id when the page lock is taken', async () => {
    givenLockTakenBy('00000000-0000-4000-8000-0000000000a1', 'IN_PROGRESS');
    ddbMock.on(TransactWriteCommand).rejects(pageLockConflict());

    const reply = await start({ pageId: PAGE_ID });

    expect(reply.statusCode).toBe(409);
    expect(ConflictBody.strict().parse(reply.body)).toEqual({
      error: 'A sync is already running for this page',
      activeJobId: '00000000-0000-4000-8000-0000000000a1',
    });
    expect(ddbMock).not.toReceiveCommand(UpdateCommand);
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it('heals a lock left by a job that already ended, then starts', async () => {
    givenLockTakenBy('00000000-0000-4000-8000-0000000000cc', 'CANCELLED');
    ddbMock.on(TransactWriteCommand).rejectsOnce(pageLockConflict()).resolves({});
    ddbMock.on(UpdateCommand).resolves({});
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });

    const reply = await start({ pageId: PAGE_ID });

    expect(reply.statusCode).toBe(202);
    expectLockReleased('00000000-0000-4000-8000-0000000000cc');
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 2);
  });

  it('marks the job FAILED, releases the lock and returns 503 when StartExecution fails', async () => {
    givenPage(storedPage());
    ddbMock.on(UpdateCommand, { TableName: JOBS_TABLE, ReturnValues: 'ALL_NEW' }).callsFake(() => ({
      Attributes: { ...putJob(), status: 'FAILED', phase: 'failed' },
    }));
    sfnMock
      .on(StartExecutionCommand)
      .rejects(
        new Error(
          `AccessDeniedException: not authorized to perform states:StartExecution on ${STATE_MACHINE_ARN}`,
        ),
      );

    const reply = await start({ pageId: PAGE_ID });

    expectError(reply, 503, 'The sync could not be started. Try again.');
    expect(reply.raw).not.toContain('AccessDenied');
    expect(reply.raw).not.toContain(STATE_MACHINE_ARN);

    const jobId = String(putJob().jobId);
    const failed = ddbMock
      .commandCalls(UpdateCommand, { TableName: JOBS_TABLE, Key: { jobId, sk: 'JOB' } })
      .map((call) => call.args[0].input);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.ConditionExpression).toEqual(expect.stringContaining('#status IN ('));
    expect(Object.values(failed[0]?.ExpressionAttributeValues ?? {})).toEqual(
      expect.arrayContaining(['FAILED', 'PENDING']),
    );
    expect(Object.values(failed[0]?.ExpressionAttributeValues ?? {})).not.toContain('IN_PROGRESS');
    expectLockReleased(jobId);
  });

  it('returns 500 with a fixed body when the start transaction fails', async () => {
    givenPage(storedPage());
    ddbMock.on(TransactWriteCommand).rejects(new Error(`Requested resource not found: Table ${JOBS_TABLE}`));

    const reply = await start({ pageId: PAGE_ID });

    expectInternalError(reply);
    expect(sfnMock).not.toReceiveAnyCommand();
  });
});

describe(`${routeKey('startSync')}: Idempotency-Key`, () => {
  it('writes no idempotency record, to any table, without an idempotency-key header', async () => {
    givenStartablePage();

    const reply = await start({ pageId: PAGE_ID });

    expect(reply.statusCode).toBe(202);
    expect(idempotencyDdbMock).not.toReceiveAnyCommand();
    expect(tablesTouched()).not.toContain(IDEMPOTENCY_TABLE);
  });

  it('writes an in-progress record to the idempotency table before the start transaction', async () => {
    givenStartablePage();
    const order: string[] = [];
    idempotencyDdbMock.on(PutItemCommand).callsFake((input: { TableName?: string }) => {
      order.push(`put record in ${input.TableName}`);
      return {};
    });
    idempotencyDdbMock.on(UpdateItemCommand).resolves({});
    ddbMock.on(TransactWriteCommand).callsFake(() => {
      order.push('start transaction');
      return {};
    });

    const reply = await start({ pageId: PAGE_ID }, { headers: { 'idempotency-key': 'retry-1' } });

    expect(reply.statusCode).toBe(202);
    expect(idempotencyDdbMock).toReceiveCommandTimes(PutItemCommand, 1);
    expect(idempotencyDdbMock).toReceiveCommandWith(PutItemCommand, {
      TableName: IDEMPOTENCY_TABLE,
      Item: expect.objectContaining({ status: { S: 'INPROGRESS' } }),
    });
    expect(order).toEqual([`put record in ${IDEMPOTENCY_TABLE}`, 'start transaction']);
  });

  it('stores the 202 answer on the record once the start succeeded', async () => {
    givenStartablePage();
    idempotencyDdbMock.on(PutItemCommand).resolves({});
    idempotencyDdbMock.on(UpdateItemCommand).resolves({});

    const reply = await start({ pageId: PAGE_ID }, { headers: { 'idempotency-key': 'retry-2' } });

    expect(reply.statusCode).toBe(202);
    const { jobId } = StartSyncResponse.parse(reply.body);
    expect(idempotencyDdbMock).toReceiveCommandWith(UpdateItemCommand, {
      TableName: IDEMPOTENCY_TABLE,
      ExpressionAttributeValues: expect.objectContaining({ ':status': { S: 'COMPLETED' } }),
    });
    const update = idempotencyDdbMock.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(JSON.stringify(update)).toContain(jobId);
  });

  it('deletes the record when the start fails, so that a retry runs again', async () => {
    givenPage(undefined);
    idempotencyDdbMock.on(PutItemCommand).resolves({});
    idempotencyDdbMock.on(DeleteItemCommand).resolves({});

    const reply = await start({ pageId: '100000000000404' }, { headers: { 'idempotency-key': 'retry-3' } });

    expectError(reply, 404, 'Page not connected');
    expect(idempotencyDdbMock).toReceiveCommandWith(DeleteItemCommand, { TableName: IDEMPOTENCY_TABLE });
    expect(idempotencyDdbMock).not.toReceiveCommand(UpdateItemCommand);
  });

  it('keys the record by organization, user and header value', async () => {
    givenStartablePage();
    idempotencyDdbMock.on(PutItemCommand).resolves({});
    idempotencyDdbMock.on(UpdateItemCommand).resolves({});
    const headers = { 'idempotency-key': 'same-key' };

    await start({ pageId: PAGE_ID }, { headers });
    await start({ pageId: PAGE_ID }, { headers });
    await start({ pageId: PAGE_ID }, { headers, claims: { sub: 'user-2', org_id: CALLER.org_id } });
    await start({ pageId: PAGE_ID }, { headers, claims: { sub: CALLER.sub, org_id: 'org-2' } });
    await start({ pageId: PAGE_ID }, { headers: { 'idempotency-key': 'other-key' } });

    const [first, retry, ...others] = idempotencyDdbMock
      .commandCalls(PutItemCommand)
      .map((call) => call.args[0].input.Item?.id?.S);
    expect(first).toEqual(expect.any(String));
    expect(retry).toBe(first);
    expect(new Set([first, ...others]).size).toBe(4);
  });
});
