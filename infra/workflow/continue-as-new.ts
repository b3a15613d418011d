import { Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Choice, Condition, CustomState, JsonPath, Succeed } from 'aws-cdk-lib/aws-stepfunctions';
import { DynamoAttributeValue, DynamoUpdateItem } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { JOB_KEY } from './job-checks.ts';
import type { SyncOutcomes } from './outcomes.ts';
import { CONFLICT_RETRY } from './retries.ts';

/**
 * Continue-as-new: the next segment (at $.next) runs in a fresh execution of this state machine,
 * named "<jobId>-<platform><segment>", and the job records it so that a cancel stops that one. A
 * resumed run (input `run` = n, see shared/sync/commands/resume-sync.ts) names its continuations
 * "<jobId>-r<n>-<platform><segment>": the paused run may already have used the plain names.
 */
export function continueAsNew(
  scope: Construct,
  jobs: ITable,
  outcomes: Pick<SyncOutcomes, 'onError' | 'stopped'>,
): Choice {
  const partition = Stack.of(scope).partition;
  const startContinuation = (id: string, resumed: boolean) =>
    outcomes.onError(
      new CustomState(scope, id, {
        stateJson: {
          Type: 'Task',
          Resource: `arn:${partition}:states:::states:startExecution`,
          Parameters: {
            'StateMachineArn.$': '$$.StateMachine.Id',
            'Name.$': resumed
              ? "States.Format('{}-r{}-{}{}', $.jobId, $.run, $.next.platform, $.next.segment)"
              : "States.Format('{}-{}{}', $.jobId, $.next.platform, $.next.segment)",
            Input: {
              'jobId.$': '$.jobId',
              'pageId.$': '$.pageId',
              'resume.$': '$.next',
              ...(resumed ? { 'run.$': '$.run' } : {}),
            },
          },
          ResultSelector: { 'executionArn.$': '$.ExecutionArn' },
          ResultPath: '$.continuation',
        },
      }),
    );
  const continueFirstRun = startContinuation('Continue in a new execution', false);
  const continueResumedRun = startContinuation('Continue the resumed run in a new execution', true);

  const recordContinuation = new DynamoUpdateItem(scope, 'Record the new execution on the job', {
    table: jobs,
    key: JOB_KEY,
    updateExpression: 'SET executionArn = :arn',
    conditionExpression: '#status = :running',
    expressionAttributeNames: { '#status': 'status' },
    expressionAttributeValues: {
      ':arn': DynamoAttributeValue.fromString(JsonPath.stringAt('$.continuation.executionArn')),
      ':running': DynamoAttributeValue.fromString('IN_PROGRESS'),
    },
    resultPath: JsonPath.DISCARD,
  });
  recordContinuation.addRetry(CONFLICT_RETRY);
  // Cancelled meanwhile: the new execution stops at its first cancel check.
  recordContinuation.addCatch(outcomes.stopped, {
    errors: ['DynamoDB.ConditionalCheckFailedException'],
    resultPath: JsonPath.DISCARD,
  });
  outcomes.onError(recordContinuation);
  continueFirstRun.next(recordContinuation).next(new Succeed(scope, 'Continued in a new execution'));
  continueResumedRun.next(recordContinuation);

  return new Choice(scope, 'Is this a resumed run?')
    .when(Condition.isPresent('$.run'), continueResumedRun)
    .otherwise(continueFirstRun);
}
