import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { routeKey } from '#shared/api/routes.ts';
import { BUSY_MESSAGE } from '#shared/http.ts';
import { handler } from '../../functions/disconnect-page/handler.ts';
import { CALLER, expectError, expectInternalError, expectSecurityHeaders, routeCaller } from './event.ts';
import {
  CANCEL_COMMIT,
  cancelledJob,
  conditionFailed,
  ddbMock,
  expectCancelCommit,
  expectLockReleased,
  expectRefused,
  givenActiveSync,
  givenJob,
  givenPage,
  givenRefusedCommit,
  JOB_ID,
  JOBS_TABLE,
  PAGE_ID,
  PAGES_TABLE,
  resetAwsMocks,
  sfnMock,
  storedJob,
  storedPage,
  throughputExceeded,
} from './fixtures.ts';

const EXECUTION_ARN = `arn:aws:states:us-east-1:000000000000:execution:ContactSyncTest:${JOB_ID}`;

const disconnect = (pageId: string | undefined) =>
  routeCaller(handler, 'disconnectPage')(
    undefined,
    pageId === undefined ? {} : { pathParameters: { pageId } },
  );

/** The page holds the lock of a running job, its execution recorded, which the commit will cancel. */
function givenRecordedSync() {
  givenActiveSync(cancelledJob({ executionArn: EXECUTION_ARN }), storedJob({ executionArn: EXECUTION_ARN }));
}

/** The DynamoDB commands in the order they were sent, as short labels. */
function commandOrder(): string[] {
  return ddbMock.calls().map((call) => {
    const command = call.args[0];
    if (command instanceof UpdateCommand && command.input.ReturnValues === 'ALL_NEW') return 'commit cancel';
    if (command instanceof DeleteCommand) return `delete from ${command.input.TableName}`;
    if (command instanceof GetCommand) return `get from ${command.input.TableName}`;
    if (command instanceof UpdateCommand) return `update ${command.input.TableName}`;
    return 'other';
  });
}

beforeEach(() => {
  resetAwsMocks();
  ddbMock.on(DeleteCommand).resolves({});
  ddbMock.on(UpdateCommand).resolves({});
  sfnMock.on(StopExecutionCommand).resolves({ stopDate: new Date() });
});

