import { forbidden, notFound } from '#shared/errors.ts';
import { callerOf, type HttpEvent, httpHandler, json, parseQuery } from '#shared/http.ts';
import { correlate } from '#shared/observability.ts';
import { SyncStatusQuery } from '#shared/schemas.ts';
import { getJob } from '#shared/store/job-repository.ts';
import { publicJob } from '#shared/sync/job.ts';

/** GET /api/facebook/sync-status?jobId= -> 200 {job} */
async function core(event: HttpEvent) {
  const { organizationId } = callerOf(event);
  const { jobId } = parseQuery(event, SyncStatusQuery);
  const job = await getJob(jobId);
  if (!job) throw notFound('Sync job not found');
  correlate(job);
  if (job.organizationId !== organizationId) throw forbidden('Sync job belongs to another organization');
  return json(200, { job: publicJob(job) });
}

export const handler = httpHandler(core);
