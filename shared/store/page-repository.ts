import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { PageWatermarks } from '../sync/watermark.ts';
import { ddb, isConditionalCheckFailed, queryAll, setExpression, tables } from './db.ts';
import { PAGES_BY_ORGANIZATION } from './table-keys.ts';

export interface ConnectedPage {
  pageId: string;
  organizationId: string;
  pageName: string;
  instagramAccountId?: string;
  /** The page access token as KMS ciphertext (shared/secrets); never returned, logged or put in a state payload. */
  accessTokenCiphertext: string;
  contactCount: number;
  /** The page lock: the one PENDING/IN_PROGRESS job of this page, if any. */
  activeJobId?: string;
  connectedAt: string;
}

/** A page as stored: its fields plus what the last completed syncs left (shared/sync/watermark.ts). */
export type StoredPage = ConnectedPage & PageWatermarks;

export async function getPage(pageId: string): Promise<StoredPage | undefined> {
  const out = await ddb.send(
    new GetCommand({ TableName: tables.pages, Key: { pageId }, ConsistentRead: true }),
  );
  return out.Item as StoredPage | undefined;
}

export async function listPagesForOrganization(organizationId: string): Promise<ConnectedPage[]> {
  const pages = await queryAll<ConnectedPage>({
    TableName: tables.pages,
    IndexName: PAGES_BY_ORGANIZATION.indexName,
    KeyConditionExpression: `${PAGES_BY_ORGANIZATION.partitionKey} = :o`,
    ExpressionAttributeValues: { ':o': organizationId },
  });
  return pages.sort((a, b) => a.pageName.localeCompare(b.pageName));
}

/** Releases the page lock if `jobId` still holds it. Idempotent: safe to call from every terminal path. */
export async function releasePageLock(pageId: string, jobId: string): Promise<boolean> {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tables.pages,
        Key: { pageId },
        UpdateExpression: 'REMOVE activeJobId',
        ConditionExpression: 'activeJobId = :j',
        ExpressionAttributeValues: { ':j': jobId },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}

/** Connects a page; false if the page is already connected (to any organization). */
export async function insertPage(page: ConnectedPage): Promise<boolean> {
  try {
    await ddb.send(
      new PutCommand({
        TableName: tables.pages,
        Item: page,
        ConditionExpression: 'attribute_not_exists(pageId)',
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}

/** Disconnects an idle page of `organizationId`; its contacts and job history are kept. */
export async function deletePage(pageId: string, organizationId: string): Promise<boolean> {
  try {
    await ddb.send(
      new DeleteCommand({
        TableName: tables.pages,
        Key: { pageId },
        // Gone already is fine (disconnect is idempotent); another organization's page, or a page
        // whose sync started meanwhile, is not deleted.
        ConditionExpression:
          'attribute_not_exists(pageId) OR (organizationId = :o AND attribute_not_exists(activeJobId))',
        ExpressionAttributeValues: { ':o': organizationId },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}

/**
 * What a COMPLETED sync leaves on its page (shared/sync/watermark.ts), with the release of its
 * lock: an item of the transaction that completes the job (finalize-job.ts), so the job is
 * COMPLETED, the watermarks recorded and the page free at the same instant. Refused when the page
 * is gone or not locked by `jobId`.
 */
export function completedSyncUpdate(pageId: string, jobId: string, fields: PageWatermarks, full: boolean) {
  const { expression, names, values } = setExpression({ ...fields });
  return {
    Update: {
      TableName: tables.pages,
      Key: { pageId },
      UpdateExpression: `${expression}, syncsSinceFull = ${full ? ':zero' : 'if_not_exists(syncsSinceFull, :zero) + :one'} REMOVE activeJobId`,
      ConditionExpression: 'attribute_exists(pageId) AND activeJobId = :job',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ...values, ':job': jobId, ':zero': 0, ...(full ? {} : { ':one': 1 }) },
    },
  };
}
