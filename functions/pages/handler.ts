import { callerOf, type HttpEvent, httpHandler, json } from '#shared/http.ts';
import { pageView } from '#shared/pages/page-view.ts';
import { listPagesForOrganization } from '#shared/store/page-repository.ts';

/** Route `listPages` in shared/api/routes.ts -> 200 {pages:[{id, pageName, contactCount, activeJob, lastJob}]} */
async function core(event: HttpEvent) {
  const { organizationId } = callerOf(event);
  const pages = await listPagesForOrganization(organizationId);
  return json(200, { pages: await Promise.all(pages.map(pageView)) });
}

export const handler = httpHandler(core);
