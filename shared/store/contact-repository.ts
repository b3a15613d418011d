import {
  BatchGetCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { badRequest, JobNotRunningError } from '../errors.ts';
import type { AiContext, Platform } from '../schemas.ts';
import { sleep } from '../sleep.ts';
import { ddb, JOB_SK, setExpression, tables, transactionReasons } from './db.ts';

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
export type SaveOutcome = 'created' | 'updated' | 'already-counted';

export const contactKey = (organizationId: string, platform: Platform, participantId: string) =>
  `${organizationId}#${platform}#${participantId}`;

/** The job counter increment that rides in every contact transaction: it is the cancel guard. */
function countInJob(
  jobId: string,
  counter: 'syncedContacts' | 'failedContacts',
  now: string,
  created: boolean,
) {
  return {
    Update: {
      TableName: tables.jobs,
      Key: { jobId, sk: JOB_SK },
      // createdContacts: how many contacts a cleanup of this job has to find.
      UpdateExpression: `ADD ${counter} :one${created ? ', createdContacts :one' : ''} SET updatedAt = :now`,
      ConditionExpression: '#status = :running',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':one': 1, ':now': now, ':running': 'IN_PROGRESS' },
    },
  };
}

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * Every contact write increments the job's counter, so concurrent writes of one job are
 * concurrent transactions on the job item, which DynamoDB cancels with `TransactionConflict` (the
 * SDK does not retry those). They are retried here with full jitter; a cancel meanwhile makes the
 * next attempt fail its guard. (DynamoDB Local serializes such transactions instead: the harness's
 * fault proxy injects the conflicts.)
 */
export const CONFLICT_ATTEMPTS = 8;
const CONFLICT_BACKOFF_MS = 20;

const isConflict = (error: unknown, reasons: string[] | null) =>
  reasons?.includes('TransactionConflict') === true ||
  (error instanceof Error && error.name === 'TransactionConflictException');

/**
 * Writes `item` and the job counter increment in one transaction. Returns false when `item`'s own
 * condition failed (nothing written); throws JobNotRunningError when the job guard failed.
 */
async function writeGuarded(
  jobId: string,
  item: TransactItem,
  counter: 'syncedContacts' | 'failedContacts',
  also: TransactItem[] = [],
  created = false,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const now = new Date().toISOString();
    try {
      await ddb.send(
        new TransactWriteCommand({
          TransactItems: [item, countInJob(jobId, counter, now, created), ...also],
        }),
      );
      return true;
    } catch (error) {
      const reasons = transactionReasons(error);
      if (reasons?.[1] === 'ConditionalCheckFailed') throw new JobNotRunningError(jobId);
      if (reasons?.[0] === 'ConditionalCheckFailed') return false;
      if (!isConflict(error, reasons) || attempt >= CONFLICT_ATTEMPTS) throw error;
      await sleep(Math.random() * Math.min(1000, CONFLICT_BACKOFF_MS * 2 ** attempt));
    }
  }
}

/**
 * Saves one contact for job `jobId` in a single transaction with the job's `syncedContacts`
 * increment, which is conditional on the job being IN_PROGRESS. Once a cancel has committed, this
 * throws JobNotRunningError and nothing is written (DESIGN.md, Cancellation protocol step 3).
 *
 * Exactly-once: the write succeeds only if the contact does not already carry `lastSyncJobId = jobId`,
 * so a retried chunk skips what it already counted. No read is needed in the common path: the
 * first attempt assumes a new contact; an existing one makes item 0 fail and the update variant runs.
 */
export async function saveContact(
  jobId: string,
  input: ContactInput,
  /** Known to exist already (incremental sync): skip the create attempt. */
  exists = false,
): Promise<SaveOutcome> {
  const now = new Date().toISOString();
  const key = {
    pageId: input.pageId,
    contactKey: contactKey(input.organizationId, input.platform, input.participantId),
  };
  const contact: Contact = {
    ...input,
    ...key,
    firstSyncedAt: now,
    lastSyncedAt: now,
    lastSyncJobId: jobId,
    createdByJobId: jobId,
  };

  const create = () =>
    writeGuarded(
      jobId,
      {
        Put: {
          TableName: tables.contacts,
          Item: contact,
          ConditionExpression: 'attribute_not_exists(pageId)',
        },
      },
      'syncedContacts',
      [
        {
          Update: {
            TableName: tables.pages,
            Key: { pageId: input.pageId },
            UpdateExpression: 'ADD contactCount :one',
            ConditionExpression: 'attribute_exists(pageId)',
            ExpressionAttributeValues: { ':one': 1 },
          },
        },
      ],
      true,
    );
  if (!exists && (await create())) return 'created';

  // An update keeps who created the contact and when.
  const { firstSyncedAt: _first, createdByJobId: _creator, pageId: _p, contactKey: _k, ...changes } = contact;
  const set = setExpression(changes, 'c');
  const updated = await writeGuarded(
    jobId,
    {
      Update: {
        TableName: tables.contacts,
        Key: key,
        UpdateExpression: set.expression,
        ConditionExpression: 'attribute_exists(pageId) AND lastSyncJobId <> :job',
        ExpressionAttributeNames: set.names,
        ExpressionAttributeValues: { ...set.values, ':job': jobId },
      },
    },
    'syncedContacts',
  );
  if (updated) return 'updated';
  // Known to exist, but gone since it was read (a cancelled job's cleanup deleted it): create it.
  if (exists && (await create())) return 'created';
  return 'already-counted';
}

/**
 * Counts a conversation that could not be processed in `failedContacts`, once per job and
 * conversation (a marker item in the job's partition makes a retry a no-op).
 */
export async function recordFailedConversation(
  jobId: string,
  platform: Platform,
  conversationId: string,
  reason: string,
): Promise<'recorded' | 'already-counted'> {
  const marker = {
    jobId,
    sk: `FAILED#${platform}#${conversationId}`,
    reason: reason.slice(0, 500),
    at: new Date().toISOString(),
  };
  const recorded = await writeGuarded(
    jobId,
    { Put: { TableName: tables.jobs, Item: marker, ConditionExpression: 'attribute_not_exists(sk)' } },
    'failedContacts',
  );
  return recorded ? 'recorded' : 'already-counted';
}

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
    if (typeof k === 'string' && k.startsWith(prefix) && /^[^#]+#(messenger|instagram)#.{1,128}$/.test(k))
      return k;
  } catch {
    // fall through
  }
  throw badRequest('cursor is invalid');
}

/** What incremental sync needs to know of a stored contact. */
export type KnownContact = Pick<Contact, 'contactKey' | 'lastMessageAt' | 'aiContext'> &
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
            ProjectionExpression: 'contactKey, lastMessageAt, aiContext, lastSyncJobId',
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
