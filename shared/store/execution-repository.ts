import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ExecutionStatus } from '../sync/execution-mirror.ts';
import { ddb, isConditionalCheckFailed, queryAll, tables } from './db.ts';
import { EXECUTION_PREFIX, executionKey, historyKey } from './table-keys.ts';

/**
 * A job's executions, one small item each in the job's partition (`EXEC#<name>`), written as they
 * start and as their status changes; and the cached summaries of their histories (`HISTORY#<name>`).
 * The job item itself is hot while a sync runs, so nothing here grows it. ARNs and console links
 * are derived (shared/sync/execution-view.ts), not stored.
 */
export interface ExecutionRecord {
  jobId: string;
  name: string;
  status: ExecutionStatus;
  /** ISO times. */
  startDate: string;
  stopDate?: string;
  /** The moment the recorded status holds from: its start for RUNNING, its stop otherwise. */
  statusAt: string;
}

/**
 * Records an execution's status as a status-change event reports it, creating its item if need be.
 * A report older than the recorded one is ignored (at the same instant a final status wins over
 * RUNNING), so redelivered and out-of-order events leave the latest status. Returns whether it wrote.
 */
export async function recordExecutionReport(
  jobId: string,
  report: { name: string; status: ExecutionStatus; startDate?: string; stopDate?: string; at: string },
): Promise<boolean> {
  const notBefore = report.status === 'RUNNING' ? '<' : '<=';
  const values: Record<string, unknown> = { ':s': report.status, ':at': report.at, ':name': report.name };
  const sets = ['#name = :name', '#status = :s', 'statusAt = :at'];
  if (report.startDate) {
    values[':start'] = report.startDate;
    sets.push('startDate = if_not_exists(startDate, :start)');
  }
  if (report.stopDate) {
    values[':stop'] = report.stopDate;
    sets.push('stopDate = :stop');
  }
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tables.jobs,
        Key: executionKey(jobId, report.name),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: `attribute_not_exists(statusAt) OR statusAt ${notBefore} :at`,
        ExpressionAttributeNames: { '#name': 'name', '#status': 'status' },
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}

/**
 * Records that an execution started: a RUNNING report as of its start, so it changes nothing when
 * its status-change events came first (they are as late or later). Returns whether it wrote.
 */
export const recordExecutionStart = (jobId: string, name: string, startDate: string): Promise<boolean> =>
  recordExecutionReport(jobId, { name, status: 'RUNNING', startDate, at: startDate });

/** The job's executions in the order they started (then by name), from one consistent query. */
export async function listExecutions(jobId: string): Promise<ExecutionRecord[]> {
  const items = await queryAll<ExecutionRecord & { sk: string }>({
    TableName: tables.jobs,
    KeyConditionExpression: 'jobId = :j AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':j': jobId, ':prefix': EXECUTION_PREFIX },
    ConsistentRead: true,
  });
  return items
    .map(({ sk: _sk, ...execution }) => execution)
    .sort((a, b) => a.startDate.localeCompare(b.startDate) || a.name.localeCompare(b.name));
}

/** One execution of the job, or undefined. */
export async function getExecution(jobId: string, name: string): Promise<ExecutionRecord | undefined> {
  const out = await ddb.send(
    new GetCommand({ TableName: tables.jobs, Key: executionKey(jobId, name), ConsistentRead: true }),
  );
  if (!out.Item) return undefined;
  const { sk: _sk, ...execution } = out.Item;
  return execution as ExecutionRecord;
}

/** A cached history summary: `summary` is the JSON the route answers, `complete` when final. */
export interface CachedHistory {
  summary: string;
  complete: boolean;
  readAt: string;
}

export async function getCachedHistory(jobId: string, name: string): Promise<CachedHistory | undefined> {
  const out = await ddb.send(new GetCommand({ TableName: tables.jobs, Key: historyKey(jobId, name) }));
  return out.Item as CachedHistory | undefined;
}

/**
 * Caches a summary. A final (complete) summary is never replaced, and an older read never replaces
 * a newer one, so readers racing each other leave the latest. Returns whether it wrote.
 */
export async function cacheHistory(jobId: string, name: string, cached: CachedHistory): Promise<boolean> {
  try {
    await ddb.send(
      new PutCommand({
        TableName: tables.jobs,
        Item: { ...historyKey(jobId, name), ...cached },
        ConditionExpression: 'attribute_not_exists(sk) OR (complete = :false AND readAt < :readAt)',
        ExpressionAttributeValues: { ':false': false, ':readAt': cached.readAt },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}
