import { SyncFailedError } from '../domain-errors.ts';
import { decryptPageToken } from '../secrets/page-token-vault.ts';
import { getPage } from '../store/page-repository.ts';

/** The page and its decrypted token, read by workers at run time; the token never enters a state payload. */
export async function pageForSync(pageId: string) {
  const page = await getPage(pageId);
  if (!page) throw new SyncFailedError('The page is no longer connected: reconnect it and sync again.');
  return { ...page, accessToken: await decryptPageToken(pageId, page.accessTokenCiphertext) };
}
