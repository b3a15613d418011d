import { callerOf, type HttpEvent, httpHandler, json, parseJsonBody, parsePath } from '#shared/http.ts';
import { pageView } from '#shared/pages/page-view.ts';
import { replacePageToken } from '#shared/pages/replace-page-token.ts';
import { PagePath, ReplacePageTokenBody } from '#shared/schemas.ts';

/** Route `replacePageToken` in shared/api/routes.ts: {accessToken} -> 200 {page}; 409 while a sync runs. */
async function core(event: HttpEvent) {
  const { organizationId } = callerOf(event);
  const { pageId } = parsePath(event, PagePath);
  const { accessToken } = parseJsonBody(event, ReplacePageTokenBody);
  const page = await replacePageToken({ pageId, organizationId, accessToken });
  return json(200, { page: await pageView(page) });
}

export const handler = httpHandler(core);
