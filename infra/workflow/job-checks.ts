import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Condition, JsonPath } from 'aws-cdk-lib/aws-stepfunctions';
import {
  DynamoAttributeValue,
  DynamoGetItem,
  DynamoProjectionExpression,
} from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { JOB_SK } from '#shared/store/table-keys.ts';

/** The job and its page, as every state payload carries them (ids only: no PII in the history). */
export const JOB_IDS = { jobId: JsonPath.stringAt('$.jobId'), pageId: JsonPath.stringAt('$.pageId') };

/** The job record's key in the jobs table. */
export const JOB_KEY = {
  jobId: DynamoAttributeValue.fromString(JsonPath.stringAt('$.jobId')),
  sk: DynamoAttributeValue.fromString(JOB_SK),
};

/** A cancel check, as a state of the given name. */
export type CancelCheck = (name: string) => DynamoGetItem;

/**
 * The cancel check: a direct getItem of the job's status alone. It costs no Lambda, and sees a
 * cancel even when StopExecution failed. The raw answer is kept ($.job.Item is absent when the
 * job record is gone) because a selector on a missing path is a States.Runtime error no Catch
 * can handle.
 */
export const cancelCheck =
  (scope: Construct, jobs: ITable): CancelCheck =>
  (name) =>
    new DynamoGetItem(scope, name, {
      table: jobs,
      key: JOB_KEY,
      consistentRead: true,
      projectionExpression: [new DynamoProjectionExpression().withAttribute('#status')],
      expressionAttributeNames: { '#status': 'status' },
      resultPath: '$.job',
    });

/** After a cancel check: the job is still running (neither cancelled, paused nor ended). */
export const IS_RUNNING = Condition.and(
  Condition.isPresent('$.job.Item.status.S'),
  Condition.stringEquals('$.job.Item.status.S', 'IN_PROGRESS'),
);

/**
 * After a cancel check: the job record is gone. Not(IsPresent) rather than IsPresent: false,
 * which aws-local-stepfunctions evaluates wrongly.
 */
export const JOB_GONE = Condition.not(Condition.isPresent('$.job.Item'));
