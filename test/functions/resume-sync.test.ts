import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { routeKey } from '#shared/api/routes.ts';
import { ResumeSyncResponse } from '#shared/contract.ts';
import type { SyncJob } from '#shared/sync/job.ts';
import { handler } from '../../functions/resume-sync/handler.ts';
import { allowedStatuses, CALLER, expectError, routeCaller, setFields } from './event.ts';
import {
  commitInput,
  conditionFailed,
  ddbMock,
  eventsMock,
  expectRefused,
  givenEventBus,
  givenJob,
  INVALID_JOB_BODIES,
  itRefusesJobsIn,
  JOB_ID,
  PAGE_ID,
  PAGES_TABLE,
  pausedJob,
  resetAwsMocks,
  STATE_MACHINE_ARN,
  sfnMock,
  storedJob,
  updateInputs,
} from './fixtures.ts';

const RESUME_COMMIT = { ReturnValues: 'ALL_NEW', ConditionExpression: '#status IN (:from0)' } as const;

const resume = routeCaller(handler, 'resumeSync');
const resumedJob = (overrides: Partial<SyncJob> = {}) =>
  storedJob({ status: 'IN_PROGRESS', phase: 'resuming', resumeCount: 1, ...overrides });

beforeEach(() => {
  resetAwsMocks();
  givenEventBus();
});

describe(routeKey('resumeSync'), () => {
  it.each(INVALID_JOB_BODIES)('returns 400 and reads nothing when %s', async (_case, body, error) => {
    expectRefused(await resume(body), 400, error);
  });

  it('returns 404 when the job does not exist', async () => {
    givenJob(undefined);

    expectError(await resume({ jobId: JOB_ID }), 404, 'Sync job not found');
  });

  it('returns 403 when the job belongs to another organization', async () => {
    givenJob(pausedJob({ organizationId: 'org-2' }));

    expectError(await resume({ jobId: JOB_ID }), 403, 'Sync job belongs to another organization');
    expect(ddbMock).not.toReceiveCommand(UpdateCommand);
  });

  itRefusesJobsIn(
    ['PENDING', 'IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELLED'],
    'returns 400 and starts nothing when the job is %s',
    ['resume', resume],
    UpdateCommand,
  );

  it('moves the job PAUSED -> IN_PROGRESS, then starts "<jobId>-resume<n>" at the checkpoint with ids and cursors only', async () => {
    const checkpoint = { platform: 'instagram' as const, segment: 2, cursor: 'QVFIcursor' };
    givenJob(pausedJob({ resumeCount: 1, checkpoint }));
    ddbMock
      .on(UpdateCommand, RESUME_COMMIT)
      .resolves({ Attributes: resumedJob({ resumeCount: 2, checkpoint, syncedContacts: 9 }) });
    const executionArn = `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${JOB_ID}-resume2`;
    sfnMock.on(StartExecutionCommand).resolves({ executionArn });

    const reply = await resume({ jobId: JOB_ID });

    expect(reply.statusCode).toBe(200);
    expect(ResumeSyncResponse.parse(reply.body).job).toMatchObject({
      status: 'IN_PROGRESS',
      syncedContacts: 9,
    });
    const commit = commitInput();
    expect(allowedStatuses(commit)).toEqual(['PAUSED']);
    expect(setFields(commit)).toMatchObject({ status: 'IN_PROGRESS', resumeCount: 2 });
    expect(sfnMock).toReceiveCommandWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE_ARN,
      name: `${JOB_ID}-resume2`,
    });
    const input = JSON.parse(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
    expect(input).toEqual({ jobId: JOB_ID, pageId: PAGE_ID, run: 2, resume: checkpoint });
    expect(updateInputs().map(setFields)).toContainEqual({ executionArn });
    expect(eventsMock).toReceiveCommandTimes(PutEventsCommand, 1);
    expect(eventsMock.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0]?.DetailType).toBe(
      'Sync Job Resumed',
    );
    // The page lock never left the job.
    expect(ddbMock).not.toReceiveCommandWith(UpdateCommand, { TableName: PAGES_TABLE });
  });

  it('starts from the beginning when the job was paused before any discovery', async () => {
    givenJob(pausedJob({ listComplete: undefined }));
    ddbMock.on(UpdateCommand, RESUME_COMMIT).resolves({ Attributes: resumedJob() });
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });

    await resume({ jobId: JOB_ID });

    const input = JSON.parse(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
    expect(input.resume).toEqual({ platform: 'messenger', segment: 0, cursor: null });
  });

  it('returns 400 and starts nothing when a cancel commits first', async () => {
    givenJob(pausedJob(), storedJob({ status: 'CANCELLED', cancelledBy: CALLER.sub }));
    ddbMock.on(UpdateCommand, RESUME_COMMIT).rejects(conditionFailed());

    expectError(await resume({ jobId: JOB_ID }), 400, 'Cannot resume job with status: CANCELLED');
    expect(sfnMock).not.toReceiveAnyCommand();
  });

  it('puts the job back to PAUSED and returns 503 when the execution cannot start', async () => {
    givenJob(pausedJob());
    ddbMock.on(UpdateCommand, RESUME_COMMIT).resolves({ Attributes: resumedJob() });
    sfnMock.on(StartExecutionCommand).rejects(new Error('ServiceUnavailable'));

    const reply = await resume({ jobId: JOB_ID });

    expectError(reply, 503, 'The sync could not be resumed. Try again.');
    const back = updateInputs().find((u) => setFields(u).status === 'PAUSED');
    expect(back && allowedStatuses(back)).toEqual(['IN_PROGRESS']);
  });
});
