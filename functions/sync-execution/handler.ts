import { ExecutionNotFound } from '#shared/domain-errors.ts';
import { callerOf, type HttpEvent, httpHandler, json, parseQuery } from '#shared/http.ts';
import { SyncExecutionQuery } from '#shared/schemas.ts';
import { getExecution } from '#shared/store/execution-repository.ts';
import { executionHistory, THROTTLED_RETRY_AFTER_S } from '#shared/sync/execution-history.ts';
import { executionView } from '#shared/sync/execution-view.ts';
import { ownedJob } from '#shared/sync/owned-job.ts';

/**
 * Route `syncExecution` in shared/api/routes.ts, ?jobId=&name= -> 200 {execution, summary, stale}:
 * one execution of the caller's job and the summary of its history (shared/sync/execution-history.ts).
 * A `stale` answer carries Retry-After: Step Functions throttled the read.
 */
async function core(event: HttpEvent) {
  const { organizationId } = callerOf(event);
  const { jobId, name } = parseQuery(event, SyncExecutionQuery);
  const [, record] = await Promise.all([ownedJob(jobId, organizationId), getExecution(jobId, name)]);
  if (!record) throw new ExecutionNotFound();
  const execution = executionView(jobId, record);
  const { summary, stale } = await executionHistory(jobId, name, execution.executionArn);
  const answer = json(200, { execution, summary, stale });
  if (stale) answer.headers = { ...answer.headers, 'Retry-After': String(THROTTLED_RETRY_AFTER_S) };
  return answer;
}

export const handler = httpHandler(core);
