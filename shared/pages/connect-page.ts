import { PageAlreadyConnected } from '../domain-errors.ts';
import { logger } from '../observability.ts';
import { encryptPageToken } from '../secrets/page-token-vault.ts';
import { type ConnectedPage, insertPage } from '../store/page-repository.ts';

export interface ConnectRequest {
  organizationId: string;
  pageId: string;
  pageName: string;
  accessToken: string;
  instagramAccountId?: string;
}

/** Connects a page; the token is encrypted before it is stored, and the plaintext goes no further. */
export async function connectPage(req: ConnectRequest): Promise<ConnectedPage> {
  const page: ConnectedPage = {
    pageId: req.pageId,
    organizationId: req.organizationId,
    pageName: req.pageName,
    ...(req.instagramAccountId ? { instagramAccountId: req.instagramAccountId } : {}),
    accessTokenCiphertext: await encryptPageToken(req.pageId, req.accessToken),
    contactCount: 0,
    connectedAt: new Date().toISOString(),
  };
  if (!(await insertPage(page))) throw new PageAlreadyConnected();
  logger.info('Page connected', { instagram: page.instagramAccountId !== undefined });
  return page;
}
