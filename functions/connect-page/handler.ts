import { callerOf, type HttpEvent, httpHandler, json, parseJsonBody } from '#shared/http.ts';
import { connectPage } from '#shared/pages/connect-page.ts';
import { pageView } from '#shared/pages/page-view.ts';
import { ConnectPageBody } from '#shared/schemas.ts';

/** Route `connectPage` in shared/api/routes.ts: {pageId, accessToken, pageName?, instagramAccountId?} -> 201 {page}, the token checked with Graph first */
async function core(event: HttpEvent) {
  const { organizationId } = callerOf(event);
  const body = parseJsonBody(event, ConnectPageBody);
  const page = await connectPage({ organizationId, ...body });
  return json(201, { page: await pageView(page) });
}

export const handler = httpHandler(core);
