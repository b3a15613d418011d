import { BatchGetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { InvalidCursor } from '../domain-errors.ts';
import type { AiContext, Platform } from '../schemas.ts';
import { ddb, tables } from './db.ts';
import { isContactKeyOf } from './table-keys.ts';

export interface Contact {
  pageId: string;
  /**
   * `${organizationId}#${platform}#${participantId}`: one contact per (organization, page, platform,
   * participant). The organization is part of the key because a page can change hands: the contacts
   * one organization kept are never read or overwritten by the next.
   */
  contactKey: string;
  organizationId: string;
  platform: Platform;
  participantId: string;
  displayName: string;
  email?: string;
  conversationId: string;
  lastMessageAt: string;
  messageCount: number;
  aiContext: AiContext;
  firstSyncedAt: string;
  lastSyncedAt: string;
  lastSyncJobId: string;
  /** The job that created the contact; kept by later updates. A cancel with cleanup deletes by it. */
  createdByJobId?: string;
}

export type ContactInput = Omit<
  Contact,
  'contactKey' | 'firstSyncedAt' | 'lastSyncedAt' | 'lastSyncJobId' | 'createdByJobId'
>;

/**
 * One page of an organization's contacts of a page. The cursor is opaque to clients and holds only
 * the sort key, checked against the organization's prefix, so it cannot reach other data.
 */
export async function listContactsPage(
  pageId: string,
  organizationId: string,
  limit: number,
  cursor?: string,
): Promise<{ contacts: Contact[]; nextCursor: string | null }> {
  const prefix = `${organizationId}#`;
  const out = await ddb.send(
    new QueryCommand({
      TableName: tables.contacts,
      KeyConditionExpression: 'pageId = :p AND begins_with(contactKey, :prefix)',
      ExpressionAttributeValues: { ':p': pageId, ':prefix': prefix },
      Limit: limit,
      ...(cursor ? { ExclusiveStartKey: { pageId, contactKey: decodeCursor(cursor, prefix) } } : {}),
    }),
  );
  const last = out.LastEvaluatedKey?.contactKey;
  return {
    contacts: (out.Items ?? []) as Contact[],
    nextCursor:
      typeof last === 'string' ? Buffer.from(JSON.stringify({ k: last })).toString('base64url') : null,
  };
}

function decodeCursor(cursor: string, prefix: string): string {
  try {
    const { k } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown };
    if (typeof k === 'string' && isContactKeyOf(prefix, k)) return k;
  } catch {
    // fall through
  }
  throw new InvalidCursor();
}

/** What incremental sync needs to know of a stored contact. */
export type KnownContact = Pick<
  Contact,
  'contactKey' | 'lastMessageAt' | 'aiContext' | 'messageCount' | 'displayName'
> &
  Partial<Pick<Contact, 'lastSyncJobId'>>;

/**
 * The stored contacts among `keys` of one page (at most 100, one chunk), by contactKey: one
 * BatchGetItem per chunk, not a read per conversation.
 */
export async function findContacts(pageId: string, keys: string[]): Promise<Map<string, KnownContact>> {
  const found = new Map<string, KnownContact>();
  let pending = [...new Set(keys)].map((contactKey) => ({ pageId, contactKey }));
  for (let attempt = 0; pending.length > 0 && attempt < 5; attempt++) {
    const out = await ddb.send(
      new BatchGetCommand({
        RequestItems: {
          [tables.contacts]: {
            Keys: pending,
            ProjectionExpression:
              'contactKey, lastMessageAt, aiContext, messageCount, displayName, lastSyncJobId',
            ConsistentRead: true,
          },
        },
      }),
    );
    for (const item of (out.Responses?.[tables.contacts] ?? []) as KnownContact[])
      found.set(item.contactKey, item);
    pending = (out.UnprocessedKeys?.[tables.contacts]?.Keys ?? []) as typeof pending;
  }
  return found;
}
