import { NotPageOwner, PageNotConnected } from '../domain-errors.ts';
import { getPage, type StoredPage } from '../store/page-repository.ts';

/**
 * The one page-ownership check: the page if it is `organizationId`'s; PageNotConnected when it is
 * not connected, NotPageOwner when it belongs to another organization. With `concealMissing`, a
 * page that is not connected is NotPageOwner too, so the answer never tells which.
 */
export async function ownedPage(
  pageId: string,
  organizationId: string,
  { concealMissing = false } = {},
): Promise<StoredPage> {
  const page = await getPage(pageId);
  if (!page && !concealMissing) throw new PageNotConnected();
  if (page?.organizationId !== organizationId) throw new NotPageOwner();
  return page;
}
