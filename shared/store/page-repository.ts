import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, isConditionalCheckFailed, queryAll, tables } from './db.ts';

export interface ConnectedPage {
  pageId: string;
  organizationId: string;
  pageName: string;
  instagramAccountId?: string;
  /** Secret: read by the workers only, never returned, logged or put in a state payload. */
  accessToken: string;
  contactCount: number;
  /** The page lock: the one PENDING/IN_PROGRESS job of this page, if any. */
  activeJobId?: string;
  connectedAt: string;
}

export async function getPage(pageId: string): Promise<ConnectedPage | undefined> {
  const out = await ddb.send(
    new GetCommand({ TableName: tables.pages, Key: { pageId }, ConsistentRead: true }),
  );
  return out.Item as ConnectedPage | undefined;
}

export async function listPagesForOrganization(organizationId: string): Promise<ConnectedPage[]> {
  const pages = await queryAll<ConnectedPage>({
    TableName: tables.pages,
    IndexName: 'byOrganization',
    KeyConditionExpression: 'organizationId = :o',
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
