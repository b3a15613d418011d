import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/start-sync/handler.ts';
import type { ConnectedPage } from '../../shared/store/page-repository.ts';
import { CALLER, type EventInit, httpEvent, invoke, setFields } from './event.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const sfnMock = mockClient(SFNClient);

const JOBS_TABLE = process.env.JOBS_TABLE ?? '';
const PAGES_TABLE = process.env.PAGES_TABLE ?? '';
const STATE_MACHINE_ARN = process.env.STATE_MACHINE_ARN ?? '';
const TOKEN = 'EAAG-secret-page-token';

function connectedPage(overrides: Partial<ConnectedPage> = {}): ConnectedPage {
  return {
    pageId: '100000000000001',
    organizationId: CALLER.org_id,
    pageName: 'My Business Page',
    accessToken: TOKEN,
    contactCount: 12,
    connectedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

const start = (body: unknown, init: Omit<EventInit, 'body'> = {}) =>
  invoke(handler, httpEvent({ path: '/api/facebook/sync-background', body, ...init }));

function givenPage(page: ConnectedPage | undefined) {
  ddbMock.on(GetCommand, { TableName: PAGES_TABLE }).resolves({ Item: page });
}

function lockConflict() {
  return new TransactionCanceledException({
    message:
      'Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None]',
    $metadata: {},
    CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
  });
}

/** The job item the start transaction put. */
function putJob(): Record<string, unknown> {
  const input: TransactWriteCommandInput | undefined =
    ddbMock.commandCalls(TransactWriteCommand)[0]?.args[0].input;
  const item = input?.TransactItems?.map((entry) => entry.Put?.Item).find((put) => put !== undefined);
  if (!item) throw new Error('no job was put');
  return item;
}

beforeEach(() => {
  ddbMock.reset();
  sfnMock.reset();
});

describe('POST /api/facebook/sync-background', () => {
  it('returns 202 PENDING and starts an execution named after the job with ids only', async () => {
    givenPage(connectedPage());
    sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: `arn:aws:states:us-east-1:000000000000:execution:ContactSyncTest:${input.name}`,
      startDate: new Date(),
    }));

    const reply = await start({ pageId: '100000000000001' });

    expect(reply.statusCode).toBe(202);
    const body = reply.body as { jobId: string };
    expect(body).toEqual({ jobId: expect.any(String), status: 'PENDING', message: 'Sync started' });
    expect(body.jobId).not.toBe('');
    expect(sfnMock).toReceiveCommandTimes(StartExecutionCommand, 1);
    expect(sfnMock).toReceiveCommandWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE_ARN,
      name: body.jobId,
    });
    const input = sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '';
    expect(JSON.parse(input)).toEqual({ jobId: body.jobId, pageId: '100000000000001' });
    expect(input).not.toContain(TOKEN);
  });

  it('creates the PENDING job and takes the page lock in one transaction', async () => {
    givenPage(connectedPage());
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:execution', startDate: new Date() });

    const reply = await start({ pageId: '100000000000001' });

    const { jobId } = reply.body as { jobId: string };
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 1);
    expect(ddbMock).toReceiveCommandWith(TransactWriteCommand, {
      TransactItems: expect.arrayContaining([
        {
          Update: expect.objectContaining({
            TableName: PAGES_TABLE,
            Key: { pageId: '100000000000001' },
            ConditionExpression: expect.stringContaining('attribute_not_exists(activeJobId)'),
            ExpressionAttributeValues: { ':j': jobId },
          }),
        },
      ]),
    });
    expect(putJob()).toMatchObject({
      jobId,
      organizationId: CALLER.org_id,
      pageId: '100000000000001',
      status: 'PENDING',
      syncedContacts: 0,
      failedContacts: 0,
      totalContacts: 0,
      createdBy: CALLER.sub,
    });
    expect(JSON.stringify(putJob())).not.toContain(TOKEN);
    const jobUpdates = ddbMock
      .commandCalls(UpdateCommand, { TableName: JOBS_TABLE, Key: { jobId, sk: 'JOB' } })
      .map((call) => setFields(call.args[0].input));
    expect(jobUpdates).toEqual([expect.objectContaining({ executionArn: 'arn:execution' })]);
  });

  it('returns 401 and reads nothing without claims', async () => {
    const reply = await start({ pageId: '100000000000001' }, { claims: {} });

    expect(reply.statusCode).toBe(401);
    expect(reply.body).toEqual({ error: 'Unauthorized' });
    expect(ddbMock).not.toReceiveAnyCommand();
  });

  it.each<[string, unknown, string]>([
    ['pageId is missing', {}, 'pageId is required'],
    ['pageId is not a string', { pageId: 12 }, 'pageId is required'],
    ['the body is not JSON', 'pageId=100000000000001', 'Request body must be valid JSON'],
  ])('returns 400 when %s', async (_case, body, error) => {
    const reply = await start(body);

    expect(reply.statusCode).toBe(400);
    expect(reply.body).toEqual({ error });
    expect(ddbMock).not.toReceiveAnyCommand();
  });

  it('returns 404 when the page is not connected', async () => {
    givenPage(undefined);

    const reply = await start({ pageId: '100000000000404' });

    expect(reply.statusCode).toBe(404);
    expect(reply.body).toEqual({ error: expect.any(String) });
    expect(ddbMock).not.toReceiveCommand(TransactWriteCommand);
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it('returns 403 and creates no job when the page belongs to another organization', async () => {
    givenPage(connectedPage({ organizationId: 'org-2' }));

    const reply = await start({ pageId: '100000000000001' });

    expect(reply.statusCode).toBe(403);
    expect(reply.body).toEqual({ error: expect.any(String) });
    expect(ddbMock).not.toReceiveCommand(TransactWriteCommand);
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it('returns 409 with the active job id when the page lock is taken', async () => {
    ddbMock
      .on(GetCommand, { TableName: PAGES_TABLE })
      .resolvesOnce({ Item: connectedPage() })
      .resolves({ Item: connectedPage({ activeJobId: '00000000-0000-4000-8000-0000000000a1' }) });
    ddbMock
      .on(GetCommand, { TableName: JOBS_TABLE })
      .resolves({ Item: { jobId: '00000000-0000-4000-8000-0000000000a1', status: 'IN_PROGRESS' } });
    ddbMock.on(TransactWriteCommand).rejects(lockConflict());

    const reply = await start({ pageId: '100000000000001' });

    expect(reply.statusCode).toBe(409);
    expect(reply.body).toEqual({ error: expect.any(String), activeJobId: '00000000-0000-4000-8000-0000000000a1' });
    expect(ddbMock).not.toReceiveCommand(UpdateCommand);
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it('heals a lock left by a job that already ended, then starts', async () => {
    ddbMock
      .on(GetCommand, { TableName: PAGES_TABLE })
      .resolvesOnce({ Item: connectedPage() })
      .resolves({ Item: connectedPage({ activeJobId: '00000000-0000-4000-8000-0000000000cc' }) });
    ddbMock
      .on(GetCommand, { TableName: JOBS_TABLE })
      .resolves({ Item: { jobId: '00000000-0000-4000-8000-0000000000cc', status: 'CANCELLED' } });
    ddbMock.on(TransactWriteCommand).rejectsOnce(lockConflict()).resolves({});
    ddbMock.on(UpdateCommand).resolves({});
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });

    const reply = await start({ pageId: '100000000000001' });

    expect(reply.statusCode).toBe(202);
    expect(ddbMock).toReceiveCommandWith(UpdateCommand, {
      TableName: PAGES_TABLE,
      UpdateExpression: 'REMOVE activeJobId',
      ExpressionAttributeValues: { ':j': '00000000-0000-4000-8000-0000000000cc' },
    });
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 2);
  });

  it('marks the job FAILED, releases the lock and returns 503 when StartExecution fails', async () => {
    givenPage(connectedPage());
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

    const reply = await start({ pageId: '100000000000001' });

    expect(reply.statusCode).toBe(503);
    expect(reply.body).toEqual({ error: expect.any(String) });
    expect(reply.raw).not.toContain('AccessDenied');
    expect(reply.raw).not.toContain(STATE_MACHINE_ARN);

    const jobId = putJob().jobId;
    const failed = ddbMock
      .commandCalls(UpdateCommand, { TableName: JOBS_TABLE, Key: { jobId, sk: 'JOB' } })
      .map((call) => call.args[0].input);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.ConditionExpression).toEqual(expect.stringContaining('#status IN ('));
    expect(Object.values(failed[0]?.ExpressionAttributeValues ?? {})).toEqual(
      expect.arrayContaining(['FAILED', 'PENDING']),
    );
    expect(Object.values(failed[0]?.ExpressionAttributeValues ?? {})).not.toContain('IN_PROGRESS');
    expect(ddbMock).toReceiveCommandWith(UpdateCommand, {
      TableName: PAGES_TABLE,
      Key: { pageId: '100000000000001' },
      UpdateExpression: 'REMOVE activeJobId',
      ExpressionAttributeValues: { ':j': jobId },
    });
  });

  it('returns 500 with a fixed body when DynamoDB fails', async () => {
    givenPage(connectedPage());
    ddbMock.on(TransactWriteCommand).rejects(new Error(`Requested resource not found: Table ${JOBS_TABLE}`));

    const reply = await start({ pageId: '100000000000001' });

    expect(reply.statusCode).toBe(500);
    expect(reply.raw).toBe('{"error":"Internal server error"}');
    expect(sfnMock).not.toReceiveAnyCommand();
  });
});
