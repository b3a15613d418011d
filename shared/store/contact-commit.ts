import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { JobNotRunningError } from '../domain-errors.ts';
import { logger } from '../observability.ts';
import type { Platform } from '../schemas.ts';
import { chunkMarkerItem } from './chunk-repository.ts';
import type { Contact, ContactInput } from './contact-repository.ts';
import { cancellationReasons, ddb, queryAll, setExpression, tables } from './db.ts';
import { contactKey, FAILED_PREFIX, failedMarkerSk, JOBS_KEYS, jobKey } from './table-keys.ts';

/**
 * The sync's only writes of contacts and counters: a batch of a chunk's results commits in ONE
 * transaction with ONE update of the job's counters, conditional on the job being IN_PROGRESS
 * (and, when the batch creates contacts, one update of the page's contactCount). That condition
 * is the cancel fence: once a cancel or pause has committed, every later batch fails it and
 * nothing is written (the cancellation protocol, docs/architecture.md).
 *
 * Exactly-once: a contact is written only if it does not already carry `lastSyncJobId = jobId`,
 * a failure marker and a chunk marker only if absent. Every action asks for the item as it was
 * when its condition fails (ReturnValuesOnConditionCheckFailure ALL_OLD), so a cancelled batch
 * tells which entry failed and why: one this job already wrote is dropped as already counted, a
 * contact that turned out to exist (or to be gone) switches between create and update, and the
 * rest commit again in a new request (with a new client token: the SDK makes one per request).
 *
 * An ambiguous commit (applied, but the answer lost) is safe twice over: the SDK retries it with
 * the same client token, which DynamoDB answers without applying it again; and a retry with other
 * parameters (a new token) finds every entry already carrying the job, so nothing counts twice.
 */
export type CommitEntry =
  | {
      kind: 'contact';
      contact: ContactInput /** Stored already (read before the commit). */;
      exists: boolean;
    }
  | { kind: 'failure'; platform: Platform; conversationId: string; reason: string }
  | { kind: 'chunk-done'; platform: Platform; after: string | null; conversations: number; failed: number };

export type CommitOutcome = 'created' | 'updated' | 'failed' | 'chunk-done' | 'already-counted';

/** A transaction holds at most 100 actions: the job's counters, the page's count, 98 entries. */
export const MAX_BATCH_ENTRIES = 98;
/** Create/update switches and drops never take more rounds than this in practice. */
const MAX_ROUNDS = 6;

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
interface Pending {
  index: number;
  entry: CommitEntry;
}

/** Commits `entries` for job `jobId`; returns each entry's outcome, in order. */
export async function commitBatch(jobId: string, entries: CommitEntry[]): Promise<CommitOutcome[]> {
  if (entries.length > MAX_BATCH_ENTRIES)
    throw new Error(`A batch holds at most ${MAX_BATCH_ENTRIES} entries`);
  // What a dropped entry was: written by this job already, or (a marker) the chunk done already.
  const outcomes: CommitOutcome[] = entries.map((e) =>
    e.kind === 'chunk-done' ? 'chunk-done' : 'already-counted',
  );
  let pending: Pending[] = entries.map((entry, index) => ({ index, entry }));
  for (let round = 1; pending.length > 0; round++) {
    const now = new Date().toISOString();
    const actions = pending.map((p) => entryAction(jobId, p.entry, now));
    const counts = countsOf(pending.map((p) => p.entry));
    const pageId = pending.find((p) => p.entry.kind === 'contact')?.entry;
    const items: TransactItem[] = [...actions, countersInJob(jobId, counts, now)];
    if (counts.created > 0 && pageId?.kind === 'contact')
      items.push(pageCount(pageId.contact.pageId, counts.created));
    try {
      await ddb.send(new TransactWriteCommand({ TransactItems: items }));
      for (const p of pending) outcomes[p.index] = committedOutcome(p.entry);
      return outcomes;
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (!reasons) throw error;
      const job = reasons[actions.length];
      if (job?.Code === 'ConditionalCheckFailed') {
        logger.info('Batch refused: the job is no longer in progress', {
          jobId,
          status: job.Item?.status,
          entries: pending.length,
        });
        throw new JobNotRunningError(jobId);
      }
      // Any other failure of the job's or the page's update (the page was disconnected) is not
      // about an entry: it is the caller's.
      if (reasons.slice(actions.length).some((r) => r.Code !== 'None')) throw error;
      const next = resolveConditions(jobId, pending, reasons);
      if (next.length === pending.length && next.every((p, i) => p.entry === pending[i]?.entry)) throw error;
      if (round >= MAX_ROUNDS) throw error;
      pending = next;
    }
  }
  return outcomes;
}

/** What to commit again after the entries' conditions failed: drop or switch each failed one. */
function resolveConditions(
  jobId: string,
  pending: Pending[],
  reasons: { Code: string; Item?: Record<string, unknown> }[],
): Pending[] {
  return pending.flatMap((p, i) => {
    const reason = reasons[i];
    if (reason?.Code !== 'ConditionalCheckFailed') return [p];
    const old = reason.Item;
    // This job wrote it already (an earlier attempt of this chunk, or an ambiguous commit).
    if (p.entry.kind !== 'contact' || old?.lastSyncJobId === jobId) return [];
    // A create met a stored contact, or an update found none (a cleanup deleted it): switch.
    // Anything else (the same action again) would fail the same way: keep it, and the caller gives up.
    const exists = old !== undefined;
    return exists === p.entry.exists ? [p] : [{ index: p.index, entry: { ...p.entry, exists } }];
  });
}

