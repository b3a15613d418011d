import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { JobEventDetail, publishJobEvent } from '#shared/events/lifecycle.ts';
import { handler as mirrorHandler } from '../../functions/mirror-execution/handler.ts';
import { lambdaContext, setFields } from './event.ts';
import { ddbMock, eventsMock, JOB_ID, JOBS_TABLE, resetAwsMocks, storedJob } from './fixtures.ts';

const MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:ContactSyncTest';
const arnOf = (name: string) => `${MACHINE.replace(':stateMachine:', ':execution:')}:${name}`;

function statusChange(
  name: string,
  status: string,
  startDate = 1_767_225_600_000,
  stopDate: number | null = null,
) {
  return {
    version: '0',
    id: 'e-1',
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    time: '2026-01-01T00:00:00Z',
    detail: { executionArn: arnOf(name), stateMachineArn: MACHINE, name, status, startDate, stopDate },
  };
}

/** The writes of the job item, and of the executions' own items, in the order they were sent. */
const updates = () => ddbMock.commandCalls(UpdateCommand).map((c) => c.args[0].input);
const jobWrites = () => updates().filter((u) => u.Key?.sk === 'JOB');
const executionWrites = () => updates().filter((u) => String(u.Key?.sk).startsWith('EXEC#'));

/** The EventBridge target, invoked as Lambda does. */
const handler = (event: unknown) => mirrorHandler(event, lambdaContext);

beforeEach(() => {
  resetAwsMocks();
  eventsMock.reset();
});

describe('mirror-execution (Step Functions status changes -> job.executionStatus)', () => {
  it('writes the first execution status even before start-sync recorded its ARN', async () => {
    ddbMock.on(UpdateCommand).resolves({});

    await expect(handler(statusChange(JOB_ID, 'RUNNING'))).resolves.toEqual({ outcome: 'mirrored' });

    expect(ddbMock).toReceiveCommandWith(UpdateCommand, {
      TableName: JOBS_TABLE,
      Key: { jobId: JOB_ID, sk: 'JOB' },
      ConditionExpression: expect.stringContaining(
        '(executionArn = :arn OR attribute_not_exists(executionArn))',
      ),
      ExpressionAttributeValues: {
        ':s': 'RUNNING',
        ':at': '2026-01-01T00:00:00.000Z',
        ':arn': arnOf(JOB_ID),
      },
    });
  });

  it('writes a continuation execution only while it is the job current one, and stamps its stop time', async () => {
    ddbMock.on(UpdateCommand).resolves({});
    const name = `${JOB_ID}-messenger1`;

    await handler(statusChange(name, 'ABORTED', 1_767_225_600_000, 1_767_225_660_000));

    const input = jobWrites()[0];
    expect(input?.ConditionExpression).toContain('AND executionArn = :arn AND');
    expect(input?.ConditionExpression).not.toContain('attribute_not_exists(executionArn)');
    expect(input?.ExpressionAttributeValues).toMatchObject({
      ':s': 'ABORTED',
      ':at': '2026-01-01T00:01:00.000Z',
    });
  });

  it('records the stop outcome STOPPED with an ABORTED report of the job current execution', async () => {
    ddbMock.on(UpdateCommand).resolves({});

    await expect(
      handler(statusChange(JOB_ID, 'ABORTED', 1_767_225_600_000, 1_767_225_660_000)),
    ).resolves.toEqual({ outcome: 'mirrored' });

    const [status, outcome, ...more] = jobWrites();
    expect(more).toEqual([]);
    expect(status?.ExpressionAttributeValues).toMatchObject({ ':s': 'ABORTED' });
    expect(outcome).toMatchObject({ TableName: JOBS_TABLE, Key: { jobId: JOB_ID, sk: 'JOB' } });
    expect(outcome && setFields(outcome)).toEqual({ stopExecutionOutcome: 'STOPPED' });
  });

  it.each(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT'])(
    'records no stop outcome with a %s report',
    async (status) => {
      ddbMock.on(UpdateCommand).resolves({});

      await handler(statusChange(JOB_ID, status, 1_767_225_600_000, 1_767_225_660_000));

      expect(jobWrites()).toHaveLength(1);
      expect(executionWrites()).toHaveLength(1);
    },
  );

  it('records no stop outcome for an ABORTED execution that is no longer the job current one', async () => {
    ddbMock.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));

    await expect(handler(statusChange(`${JOB_ID}-messenger1`, 'ABORTED'))).resolves.toEqual({
      outcome: 'stale',
    });
    expect(jobWrites()).toHaveLength(1);
  });

  it("records every report on the execution's own item, keyed by its name, current or not", async () => {
    ddbMock
      .on(UpdateCommand, { Key: { jobId: JOB_ID, sk: 'JOB' } })
      .rejects(new ConditionalCheckFailedException({ message: 'not current', $metadata: {} }));
    ddbMock.on(UpdateCommand, { Key: { jobId: JOB_ID, sk: `EXEC#${JOB_ID}-resume1` } }).resolves({});

    await expect(
      handler(statusChange(`${JOB_ID}-resume1`, 'ABORTED', 1_767_225_600_000, 1_767_225_660_000)),
    ).resolves.toEqual({ outcome: 'stale' });

    const [execution, ...more] = executionWrites();
    expect(more).toEqual([]);
    expect(execution).toMatchObject({
      TableName: JOBS_TABLE,
      Key: { jobId: JOB_ID, sk: `EXEC#${JOB_ID}-resume1` },
      // A later report wins; at the same instant a final status wins over RUNNING.
      ConditionExpression: 'attribute_not_exists(statusAt) OR statusAt <= :at',
    });
    expect(execution?.UpdateExpression).toBe(
      'SET #name = :name, #status = :s, statusAt = :at, startDate = if_not_exists(startDate, :start), stopDate = :stop',
    );
    expect(execution?.ExpressionAttributeValues).toEqual({
      ':name': `${JOB_ID}-resume1`,
      ':s': 'ABORTED',
      ':at': '2026-01-01T00:01:00.000Z',
      ':start': '2026-01-01T00:00:00.000Z',
      ':stop': '2026-01-01T00:01:00.000Z',
    });
  });

  it('lets a RUNNING report replace only an older status of the execution', async () => {
    ddbMock.on(UpdateCommand).resolves({});

    await handler(statusChange(JOB_ID, 'RUNNING'));

    expect(executionWrites()[0]).toMatchObject({
      ConditionExpression: 'attribute_not_exists(statusAt) OR statusAt < :at',
      ExpressionAttributeValues: { ':s': 'RUNNING', ':at': '2026-01-01T00:00:00.000Z' },
    });
    expect(executionWrites()[0]?.ExpressionAttributeValues).not.toHaveProperty(':stop');
  });

  it('throws when the stop outcome cannot be written, so EventBridge delivers the report again', async () => {
    ddbMock.on(UpdateCommand).resolves({});
    ddbMock
      .on(UpdateCommand, { Key: { jobId: JOB_ID, sk: 'JOB' } })
      .resolvesOnce({})
      .rejects(new Error('ProvisionedThroughputExceededException'));

    await expect(handler(statusChange(JOB_ID, 'ABORTED'))).rejects.toThrow();
    expect(jobWrites()).toHaveLength(2);
  });

  it('answers stale when the report is late or of a replaced execution', async () => {
    ddbMock.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));

    await expect(handler(statusChange(JOB_ID, 'SUCCEEDED'))).resolves.toEqual({ outcome: 'stale' });
  });

  it.each(['not-a-job', `${JOB_ID}x`])('writes nothing for the execution %s', async (name) => {
    await expect(handler(statusChange(name, 'RUNNING'))).resolves.toEqual({ outcome: 'not-a-job' });
    expect(ddbMock).not.toReceiveAnyCommand();
  });

  it('rejects an event that is not a status change, so EventBridge retries nothing useless', async () => {
    await expect(handler({ 'detail-type': 'Something else', detail: {} })).rejects.toThrow();
    expect(ddbMock).not.toReceiveAnyCommand();
  });
});

