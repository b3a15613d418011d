import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ExecutionDoesNotExist, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { routeKey } from '#shared/api/routes.ts';
import { PauseSyncResponse } from '#shared/contract.ts';
import type { JobStatus } from '#shared/job-status.ts';
import { handler } from '../../functions/pause-sync/handler.ts';
import {
  allowedStatuses,
  CALLER,
  expectError,
  expectInternalError,
  routeCaller,
  setFields,
} from './event.ts';
import {
  CANCEL_COMMIT,
  commitInput,
  conditionFailed,
  ddbMock,
  eventsMock,
  expectOnlyTheRefusedCommit,
  expectRefused,
  givenEventBus,
  givenJob,
  givenRefusedCommit,
  INVALID_JOB_BODIES,
  JOB_ID,
  JOBS_TABLE,
  PAGES_TABLE,
  pausedJob,
  resetAwsMocks,
  sfnMock,
  storedJob,
  updateInputs,
} from './fixtures.ts';

/** The pause's commit point is, like the cancel's, the one update that asks for the new item back. */
const PAUSE_COMMIT = CANCEL_COMMIT;

const pause = routeCaller(handler, 'pauseSync');

beforeEach(() => {
  resetAwsMocks();
  givenEventBus();
});

describe(routeKey('pauseSync'), () => {
  it.each<[string, unknown, string]>([
    ...INVALID_JOB_BODIES,
    ['the body has an unknown key', { jobId: JOB_ID, reason: 'x' }, 'Unrecognized key: "reason"'],
  ])('returns 400 and reads nothing when %s', async (_case, body, error) => {
    expectRefused(await pause(body), 400, error);
  });

  it('returns 404 when the job does not exist', async () => {
    givenRefusedCommit(undefined);

    expectError(await pause({ jobId: JOB_ID }), 404, 'Sync job not found');
    expectOnlyTheRefusedCommit();
  });

  it('returns 403 and changes nothing when the job belongs to another organization', async () => {
    givenRefusedCommit(storedJob({ organizationId: 'org-2' }));

    expectError(await pause({ jobId: JOB_ID }), 403, 'Sync job belongs to another organization');
    expectOnlyTheRefusedCommit();
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it.each<JobStatus>(['COMPLETED', 'FAILED', 'CANCELLED'])(
    'returns 400 and changes nothing when the job is %s',
    async (status) => {
      givenRefusedCommit(storedJob({ status, completedAt: '2026-01-01T00:05:00.000Z' }));

      expectError(await pause({ jobId: JOB_ID }), 400, `Cannot pause job with status: ${status}`);
      expectOnlyTheRefusedCommit();
      expect(sfnMock).not.toReceiveAnyCommand();
    },
  );

  it('returns 200 with the stored job and writes nothing when the job is already PAUSED', async () => {
    givenRefusedCommit(pausedJob({ syncedContacts: 11 }));

    const reply = await pause({ jobId: JOB_ID });

    expect(reply.statusCode).toBe(200);
    expect(PauseSyncResponse.parse(reply.body)).toMatchObject({
      success: true,
      job: { id: JOB_ID, status: 'PAUSED', syncedContacts: 11, pausedAt: '2026-01-01T00:02:00.000Z' },
    });
    expectOnlyTheRefusedCommit();
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it.each<JobStatus>(['PENDING', 'IN_PROGRESS'])(
    'pauses a %s job with one update conditional on PENDING or IN_PROGRESS, and keeps the page lock',
    async (status) => {
      givenJob(storedJob({ status }));
      ddbMock.on(UpdateCommand, PAUSE_COMMIT).resolves({ Attributes: pausedJob({ syncedContacts: 8 }) });

      const reply = await pause({ jobId: JOB_ID });

      expect(reply.statusCode).toBe(200);
      // The counters the commit wrote are the answer.
      expect(PauseSyncResponse.parse(reply.body).job).toMatchObject({ status: 'PAUSED', syncedContacts: 8 });
      const commit = commitInput();
      expect(allowedStatuses(commit).sort()).toEqual(['IN_PROGRESS', 'PENDING']);
      expect(setFields(commit)).toMatchObject({
        status: 'PAUSED',
        phase: 'paused',
        pausedBy: CALLER.sub,
        pausedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
      expect(ddbMock).not.toReceiveCommandWith(UpdateCommand, { TableName: PAGES_TABLE });
    },
  );

  it('stops the execution recorded on the job, and leaves the STOPPED record to the execution mirror', async () => {
    const executionArn = 'arn:aws:states:us-east-1:000000000000:execution:ContactSyncTest:recorded';
    givenJob(storedJob({ executionArn }));
    ddbMock.on(UpdateCommand, PAUSE_COMMIT).resolves({ Attributes: pausedJob({ executionArn }) });

    const reply = await pause({ jobId: JOB_ID });

    expect(reply.statusCode).toBe(200);
    expect(sfnMock).toReceiveCommandWith(StopExecutionCommand, { executionArn, error: 'SyncPaused' });
    // One write before the answer, the commit: the ABORTED status change records the outcome.
    expect(updateInputs()).toHaveLength(1);
    expect(updateInputs().map(setFields)).not.toContainEqual({ stopExecutionOutcome: 'STOPPED' });
  });

  it('records the outcome itself when StopExecution fails (no event will come)', async () => {
    givenJob(storedJob());
    ddbMock.on(UpdateCommand, PAUSE_COMMIT).resolves({ Attributes: pausedJob() });
    sfnMock.on(StopExecutionCommand).rejects(new Error('socket hang up'));

    const reply = await pause({ jobId: JOB_ID });

    expect(reply.statusCode).toBe(200);
    expect(updateInputs().map(setFields)).toContainEqual({ stopExecutionOutcome: 'FAILED: Error' });
  });

  it('still answers 200 when there is no execution to stop', async () => {
    givenJob(storedJob({ status: 'PENDING' }));
    ddbMock.on(UpdateCommand, PAUSE_COMMIT).resolves({ Attributes: pausedJob() });
    sfnMock.on(StopExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'x', $metadata: {} }));

    const reply = await pause({ jobId: JOB_ID });

    expect(reply.statusCode).toBe(200);
    expect(updateInputs().map(setFields)).toContainEqual({ stopExecutionOutcome: 'NO_EXECUTION' });
  });

  it('publishes "Sync Job Paused" once, from the call that committed', async () => {
    // The first commits; the second finds the job paused already.
    ddbMock
      .on(UpdateCommand, PAUSE_COMMIT)
      .resolvesOnce({ Attributes: pausedJob() })
      .rejects(conditionFailed(pausedJob()));

    await pause({ jobId: JOB_ID });
    await pause({ jobId: JOB_ID });

    expect(eventsMock).toReceiveCommandTimes(PutEventsCommand, 1);
    const entry = eventsMock.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry).toMatchObject({ Source: 'contact-sync', DetailType: 'Sync Job Paused' });
    expect(JSON.parse(entry?.Detail ?? '{}')).toMatchObject({ jobId: JOB_ID, status: 'PAUSED' });
  });

  it('returns 400 with the winner status when completion commits first', async () => {
    givenRefusedCommit(storedJob({ status: 'COMPLETED', completedAt: '2026-01-01T00:03:00.000Z' }));

    expectError(await pause({ jobId: JOB_ID }), 400, 'Cannot pause job with status: COMPLETED');
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it('returns 200 with the stored job when another pause commits first', async () => {
    givenRefusedCommit(pausedJob({ pausedBy: 'user-2' }));

    const reply = await pause({ jobId: JOB_ID });

    expect(reply.statusCode).toBe(200);
    expect(reply.body).toMatchObject({ success: true, job: { status: 'PAUSED' } });
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it('returns 500 with a fixed body when the commit fails', async () => {
    ddbMock.on(UpdateCommand, PAUSE_COMMIT).rejects(new Error(`boom on ${JOBS_TABLE}`));

    const reply = await pause({ jobId: JOB_ID });

    expectInternalError(reply);
  });
});
