import {
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { JobStatus } from '../job-status.ts';
import type { JobPhase, SyncJob } from '../sync/job.ts';
import {
  conditionFailedItem,
  ddb,
  isConditionalCheckFailed,
  setExpression,
  tables,
  transactionReasons,
} from './db.ts';
import { JOBS_BY_PAGE, jobKey } from './table-keys.ts';

export async function getJob(jobId: string): Promise<SyncJob | undefined> {
  const out = await ddb.send(
    new GetCommand({ TableName: tables.jobs, Key: jobKey(jobId), ConsistentRead: true }),
  );
  return out.Item as SyncJob | undefined;
}

/** The job's status alone (undefined when there is no such job): one consistent read. */
export async function getJobStatus(jobId: string): Promise<JobStatus | undefined> {
  const out = await ddb.send(
    new GetCommand({
      TableName: tables.jobs,
      Key: jobKey(jobId),
      ConsistentRead: true,
      ProjectionExpression: '#status',
      ExpressionAttributeNames: { '#status': 'status' },
    }),
  );
  return (out.Item as Pick<SyncJob, 'status'> | undefined)?.status;
}

/**
 * A page's jobs of one organization, newest first. A page can change hands (disconnected, then
 * connected by another organization), and a job is readable only by its own organization.
 */
export async function listJobsForPage(
  pageId: string,
  organizationId: string,
  limit = 20,
): Promise<SyncJob[]> {
  const jobs: SyncJob[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await ddb.send(
      new QueryCommand({
        TableName: tables.jobs,
        IndexName: JOBS_BY_PAGE.indexName,
        KeyConditionExpression: `${JOBS_BY_PAGE.partitionKey} = :p`,
        FilterExpression: 'organizationId = :o',
        ExpressionAttributeValues: { ':p': pageId, ':o': organizationId },
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: startKey,
      }),
    );
    // The filter also runs here: the answer must hold whatever the query returned.
    jobs.push(...((out.Items ?? []) as SyncJob[]).filter((job) => job.organizationId === organizationId));
    startKey = out.LastEvaluatedKey;
  } while (startKey && jobs.length < limit);
  return jobs.slice(0, limit);
}

export interface Transition {
  from: readonly JobStatus[];
  to: JobStatus;
  phase: JobPhase;
  set?: Record<string, unknown>;
}

/** The conditional update of a transition (and, with `organizationId`, of its owner only). */
function transitionUpdate(jobId: string, t: Transition, organizationId?: string): UpdateCommandInput {
  const set = setExpression({ ...t.set, status: t.to, phase: t.phase, updatedAt: new Date().toISOString() });
  const { names, values } = set;
  const allowed = t.from.map((status, i) => {
    values[`:from${i}`] = status;
    return `:from${i}`;
  });
  names['#status'] = 'status';
  if (organizationId !== undefined) values[':org'] = organizationId;
  return {
    TableName: tables.jobs,
    Key: jobKey(jobId),
    UpdateExpression: set.expression,
    ConditionExpression: `${organizationId !== undefined ? 'organizationId = :org AND ' : ''}#status IN (${allowed.join(', ')})`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ReturnValues: 'ALL_NEW',
  };
}

/**
 * Moves a job between statuses with one conditional update. Returns the job as written, or null
 * when the job was not in one of `from` (someone else won the race).
 */
export async function transitionJob(jobId: string, t: Transition): Promise<SyncJob | null> {
  try {
    const out = await ddb.send(new UpdateCommand(transitionUpdate(jobId, t)));
    return out.Attributes as SyncJob;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return null;
    throw error;
  }
}

/**
 * The transition of `transitionJob` and `alongside` (an update of another item) in one
 * transaction: both or neither. `job-lost`: the job was not in one of `from`; `other-refused`:
 * the other item's condition failed.
 */
export async function transitionJobWith(
  jobId: string,
  t: Transition,
  alongside: NonNullable<TransactWriteCommandInput['TransactItems']>[number],
): Promise<'won' | 'job-lost' | 'other-refused'> {
  const {
    TableName,
    Key,
    UpdateExpression,
    ConditionExpression,
    ExpressionAttributeNames,
    ExpressionAttributeValues,
  } = transitionUpdate(jobId, t);
  const update = {
    TableName: TableName as string,
    Key: Key as Record<string, unknown>,
    UpdateExpression: UpdateExpression as string,
    ConditionExpression,
    ExpressionAttributeNames,
    ExpressionAttributeValues,
  };
  try {
    await ddb.send(new TransactWriteCommand({ TransactItems: [{ Update: update }, alongside] }));
    return 'won';
  } catch (error) {
    const [job, other] = transactionReasons(error) ?? [];
    if (job === 'ConditionalCheckFailed') return 'job-lost';
    if (other === 'ConditionalCheckFailed') return 'other-refused';
    throw error;
  }
}

/** What a commit point decided: `won` with the job as written, or not, with the job as it was (undefined: none). */
export type Commit = { won: true; job: SyncJob } | { won: false; job: SyncJob | undefined };

/**
 * A commit point in one round trip: the transition of `transitionJob`, also conditional on the
 * job being `organizationId`'s. It returns the job it wrote, or, when it loses, the job as it was
 * (`ReturnValuesOnConditionCheckFailure: ALL_OLD`; none when there is no such job), so the caller
 * decides 404, 403, 400 or an idempotent 200 with no read before the write.
 */
export async function commitTransition(
  jobId: string,
  organizationId: string,
  t: Transition,
): Promise<Commit> {
  try {
    const out = await ddb.send(
      new UpdateCommand({
        ...transitionUpdate(jobId, t, organizationId),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { won: true, job: out.Attributes as SyncJob };
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    return { won: false, job: conditionFailedItem(error) as SyncJob | undefined };
  }
}

/** Records a fact about a job without touching its status or counters. */
export async function annotateJob(jobId: string, fields: Record<string, string>): Promise<void> {
  const set = setExpression(fields);
  await ddb.send(
    new UpdateCommand({
      TableName: tables.jobs,
      Key: jobKey(jobId),
      UpdateExpression: set.expression,
      ConditionExpression: 'attribute_exists(jobId)',
      ExpressionAttributeNames: set.names,
      ExpressionAttributeValues: set.values,
    }),
  );
}

/**
 * Mirrors the state of the job's execution (Step Functions status-change events). Written only
 * when `executionArn` is the job's current execution (the first one, named after the job, may
 * report before start-sync has recorded its ARN), and never over a later report of the same
 * execution: events can arrive late or out of order. Returns false when the report was stale.
 */
export async function recordExecutionStatus(
  jobId: string,
  report: { executionArn: string; status: string; at: string; first: boolean },
): Promise<boolean> {
  // At the same instant a final state wins over RUNNING.
  const notBefore = report.status === 'RUNNING' ? '<' : '<=';
  const current = report.first
    ? '(executionArn = :arn OR attribute_not_exists(executionArn))'
    : 'executionArn = :arn';
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tables.jobs,
        Key: jobKey(jobId),
        UpdateExpression: 'SET executionStatus = :s, executionStatusAt = :at, executionStatusArn = :arn',
        ConditionExpression: `attribute_exists(jobId) AND ${current} AND (attribute_not_exists(executionStatusAt) OR executionStatusArn <> :arn OR executionStatusAt ${notBefore} :at)`,
        ExpressionAttributeValues: { ':s': report.status, ':at': report.at, ':arn': report.executionArn },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}
