import { callerOf, type HttpEvent, httpHandler, json, parseQuery } from '#shared/http.ts';
import { SyncStatusQuery } from '#shared/schemas.ts';
import { publicJob } from '#shared/sync/job-view.ts';
import { ownedJob } from '#shared/sync/owned-job.ts';

/** Route `syncStatus` in shared/api/routes.ts, ?jobId= -> 200 {job} */
async function core(event: HttpEvent) {
  const { organizationId } = callerOf(event);
  const { jobId } = parseQuery(event, SyncStatusQuery);
  const job = await ownedJob(jobId, organizationId);
  return json(200, { job: publicJob(job) });
}

export const handler = httpHandler(core);
