import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { PageBusy, PageSyncRunning } from '../domain-errors.ts';
import { isRunning } from '../job-status.ts';
import { logger } from '../observability.ts';
import { encryptPageToken } from '../secrets/page-token-vault.ts';
import { ddb, isConditionalCheckFailed, tables } from '../store/db.ts';
import { getJob } from '../store/job-repository.ts';
import type { StoredPage } from '../store/page-repository.ts';
import { ownedPage } from './owned-page.ts';
import { checkPageToken } from './page-token-check.ts';

/**
 * Replaces a connected page's access token (after Facebook refused the old one: "reconnect the
 * page"), with the checks of a connect. Only the token changes: the page's contacts, counts, sync
 * history and watermarks stay. Refused while a sync is running (PENDING or IN_PROGRESS): its
 * reads would switch token mid-way. A PAUSED sync does not block it: nothing reads the token until
 * it is resumed, and the resume then reads with the new token, which is the point of replacing it.
 */
export async function replacePageToken(req: {
  pageId: string;
  organizationId: string;
  accessToken: string;
}): Promise<StoredPage> {
  const page = await ownedPage(req.pageId, req.organizationId);
  await refuseWhileRunning(page);
  await checkPageToken(req.pageId, req.accessToken);
  const ciphertext = await encryptPageToken(req.pageId, req.accessToken);
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = attempt === 0 ? page : await ownedPage(req.pageId, req.organizationId);
    if (attempt > 0) await refuseWhileRunning(current);
    const stored = await storeToken(current, ciphertext);
    if (stored) {
      logger.info('Page token replaced');
      return stored;
    }
  }
  throw new PageBusy();
}

async function refuseWhileRunning(page: StoredPage): Promise<void> {
  if (!page.activeJobId) return;
  const job = await getJob(page.activeJobId);
  if (isRunning(job)) throw new PageSyncRunning(page.activeJobId);
}

/**
 * Writes the new ciphertext if the page is still the caller's and its lock is as it was seen
 * (no sync started in between); null when it changed, to look again.
 */
async function storeToken(seen: StoredPage, ciphertext: string): Promise<StoredPage | null> {
  try {
    const out = await ddb.send(
      new UpdateCommand({
        TableName: tables.pages,
        Key: { pageId: seen.pageId },
        UpdateExpression: 'SET accessTokenCiphertext = :c',
        ConditionExpression: seen.activeJobId
          ? 'organizationId = :o AND activeJobId = :j'
          : 'organizationId = :o AND attribute_not_exists(activeJobId)',
        ExpressionAttributeValues: {
          ':c': ciphertext,
          ':o': seen.organizationId,
          ...(seen.activeJobId ? { ':j': seen.activeJobId } : {}),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return out.Attributes as StoredPage;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return null;
    throw error;
  }
}