describe(routeKey('disconnectPage'), () => {
  it('returns 204 with no body and the security headers, and deletes the page of the organization', async () => {
    givenPage(storedPage());

    const reply = await disconnect(PAGE_ID);

    expect(reply.statusCode).toBe(204);
    expect(reply.raw).toBe('');
    expectSecurityHeaders(reply);
    expect(ddbMock).toReceiveCommandTimes(DeleteCommand, 1);
    expect(ddbMock).toReceiveCommandWith(DeleteCommand, {
      TableName: PAGES_TABLE,
      Key: { pageId: PAGE_ID },
      ConditionExpression: expect.stringContaining('organizationId = :o'),
      ExpressionAttributeValues: { ':o': CALLER.org_id },
    });
  });

  it('cancels nothing and stops nothing when the page has no active sync', async () => {
    givenPage(storedPage());

    await disconnect(PAGE_ID);

    expect(ddbMock).not.toReceiveCommand(UpdateCommand);
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it('commits the cancel of the active sync before it deletes the page', async () => {
    givenRecordedSync();

    const reply = await disconnect(PAGE_ID);

    expect(reply.statusCode).toBe(204);
    const order = commandOrder();
    expect(order).toContain('commit cancel');
    expect(order).toContain(`delete from ${PAGES_TABLE}`);
    expect(order.indexOf('commit cancel')).toBeLessThan(order.indexOf(`delete from ${PAGES_TABLE}`));
    expect(order.at(-1)).toBe(`delete from ${PAGES_TABLE}`);
  });

  it('cancels the active sync as "Stop Sync" would: conditional on PENDING, IN_PROGRESS or PAUSED, by the caller', async () => {
    givenRecordedSync();

    await disconnect(PAGE_ID);

    const commit = ddbMock.commandCalls(UpdateCommand, CANCEL_COMMIT)[0]?.args[0].input;
    if (!commit) throw new Error('no cancel commit');
    expect(commit.Key).toEqual({ jobId: JOB_ID, sk: 'JOB' });
    expectCancelCommit(commit, 'Page disconnected');
  });

  it("attempts to stop the active sync's execution and releases the page lock", async () => {
    givenRecordedSync();

    await disconnect(PAGE_ID);

    expect(sfnMock).toReceiveCommandWith(StopExecutionCommand, { executionArn: EXECUTION_ARN });
    expectLockReleased(JOB_ID);
  });

  it('still disconnects when StopExecution fails: the job is cancelled already', async () => {
    givenRecordedSync();
    sfnMock.on(StopExecutionCommand).rejects(new Error('socket hang up'));

    const reply = await disconnect(PAGE_ID);

    expect(reply.statusCode).toBe(204);
    expect(ddbMock).toReceiveCommand(DeleteCommand);
  });

  it('still disconnects (204) when the active sync completed before the cancel could commit', async () => {
    givenPage(storedPage({ activeJobId: JOB_ID }));
    givenRefusedCommit(storedJob({ status: 'COMPLETED', completedAt: '2026-01-01T00:03:00.000Z' }));

    const reply = await disconnect(PAGE_ID);

    expect(reply.statusCode).toBe(204);
    // The page read, then the commit that found the job finished: no read of the job at all.
    expect(ddbMock).not.toReceiveCommandWith(GetCommand, { TableName: JOBS_TABLE });
    expect(sfnMock).not.toReceiveAnyCommand();
    expect(ddbMock).toReceiveCommandWith(DeleteCommand, { TableName: PAGES_TABLE, Key: { pageId: PAGE_ID } });
  });

  it('still disconnects when the job holding the lock is gone', async () => {
    givenPage(storedPage({ activeJobId: JOB_ID }));
    givenRefusedCommit(undefined);

    const reply = await disconnect(PAGE_ID);

    expect(reply.statusCode).toBe(204);
    expect(ddbMock).toReceiveCommand(DeleteCommand);
  });

  it('returns 500 and keeps the page when the cancel of the active sync fails', async () => {
    givenRecordedSync();
    ddbMock
      .on(UpdateCommand, CANCEL_COMMIT)
      .rejects(new Error(`Requested resource not found: ${JOBS_TABLE}`));

    const reply = await disconnect(PAGE_ID);

    expectInternalError(reply);
    expect(ddbMock).not.toReceiveCommand(DeleteCommand);
  });

  it('returns 503 to retry, and keeps the page, when the cancel of the active sync is throttled', async () => {
    givenRecordedSync();
    ddbMock.on(UpdateCommand, CANCEL_COMMIT).rejects(throughputExceeded(JOBS_TABLE));

    const reply = await disconnect(PAGE_ID);

    expectError(reply, 503, BUSY_MESSAGE);
    expect(ddbMock).not.toReceiveCommand(DeleteCommand);
  });

  it('returns 404 and deletes nothing when the page is not connected', async () => {
    givenPage(undefined);

    const reply = await disconnect('100000000000404');

    expectError(reply, 404, 'Page not connected');
    expect(ddbMock).not.toReceiveCommand(DeleteCommand);
  });

  it("returns 403 and neither cancels nor deletes when it is another organization's page", async () => {
    givenPage(storedPage({ organizationId: 'org-2', activeJobId: JOB_ID }));

    const reply = await disconnect(PAGE_ID);

    expectError(reply, 403, 'Page belongs to another organization');
    expect(ddbMock).not.toReceiveCommand(DeleteCommand);
    expect(ddbMock).not.toReceiveCommand(UpdateCommand);
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it('returns 403 when the page passed to another organization between the read and the delete', async () => {
    givenPage(storedPage(), storedPage({ organizationId: 'org-2' }));
    ddbMock.on(DeleteCommand).rejects(conditionFailed());

    const reply = await disconnect(PAGE_ID);

    expectError(reply, 403, 'Page belongs to another organization');
    expect(ddbMock).toReceiveCommandTimes(DeleteCommand, 1);
  });

  it('stops a sync that started between the read and the delete, then disconnects', async () => {
    givenPage(storedPage(), storedPage({ activeJobId: JOB_ID }));
    givenJob(storedJob());
    ddbMock.on(UpdateCommand).resolves({ Attributes: storedJob({ status: 'CANCELLED' }) });
    ddbMock.on(DeleteCommand).rejectsOnce(conditionFailed()).resolves({});

    const reply = await disconnect(PAGE_ID);

    expect(reply.statusCode).toBe(204);
    expect(ddbMock).toReceiveCommandTimes(DeleteCommand, 2);
    expect(ddbMock).toReceiveCommandWith(DeleteCommand, {
      ConditionExpression: expect.stringContaining('attribute_not_exists(activeJobId)'),
    });
  });

  it.each<[string, string | undefined, string]>([
    ['missing', undefined, 'pageId is required'],
    ['not numeric', 'my-page', 'pageId must be a numeric Facebook id'],
    ['a key with a suffix', `${PAGE_ID}#contacts`, 'pageId must be a numeric Facebook id'],
  ])('returns 400 and reads nothing when the pageId path parameter is %s', async (_case, pageId, error) => {
    const reply = await disconnect(pageId);

    expectRefused(reply, 400, error);
  });
});
