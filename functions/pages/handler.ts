import { callerOf, type HttpEvent, httpHandler, json } from '../../shared/http.ts';
import { getJob, listJobsForPage } from '../../shared/store/job-repository.ts';
import { type ConnectedPage, listPagesForOrganization } from '../../shared/store/page-repository.ts';
import { publicJob } from '../../shared/sync/job.ts';

/** GET /api/facebook/pages -> 200 {pages:[{id, pageName, contactCount, activeJob, lastJob}]} */
async function core(event: HttpEvent) {
  const { organizationId } = callerOf(event);
  const pages = await listPagesForOrganization(organizationId);
  return json(200, { pages: await Promise.all(pages.map(pageView)) });
}

/** The page as clients see it: never the access token. */
async function pageView(page: ConnectedPage) {
  const [active, last] = await Promise.all([
    page.activeJobId ? getJob(page.activeJobId) : undefined,
    listJobsForPage(page.pageId, 1).then((jobs) => jobs[0]),
  ]);
  return {
    id: page.pageId,
    pageName: page.pageName,
    instagramAccountId: page.instagramAccountId ?? null,
    contactCount: page.contactCount,
    connectedAt: page.connectedAt,
    activeJob: active ? publicJob(active) : null,
    lastJob: last ? publicJob(last) : null,
  };
}

export const handler = httpHandler(core);
