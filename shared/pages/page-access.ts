import { forbidden, notFound } from '../errors.ts';
import { type ConnectedPage, getPage } from '../store/page-repository.ts';

/**
 * A page of the caller's organization: 404 if it is not connected, 403 if it belongs to another
 * organization. Every page route goes through here.
 */
export async function pageOfCaller(pageId: string, organizationId: string): Promise<ConnectedPage> {
  const page = await getPage(pageId);
  if (!page) throw notFound('Page not connected');
  if (page.organizationId !== organizationId) throw forbidden('Page belongs to another organization');
  return page;
}
