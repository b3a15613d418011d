import { ExecutionDoesNotExist, GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { routeKey } from '#shared/api/routes.ts';
import { SyncExecutionResponse } from '#shared/contract.ts';
import { REFRESH_MS, THROTTLED_RETRY_AFTER_S } from '#shared/sync/execution-history.ts';
import { handler } from '../../functions/sync-execution/handler.ts';
import { expectError, routeCaller } from './event.ts';
import {
  ddbMock,
  executionItem,
  expectRefused,
  givenJobPartition,
  JOB_ID,
  JOBS_TABLE,
  resetAwsMocks,
  STATE_MACHINE_ARN,
  sfnMock,
  storedJob,
} from './fixtures.ts';

const getExecution = routeCaller(handler, 'syncExecution');
const read = (query: Record<string, string>) => getExecution(undefined, { query });
const arnOf = (name: string) => `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
/** A short run as Step Functions records it: a Pass state, then the end `end`. */
function history(end: HistoryEvent['type'] | null): HistoryEvent[] {
  const events: HistoryEvent[] = [
    { id: 1, previousEventId: 0, timestamp: at(0), type: 'ExecutionStarted' },
    {
      id: 2,
      previousEventId: 1,
      timestamp: at(1),
      type: 'PassStateEntered',
      stateEnteredEventDetails: { name: 'Start' },
    },
    {
      id: 3,
      previousEventId: 2,
      timestamp: at(2),
      type: 'PassStateExited',
      stateExitedEventDetails: { name: 'Start' },
    },
  ];
  if (end === 'ExecutionAborted')
    events.push({
      id: 4,
      previousEventId: 3,
      timestamp: at(3),
      type: end,
      executionAbortedEventDetails: { error: 'SyncCancelled', cause: 'Cancelled by the user' },
    });
  else if (end) events.push({ id: 4, previousEventId: 3, timestamp: at(3), type: end });
  return events;
}

/** The summary cached for the execution, as the route writes it. */
const cachedWrites = () =>
  ddbMock
    .commandCalls(PutCommand)
    .map((c) => c.args[0].input)
    .filter((i) => String(i.Item?.sk).startsWith('HISTORY#'));

beforeEach(() => {
  resetAwsMocks();
  ddbMock.on(PutCommand).resolves({});
});

describe(routeKey('syncExecution'), () => {
  it("answers the execution and its history's summary, read without the execution's data, page by page", async () => {
    givenJobPartition(storedJob({ status: 'CANCELLED' }), [
      executionItem({ status: 'ABORTED', stopDate: '2026-01-01T00:00:03.000Z' }),
    ]);
    const events = history('ExecutionAborted');
    sfnMock
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({ events: events.slice(0, 2), nextToken: 'page-2' })
      .resolves({ events: events.slice(2) });

    const reply = await read({ jobId: JOB_ID, name: JOB_ID });

    expect(reply.statusCode).toBe(200);
    const body = SyncExecutionResponse.parse(reply.body);
    expect(body.execution).toMatchObject({ name: JOB_ID, executionArn: arnOf(JOB_ID), status: 'ABORTED' });
    expect(body.stale).toBe(false);
    expect(body.summary).toMatchObject({
      complete: true,
      eventCount: 4,
      states: [{ name: 'Start', type: 'Pass', entered: 1, exited: 1, totalMs: 1000 }],
      end: { type: 'ExecutionAborted', error: 'SyncCancelled', cause: 'Cancelled by the user' },
    });
    const calls = sfnMock.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      { executionArn: arnOf(JOB_ID), maxResults: 1000, includeExecutionData: false },
      { executionArn: arnOf(JOB_ID), maxResults: 1000, includeExecutionData: false, nextToken: 'page-2' },
    ]);
    expect(cachedWrites()).toMatchObject([
      { TableName: JOBS_TABLE, Item: { jobId: JOB_ID, sk: `HISTORY#${JOB_ID}`, complete: true } },
    ]);
  });

  it("never reads an ended execution's history again: its cached summary is final", async () => {
    const summary = {
      complete: true,
      readAt: at(9).toISOString(),
      eventCount: 4,
      states: [],
      map: null,
      end: null,
    };
    givenJobPartition(storedJob(), [executionItem({ status: 'SUCCEEDED' })], {
      summary: JSON.stringify(summary),
      complete: true,
      readAt: summary.readAt,
    });

    const reply = await read({ jobId: JOB_ID, name: JOB_ID });

    expect(SyncExecutionResponse.parse(reply.body)).toMatchObject({ summary, stale: false });
    expect(sfnMock).not.toReceiveAnyCommand();
    expect(cachedWrites()).toEqual([]);
  });

  it("re-reads a running execution's history only once its cached summary is older than the refresh interval", async () => {
    const fresh = {
      complete: false,
      readAt: new Date().toISOString(),
      eventCount: 3,
      states: [],
      map: null,
      end: null,
    };
    givenJobPartition(storedJob(), [executionItem()], {
      summary: JSON.stringify(fresh),
      complete: false,
      readAt: fresh.readAt,
    });
    await read({ jobId: JOB_ID, name: JOB_ID });
    expect(sfnMock).not.toReceiveAnyCommand();

    const old = { ...fresh, readAt: new Date(Date.now() - REFRESH_MS - 1000).toISOString() };
    givenJobPartition(storedJob(), [executionItem()], {
      summary: JSON.stringify(old),
      complete: false,
      readAt: old.readAt,
    });
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: history(null) });

    const reply = await read({ jobId: JOB_ID, name: JOB_ID });

    expect(SyncExecutionResponse.parse(reply.body).summary).toMatchObject({ complete: false, eventCount: 3 });
    expect(sfnMock).toReceiveCommandTimes(GetExecutionHistoryCommand, 1);
    expect(cachedWrites()).toMatchObject([{ Item: { complete: false } }]);
  });

  it('answers the last summary, stale, with Retry-After, when Step Functions throttles the read', async () => {
    const last = {
      complete: false,
      readAt: new Date(Date.now() - 60_000).toISOString(),
      eventCount: 3,
      states: [],
      map: null,
      end: null,
    };
    givenJobPartition(storedJob(), [executionItem()], {
      summary: JSON.stringify(last),
      complete: false,
      readAt: last.readAt,
    });
    sfnMock
      .on(GetExecutionHistoryCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    const reply = await read({ jobId: JOB_ID, name: JOB_ID });

    expect(reply.statusCode).toBe(200);
    expect(SyncExecutionResponse.parse(reply.body)).toMatchObject({ summary: last, stale: true });
    expect(reply.headers?.['Retry-After']).toBe(String(THROTTLED_RETRY_AFTER_S));
    expect(cachedWrites()).toEqual([]);
  });

  it('answers an empty stale summary when throttled before any summary was read', async () => {
    givenJobPartition(storedJob(), [executionItem()]);
    sfnMock
      .on(GetExecutionHistoryCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    const reply = await read({ jobId: JOB_ID, name: JOB_ID });

    expect(reply.statusCode).toBe(200);
    expect(SyncExecutionResponse.parse(reply.body)).toMatchObject({
      summary: { complete: false, eventCount: 0, states: [], map: null, end: null },
      stale: true,
    });
  });

  it('returns 404 for a name the job has no execution of, and reads no history', async () => {
    givenJobPartition(storedJob(), [executionItem()]);

    const reply = await read({ jobId: JOB_ID, name: `${JOB_ID}-resume7` });

    expectError(reply, 404, 'Execution not found');
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it('returns 404 when Step Functions no longer has the execution and nothing was cached', async () => {
    givenJobPartition(storedJob(), [executionItem({ status: 'SUCCEEDED' })]);
    sfnMock
      .on(GetExecutionHistoryCommand)
      .rejects(new ExecutionDoesNotExist({ message: 'gone', $metadata: {} }));

    expectError(await read({ jobId: JOB_ID, name: JOB_ID }), 404, 'Execution not found');
  });

  it("returns 403 without the execution for another organization's job, and reads no history", async () => {
    givenJobPartition(storedJob({ organizationId: 'org-2' }), [executionItem()]);

    const reply = await read({ jobId: JOB_ID, name: JOB_ID });

    expectError(reply, 403, 'Sync job belongs to another organization');
    expect(reply.raw).not.toContain('arn:');
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it.each<[string, Record<string, string>, string]>([
    ['the name is absent', { jobId: JOB_ID }, 'name is required'],
    [
      'the name is of another job',
      { jobId: JOB_ID, name: '00000000-0000-4000-8000-000000000009' },
      'name must be an execution of the job ("<jobId>" or "<jobId>-...")',
    ],
    [
      'the name is not an execution name',
      { jobId: JOB_ID, name: `${JOB_ID}:x` },
      'name must be an execution name (letters, digits, - and _, at most 80)',
    ],
    ['the job id is not a UUID', { jobId: 'job-1', name: 'job-1' }, 'jobId must be a UUID'],
  ])('returns 400 and reads nothing when %s', async (_case, query, message) => {
    expectRefused(await read(query), 400, message);
  });
});
