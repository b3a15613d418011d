import { callerOf, type HttpEvent, httpHandler, parsePath } from '#shared/http.ts';
import { disconnectPage } from '#shared/pages/disconnect-page.ts';
import { PagePath } from '#shared/schemas.ts';

/** Route `disconnectPage` in shared/api/routes.ts -> 204; an active sync is cancelled first. */
async function core(event: HttpEvent) {
  const caller = callerOf(event);
  const { pageId } = parsePath(event, PagePath);
  await disconnectPage({ pageId, ...caller });
  return { statusCode: 204, headers: { 'Cache-Control': 'no-store' } };
}

export const handler = httpHandler(core);
