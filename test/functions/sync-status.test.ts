import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
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
  STATE_MACHINE_ARN,
  storedJob,
} from './fixtures.ts';

/** The job's execution items, as the query of its partition answers them (by sort key). */
function givenExecutions(
  executions: { name: string; status: string; startDate: string; stopDate?: string }[],
) {
  const items = executions
    .map((e) => ({ jobId: JOB_ID, sk: `EXEC#${e.name}`, ...e, statusAt: e.stopDate ?? e.startDate }))
    .sort((a, b) => a.sk.localeCompare(b.sk));
  ddbMock.on(QueryCommand).resolves({ Items: items });
}

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

beforeEach(() => {
  resetAwsMocks();
  givenExecutions([]);
});

describe(routeKey('syncStatus'), () => {
  it('returns 200 with the job and a null progress before any discovery', async () => {
    givenJob(freshJob());

    const reply = await status({ jobId: JOB_ID });

    expect(reply.statusCode).toBe(200);
    expect(SyncStatusResponse.parse(reply.body)).toEqual(reply.body);
    expect(reply.body).toEqual({
      job: {
        ...SHOWN_JOB,
        id: JOB_ID,
        pageId: PAGE_ID,
        startedAt: '2026-01-01T00:00:01.000Z',
        executions: [],
      },
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

  it("lists the job's executions in the order they started, with derived ARNs and console links", async () => {
    givenJob(freshJob({ status: 'CANCELLED', phase: 'cancelled' }));
    // Stored by name, so the query answers them in name order; the answer is in start order.
    givenExecutions([
      {
        name: JOB_ID,
        status: 'ABORTED',
        startDate: '2026-01-01T00:00:01.000Z',
        stopDate: '2026-01-01T00:00:09.000Z',
      },
      {
        name: `${JOB_ID}-resume1`,
        status: 'ABORTED',
        startDate: '2026-01-01T00:00:20.000Z',
        stopDate: '2026-01-01T00:00:30.000Z',
      },
      {
        name: `${JOB_ID}-messenger1`,
        status: 'SUCCEEDED',
        startDate: '2026-01-01T00:00:05.000Z',
        stopDate: '2026-01-01T00:00:06.000Z',
      },
    ]);

    const reply = await status({ jobId: JOB_ID });

    expect(reply.statusCode).toBe(200);
    const { job } = SyncStatusResponse.parse(reply.body);
    expect(job.executions.map((e) => e.name)).toEqual([JOB_ID, `${JOB_ID}-messenger1`, `${JOB_ID}-resume1`]);
    const machine = STATE_MACHINE_ARN.split(':').at(-1);
    expect(job.executions[2]).toEqual({
      name: `${JOB_ID}-resume1`,
      executionArn: `arn:aws:states:us-east-1:000000000000:execution:${machine}:${JOB_ID}-resume1`,
      status: 'ABORTED',
      startDate: '2026-01-01T00:00:20.000Z',
      stopDate: '2026-01-01T00:00:30.000Z',
      consoleUrl: `https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/arn:aws:states:us-east-1:000000000000:execution:${machine}:${JOB_ID}-resume1`,
    });
    expect(ddbMock).toReceiveCommandWith(QueryCommand, {
      TableName: JOBS_TABLE,
      KeyConditionExpression: 'jobId = :j AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':j': JOB_ID, ':prefix': 'EXEC#' },
      ConsistentRead: true,
    });
  });

  it('links each execution to the console EXECUTION_CONSOLE_URL names (the local console)', async () => {
    givenJob(freshJob());
    givenExecutions([{ name: JOB_ID, status: 'RUNNING', startDate: '2026-01-01T00:00:01.000Z' }]);
    process.env.EXECUTION_CONSOLE_URL = 'http://127.0.0.1:3000/#/jobs/{jobId}/executions/{name}';
    try {
      const reply = await status({ jobId: JOB_ID });

      const { job } = SyncStatusResponse.parse(reply.body);
      expect(job.executions).toMatchObject([
        {
          status: 'RUNNING',
          stopDate: null,
          consoleUrl: `http://127.0.0.1:3000/#/jobs/${JOB_ID}/executions/${JOB_ID}`,
        },
      ]);
    } finally {
      delete process.env.EXECUTION_CONSOLE_URL;
    }
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
    givenExecutions([{ name: JOB_ID, status: 'RUNNING', startDate: '2026-01-01T00:00:01.000Z' }]);

    const reply = await status({ jobId: JOB_ID });

    expectError(reply, 403, 'Sync job belongs to another organization');
    expect(reply.raw).not.toContain(PAGE_ID);
    expect(reply.raw).not.toContain('execution');
  });
});
