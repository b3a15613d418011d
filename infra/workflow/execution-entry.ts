import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Choice, Condition, type IChainable, JsonPath, Pass, Result } from 'aws-cdk-lib/aws-stepfunctions';
import { DynamoAttributeValue, DynamoUpdateItem } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { JOB_KEY } from './job-checks.ts';
import type { SyncOutcomes } from './outcomes.ts';
import { CONFLICT_RETRY } from './retries.ts';

/**
 * How an execution enters its first segment. A new sync marks its job in progress and starts
 * from the top of the list; a continuation (of a large page, or of a resumed job) starts where
 * $.resume says.
 */
export function executionEntry(
  scope: Construct,
  jobs: ITable,
  outcomes: Pick<SyncOutcomes, 'onError' | 'stopped'>,
  segment: IChainable,
): IChainable {
  const markInProgress = outcomes.onError(
    new DynamoUpdateItem(scope, 'Mark job in progress', {
      table: jobs,
      key: JOB_KEY,
      updateExpression: 'SET #status = :running, phase = :phase, startedAt = :now, updatedAt = :now',
      conditionExpression: '#status = :pending',
      expressionAttributeNames: { '#status': 'status' },
      expressionAttributeValues: {
        ':running': DynamoAttributeValue.fromString('IN_PROGRESS'),
        ':pending': DynamoAttributeValue.fromString('PENDING'),
        ':phase': DynamoAttributeValue.fromString('starting'),
        ':now': DynamoAttributeValue.fromString(JsonPath.stringAt('$$.Execution.StartTime')),
      },
      resultPath: JsonPath.DISCARD,
    }),
  );
  markInProgress.addRetry(CONFLICT_RETRY);
  // Cancelled between StartExecution and here: nothing to do.
  markInProgress.addCatch(outcomes.stopped, {
    errors: ['DynamoDB.ConditionalCheckFailedException'],
    resultPath: JsonPath.DISCARD,
  });
  const resume = new Pass(scope, 'Resume where the last execution stopped', {
    inputPath: '$.resume',
    resultPath: '$.position',
  }).next(segment);
  markInProgress.next(
    new Pass(scope, 'Start from the top of the list', {
      result: Result.fromObject({ platform: 'messenger', cursor: null, segment: 0 }),
      resultPath: '$.position',
    }).next(segment),
  );

  return new Choice(scope, 'New sync or continuation?')
    .when(Condition.isPresent('$.resume'), resume)
    .otherwise(markInProgress);
}
