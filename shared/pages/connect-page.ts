import { PageAlreadyConnected } from '../domain-errors.ts';
import { logger } from '../observability.ts';
import { encryptPageToken } from '../secrets/page-token-vault.ts';
import { type ConnectedPage, getPage, insertPage } from '../store/page-repository.ts';
import { checkPageToken } from './page-token-check.ts';

export interface ConnectRequest {
  organizationId: string;
  pageId: string;
  /** Graph's name of the page when not given. */
  pageName?: string;
  accessToken: string;
  /** Graph's Instagram account of the page when not given. */
  instagramAccountId?: string;
}

/**
 * Connects a page. A page already connected is refused before anything else; then the token is
 * checked with Graph (it must be this page's, with messaging access), and only then encrypted and
 * stored: a token Graph refuses is never stored. The plaintext goes no further.
 */
export async function connectPage(req: ConnectRequest): Promise<ConnectedPage> {
  if (await getPage(req.pageId)) throw new PageAlreadyConnected();
  const checked = await checkPageToken(req.pageId, req.accessToken);
  const instagramAccountId = req.instagramAccountId ?? checked.instagramAccountId;
  const page: ConnectedPage = {
    pageId: req.pageId,
    organizationId: req.organizationId,
    pageName: req.pageName ?? checked.pageName,
    ...(instagramAccountId ? { instagramAccountId } : {}),
    accessTokenCiphertext: await encryptPageToken(req.pageId, req.accessToken),
    contactCount: 0,
    connectedAt: new Date().toISOString(),
  };
  if (!(await insertPage(page))) throw new PageAlreadyConnected();
  logger.info('Page connected', { instagram: page.instagramAccountId !== undefined });
  return page;
}
