import { callerOf, type HttpEvent, httpHandler, json, parseQuery } from '#shared/http.ts';
import { SyncStatusQuery } from '#shared/schemas.ts';
import { listExecutions } from '#shared/store/execution-repository.ts';
import { executionView } from '#shared/sync/execution-view.ts';
import { publicJob } from '#shared/sync/job-view.ts';
import { ownedJob } from '#shared/sync/owned-job.ts';

/** Route `syncStatus` in shared/api/routes.ts, ?jobId= -> 200 {job} with its executions */
async function core(event: HttpEvent) {
  const { organizationId } = callerOf(event);
  const { jobId } = parseQuery(event, SyncStatusQuery);
  // Both reads at once; the executions are answered only once the job proved to be the caller's.
  const [job, executions] = await Promise.all([ownedJob(jobId, organizationId), listExecutions(jobId)]);
  return json(200, {
    job: { ...publicJob(job), executions: executions.map((e) => executionView(jobId, e)) },
  });
}

export const handler = httpHandler(core);
