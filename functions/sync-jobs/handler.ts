import { callerOf, type HttpEvent, httpHandler, json, parseQuery } from '#shared/http.ts';
import { ownedPage } from '#shared/pages/owned-page.ts';
import { SyncJobsQuery } from '#shared/schemas.ts';
import { listJobsForPage } from '#shared/store/job-repository.ts';
import { publicJob } from '#shared/sync/job-view.ts';

/**
 * Route `syncJobs` in shared/api/routes.ts, ?pageId= -> 200 {jobs} newest first. A page that is not the caller's
 * (another organization's, or not connected) is 403, so the answer never tells which.
 */
async function core(event: HttpEvent) {
  const { organizationId } = callerOf(event);
  const { pageId, limit } = parseQuery(event, SyncJobsQuery);
  await ownedPage(pageId, organizationId, { concealMissing: true });
  const jobs = await listJobsForPage(pageId, organizationId, limit);
  return json(200, { jobs: jobs.map(publicJob) });
}

export const handler = httpHandler(core);
