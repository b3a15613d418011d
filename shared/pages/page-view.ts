import { getJob, listJobsForPage } from '../store/job-repository.ts';
import type { ConnectedPage } from '../store/page-repository.ts';
import { publicJob } from '../sync/job-view.ts';

/** The page as clients see it, with its active and last job: never the token. */
export async function pageView(page: ConnectedPage) {
  const [active, last] = await Promise.all([
    page.activeJobId ? getJob(page.activeJobId) : undefined,
    listJobsForPage(page.pageId, page.organizationId, 1).then((jobs) => jobs[0]),
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