describe('publishJobEvent', () => {
  it('puts one versioned event on the bus with ids, counters and the cancel who and why only', async () => {
    process.env.EVENT_BUS_NAME = 'contact-sync-test-bus';
    eventsMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    const job = storedJob({ status: 'CANCELLED', cancelledBy: 'user-1', cancelReason: 'wrong page' });

    await expect(publishJobEvent('Sync Job Cancelled', job)).resolves.toBe(true);

    const entry = eventsMock.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry).toMatchObject({
      EventBusName: 'contact-sync-test-bus',
      Source: 'contact-sync',
      DetailType: 'Sync Job Cancelled',
    });
    const detail = JobEventDetail.parse(JSON.parse(String(entry?.Detail)));
    expect(detail).toEqual({
      version: '1',
      jobId: JOB_ID,
      organizationId: job.organizationId,
      pageId: job.pageId,
      status: 'CANCELLED',
      phase: job.phase,
      syncedContacts: 7,
      failedContacts: 2,
      totalContacts: 40,
      occurredAt: job.updatedAt,
      createdBy: job.createdBy,
      cancelledBy: 'user-1',
      cancelReason: 'wrong page',
    });
  });

  it('never throws: a failed put is logged and answered false', async () => {
    process.env.EVENT_BUS_NAME = 'contact-sync-test-bus';
    eventsMock.on(PutEventsCommand).rejects(new Error('boom'));

    await expect(publishJobEvent('Sync Job Completed', storedJob())).resolves.toBe(false);
  });
});
