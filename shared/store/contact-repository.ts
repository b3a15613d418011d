import { QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { JobNotRunningError } from '../errors.ts';
import type { AiContext, Platform } from '../schemas.ts';
import { ddb, JOB_SK, tables, transactionReasons } from './db.ts';

export interface Contact {
  pageId: string;
  /** `${platform}#${participantId}`: one contact per (page, platform, participant). */
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
}

export type ContactInput = Omit<Contact, 'contactKey' | 'firstSyncedAt' | 'lastSyncedAt' | 'lastSyncJobId'>;
export type SaveOutcome = 'created' | 'updated' | 'already-counted';

export const contactKey = (platform: Platform, participantId: string) => `${platform}#${participantId}`;

const CONDITION_FAILED = 'ConditionalCheckFailed';

/** The job counter increment that rides in every contact transaction: it is the cancel guard. */
function countInJob(jobId: string, counter: 'syncedContacts' | 'failedContacts', now: string) {
  return {
    Update: {
      TableName: tables.jobs,
      Key: { jobId, sk: JOB_SK },
      UpdateExpression: `ADD ${counter} :one SET updatedAt = :now`,
      ConditionExpression: '#status = :running',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':one': 1, ':now': now, ':running': 'IN_PROGRESS' },
    },
  };
}

/**
 * Saves one contact for job `jobId` in a single transaction with the job's `syncedContacts`
 * increment, which is conditional on the job being IN_PROGRESS. Once a cancel has committed, this
 * throws JobNotRunningError and nothing is written (DESIGN.md, Cancellation protocol step 3).
 *
 * Exactly-once: the write succeeds only if the contact does not already carry `lastSyncJobId = jobId`,
 * so a retried chunk skips what it already counted. No read is needed in the common path: the
 * first attempt assumes a new contact; an existing one makes the transaction fail on item 0 and
 * the update variant runs.
 */
export async function saveContact(jobId: string, input: ContactInput): Promise<SaveOutcome> {
  const now = new Date().toISOString();
  const key = { pageId: input.pageId, contactKey: contactKey(input.platform, input.participantId) };
  const contact: Contact = { ...input, ...key, firstSyncedAt: now, lastSyncedAt: now, lastSyncJobId: jobId };

  try {
    await ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: tables.contacts,
              Item: contact,
              ConditionExpression: 'attribute_not_exists(pageId)',
            },
          },
          countInJob(jobId, 'syncedContacts', now),
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
      }),
    );
    return 'created';
  } catch (error) {
    const reasons = transactionReasons(error);
    if (!reasons) throw error;
    if (reasons[1] === CONDITION_FAILED) throw new JobNotRunningError(jobId);
    if (reasons[0] !== CONDITION_FAILED) throw error;
  }

  const { firstSyncedAt: _first, pageId: _p, contactKey: _k, ...changes } = contact;
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':job': jobId };
  const sets = Object.entries(changes).map(([field, value], i) => {
    names[`#c${i}`] = field;
    values[`:c${i}`] = value;
    return `#c${i} = :c${i}`;
  });
  try {
    await ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: tables.contacts,
              Key: key,
              UpdateExpression: `SET ${sets.join(', ')}`,
              ConditionExpression: 'attribute_exists(pageId) AND lastSyncJobId <> :job',
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: values,
            },
          },
          countInJob(jobId, 'syncedContacts', now),
        ],
      }),
    );
    return 'updated';
  } catch (error) {
    const reasons = transactionReasons(error);
    if (!reasons) throw error;
    if (reasons[1] === CONDITION_FAILED) throw new JobNotRunningError(jobId);
    if (reasons[0] === CONDITION_FAILED) return 'already-counted';
    throw error;
  }
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
  const now = new Date().toISOString();
  try {
    await ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: tables.jobs,
              Item: {
                jobId,
                sk: `FAILED#${platform}#${conversationId}`,
                reason: reason.slice(0, 500),
                at: now,
              },
              ConditionExpression: 'attribute_not_exists(sk)',
            },
          },
          countInJob(jobId, 'failedContacts', now),
        ],
      }),
    );
    return 'recorded';
  } catch (error) {
    const reasons = transactionReasons(error);
    if (!reasons) throw error;
    if (reasons[1] === CONDITION_FAILED) throw new JobNotRunningError(jobId);
    if (reasons[0] === CONDITION_FAILED) return 'already-counted';
    throw error;
  }
}

export async function listContacts(pageId: string): Promise<Contact[]> {
  const items: Contact[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await ddb.send(
      new QueryCommand({
        TableName: tables.contacts,
        KeyConditionExpression: 'pageId = :p',
        ExpressionAttributeValues: { ':p': pageId },
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...((out.Items ?? []) as Contact[]));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return items;
}