function committedOutcome(entry: CommitEntry): CommitOutcome {
  if (entry.kind === 'contact') return entry.exists ? 'updated' : 'created';
  return entry.kind === 'failure' ? 'failed' : 'chunk-done';
}

function countsOf(entries: CommitEntry[]) {
  let synced = 0;
  let created = 0;
  let failed = 0;
  for (const e of entries) {
    if (e.kind === 'contact') {
      synced++;
      if (!e.exists) created++;
    } else if (e.kind === 'failure') failed++;
  }
  return { synced, created, failed };
}

/**
 * The job's counters for the batch, guarded by IN_PROGRESS: the cancel fence. `createdContacts`
 * tells a cleanup how many contacts to find.
 */
function countersInJob(jobId: string, counts: ReturnType<typeof countsOf>, now: string): TransactItem {
  const add = [
    ...(counts.synced ? ['syncedContacts :synced'] : []),
    ...(counts.failed ? ['failedContacts :failed'] : []),
    ...(counts.created ? ['createdContacts :created'] : []),
  ];
  return {
    Update: {
      TableName: tables.jobs,
      Key: jobKey(jobId),
      UpdateExpression: `${add.length ? `ADD ${add.join(', ')} ` : ''}SET updatedAt = :now`,
      ConditionExpression: '#status = :running',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':now': now,
        ':running': 'IN_PROGRESS',
        ...(counts.synced ? { ':synced': counts.synced } : {}),
        ...(counts.failed ? { ':failed': counts.failed } : {}),
        ...(counts.created ? { ':created': counts.created } : {}),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** The conversations `jobId` counted as failed, as "<platform>#<conversationId>". */
export async function failedConversationsOf(jobId: string): Promise<string[]> {
  const markers = await queryAll<{ sk: string }>({
    TableName: tables.jobs,
    KeyConditionExpression: `${JOBS_KEYS.partitionKey} = :job AND begins_with(${JOBS_KEYS.sortKey}, :failed)`,
    ExpressionAttributeValues: { ':job': jobId, ':failed': FAILED_PREFIX },
    ProjectionExpression: JOBS_KEYS.sortKey,
    ConsistentRead: true,
  });
  return markers.map((m) => m.sk.slice(FAILED_PREFIX.length));
}

function pageCount(pageId: string, created: number): TransactItem {
  return {
    Update: {
      TableName: tables.pages,
      Key: { pageId },
      UpdateExpression: 'ADD contactCount :created',
      ConditionExpression: 'attribute_exists(pageId)',
      ExpressionAttributeValues: { ':created': created },
    },
  };
}

function entryAction(jobId: string, entry: CommitEntry, now: string): TransactItem {
  const onFailure = { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const };
  if (entry.kind === 'failure') {
    const marker = {
      jobId,
      sk: failedMarkerSk(entry.platform, entry.conversationId),
      reason: entry.reason.slice(0, 500),
      at: now,
    };
    return {
      Put: {
        TableName: tables.jobs,
        Item: marker,
        ConditionExpression: 'attribute_not_exists(sk)',
        ...onFailure,
      },
    };
  }
  if (entry.kind === 'chunk-done') {
    return {
      Put: {
        TableName: tables.jobs,
        Item: chunkMarkerItem(jobId, entry.platform, entry.after, entry, now),
        ConditionExpression: 'attribute_not_exists(sk)',
        ...onFailure,
      },
    };
  }
  const input = entry.contact;
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
  if (!entry.exists) {
    return {
      Put: {
        TableName: tables.contacts,
        Item: contact,
        ConditionExpression: 'attribute_not_exists(pageId)',
        ...onFailure,
      },
    };
  }
  // An update keeps who created the contact and when.
  const { firstSyncedAt: _first, createdByJobId: _creator, pageId: _p, contactKey: _k, ...changes } = contact;
  const set = setExpression(changes, 'c');
  return {
    Update: {
      TableName: tables.contacts,
      Key: key,
      UpdateExpression: set.expression,
      ConditionExpression: 'attribute_exists(pageId) AND lastSyncJobId <> :job',
      ExpressionAttributeNames: set.names,
      ExpressionAttributeValues: { ...set.values, ':job': jobId },
      ...onFailure,
    },
  };
}

/** One contact for job `jobId` in a batch of its own (the baseline design, and tests). */
export async function saveContact(
  jobId: string,
  input: ContactInput,
  exists = false,
): Promise<'created' | 'updated' | 'already-counted'> {
  const [outcome] = await commitBatch(jobId, [{ kind: 'contact', contact: input, exists }]);
  return outcome === 'created' || outcome === 'updated' ? outcome : 'already-counted';
}

/** Counts a conversation that could not be processed, once per job and conversation. */
export async function recordFailedConversation(
  jobId: string,
  platform: Platform,
  conversationId: string,
  reason: string,
): Promise<'recorded' | 'already-counted'> {
  const [outcome] = await commitBatch(jobId, [{ kind: 'failure', platform, conversationId, reason }]);
  return outcome === 'failed' ? 'recorded' : 'already-counted';
}
