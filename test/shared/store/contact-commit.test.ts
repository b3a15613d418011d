import { type CancellationReason, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { JobNotRunningError } from '#shared/domain-errors.ts';
import { chunkSk } from '#shared/store/chunk-repository.ts';
import {
  type CommitEntry,
  commitBatch,
  MAX_BATCH_ENTRIES,
  recordFailedConversation,
  saveContact,
} from '#shared/store/contact-commit.ts';
import type { ContactInput } from '#shared/store/contact-repository.ts';
import { AI_CONTEXT, transactionCancelled } from './transaction-fixtures.ts';

/**
 * Unit tests of the batch commit with a mocked client: the shape of the one transaction, and how
 * the reasons of a cancelled one are read. (The conflict retry middleware of the shared client does
 * not run here: the mock replaces send. The real conditions run in contact-repository.test.ts.)
 */
const ddbMock = mockClient(DynamoDBDocumentClient);

const JOBS_TABLE = process.env.JOBS_TABLE ?? '';
const CONTACTS_TABLE = process.env.CONTACTS_TABLE ?? '';
const PAGES_TABLE = process.env.PAGES_TABLE ?? '';
const JOB = '00000000-0000-4000-8000-000000000001';
const OTHER_JOB = '00000000-0000-4000-8000-000000000002';
const PAGE_ID = '104729384756192';

const input = (n: number): ContactInput => ({
  pageId: PAGE_ID,
  organizationId: 'org-1',
  platform: 'messenger',
  participantId: `psid-${n}`,
  displayName: `Customer ${n}`,
  conversationId: `t_${n}`,
  lastMessageAt: '2026-01-01T10:00:00.000Z',
  messageCount: 2,
  aiContext: AI_CONTEXT,
});
const create = (n: number): CommitEntry => ({ kind: 'contact', contact: input(n), exists: false });
const update = (n: number): CommitEntry => ({ kind: 'contact', contact: input(n), exists: true });
const failure = (n: number): CommitEntry => ({
  kind: 'failure',
  platform: 'messenger',
  conversationId: `t_${n}`,
  reason: 'analysis failed: model timeout',
});
const chunkDone: CommitEntry = {
  kind: 'chunk-done',
  platform: 'messenger',
  after: 'cursor-1',
  conversations: 3,
  failed: 1,
};

/** A stored contact as DynamoDB returns it in a cancellation reason (ALL_OLD, AttributeValue form). */
const storedContact = (n: number, lastSyncJobId: string) =>
  marshall({
    ...input(n),
    contactKey: `org-1#messenger#psid-${n}`,
    firstSyncedAt: '2025-01-01T00:00:00.000Z',
    lastSyncedAt: '2025-01-01T00:00:00.000Z',
    lastSyncJobId,
    createdByJobId: lastSyncJobId,
  });

/** The reason of an action whose condition failed, with the item as it was (if any). */
const conditionFailed = (Item?: CancellationReason['Item']): CancellationReason =>
  Item ? { Code: 'ConditionalCheckFailed', Item } : { Code: 'ConditionalCheckFailed' };

/** A cancelled transaction with these reasons, a code alone given as a string. */
const cancelled = (...reasons: (string | CancellationReason)[]) =>
  transactionCancelled(reasons.map((r) => (typeof r === 'string' ? { Code: r } : r)));

const requests = (): TransactWriteCommandInput[] =>
  ddbMock.commandCalls(TransactWriteCommand).map((call) => call.args[0].input);
const itemsOf = (request: TransactWriteCommandInput | undefined) => request?.TransactItems ?? [];
const jobUpdate = (request: TransactWriteCommandInput | undefined) =>
  itemsOf(request).find((i) => i.Update?.TableName === JOBS_TABLE)?.Update;
const pageUpdate = (request: TransactWriteCommandInput | undefined) =>
  itemsOf(request).find((i) => i.Update?.TableName === PAGES_TABLE)?.Update;
/** Each contact action of a request as [kind, participant]. */
const contactActions = (request: TransactWriteCommandInput | undefined) =>
  itemsOf(request).flatMap((i) => {
    if (i.Put?.TableName === CONTACTS_TABLE) return [['put', i.Put.Item?.participantId]];
    if (i.Update?.TableName === CONTACTS_TABLE) return [['update', i.Update.Key?.contactKey]];
    return [];
  });

/** Every commit is cancelled with these reasons. */
const commitsCancelled = (...reasons: Parameters<typeof cancelled>) =>
  ddbMock.on(TransactWriteCommand).rejects(cancelled(...reasons));
/** The first commit is cancelled with these reasons, the next ones succeed. */
const firstCommitCancelled = (...reasons: Parameters<typeof cancelled>) =>
  ddbMock
    .on(TransactWriteCommand)
    .rejectsOnce(cancelled(...reasons))
    .resolves({});

/** Commits `entries` in one transaction, expecting `outcomes`, and returns its request. */
async function committedOnce(entries: CommitEntry[], outcomes: string[]) {
  await expect(commitBatch(JOB, entries)).resolves.toEqual(outcomes);
  expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 1);
  return requests()[0];
}

/** A request that adds no contact: `actions` actions, the job's update matching `job`, no page update. */
function expectJobOnlyUpdate(request: TransactWriteCommandInput | undefined, actions: number, job: object) {
  expect(itemsOf(request)).toHaveLength(actions);
  expect(pageUpdate(request)).toBeUndefined();
  expect(jobUpdate(request)).toMatchObject(job);
}

beforeEach(() => {
  ddbMock.reset();
  ddbMock.on(TransactWriteCommand).resolves({});
});

describe('commitBatch: the transaction', () => {
  it('commits a batch in one transaction: one action per entry, then the job counters, then the page count', async () => {
    const outcomes = await commitBatch(JOB, [create(1), update(2), failure(3), create(4), chunkDone]);

    expect(outcomes).toEqual(['created', 'updated', 'failed', 'created', 'chunk-done']);
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 1);
    const items = itemsOf(requests()[0]);
    expect(items).toHaveLength(7);
    expect(items[0]).toEqual({
      Put: {
        TableName: CONTACTS_TABLE,
        Item: expect.objectContaining({
          pageId: PAGE_ID,
          contactKey: 'org-1#messenger#psid-1',
          participantId: 'psid-1',
          lastSyncJobId: JOB,
          createdByJobId: JOB,
          aiContext: AI_CONTEXT,
        }),
        ConditionExpression: 'attribute_not_exists(pageId)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
    expect(items[1]).toEqual({
      Update: expect.objectContaining({
        TableName: CONTACTS_TABLE,
        Key: { pageId: PAGE_ID, contactKey: 'org-1#messenger#psid-2' },
        ConditionExpression: 'attribute_exists(pageId) AND lastSyncJobId <> :job',
        ExpressionAttributeValues: expect.objectContaining({ ':job': JOB }),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    });
    expect(items[2]).toEqual({
      Put: {
        TableName: JOBS_TABLE,
        Item: expect.objectContaining({
          jobId: JOB,
          sk: 'FAILED#messenger#t_3',
          reason: 'analysis failed: model timeout',
        }),
        ConditionExpression: 'attribute_not_exists(sk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
    expect(items[3]?.Put?.Item?.participantId).toBe('psid-4');
    expect(items[4]).toEqual({
      Put: {
        TableName: JOBS_TABLE,
        Item: expect.objectContaining({
          jobId: JOB,
          sk: chunkSk('messenger', 'cursor-1'),
          conversations: 3,
          failed: 1,
        }),
        ConditionExpression: 'attribute_not_exists(sk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
    expect(items[5]).toEqual({
      Update: {
        TableName: JOBS_TABLE,
        Key: { jobId: JOB, sk: 'JOB' },
        UpdateExpression:
          'ADD syncedContacts :synced, failedContacts :failed, createdContacts :created SET updatedAt = :now',
        ConditionExpression: '#status = :running',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':now': expect.any(String),
          ':running': 'IN_PROGRESS',
          ':synced': 3,
          ':failed': 1,
          ':created': 2,
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
    expect(items[6]).toEqual({
      Update: {
        TableName: PAGES_TABLE,
        Key: { pageId: PAGE_ID },
        UpdateExpression: 'ADD contactCount :created',
        ConditionExpression: 'attribute_exists(pageId)',
        ExpressionAttributeValues: { ':created': 2 },
      },
    });
  });

  it('an update keeps who created the contact and when', async () => {
    await commitBatch(JOB, [update(1)]);

    const contact = itemsOf(requests()[0])[0]?.Update;
    const written = Object.fromEntries(
      Object.entries(contact?.ExpressionAttributeNames ?? {}).map(([name, field]) => [
        field,
        contact?.ExpressionAttributeValues?.[name.replace('#', ':')],
      ]),
    );
    expect(written).toMatchObject({ lastSyncJobId: JOB, displayName: 'Customer 1', aiContext: AI_CONTEXT });
    expect(Object.keys(written)).not.toContain('firstSyncedAt');
    expect(Object.keys(written)).not.toContain('createdByJobId');
    expect(Object.keys(written)).not.toContain('pageId');
    expect(Object.keys(written)).not.toContain('contactKey');
  });

  it('does not update the page when the batch creates nothing', async () => {
    const request = await committedOnce([update(1), update(2)], ['updated', 'updated']);
    expectJobOnlyUpdate(request, 3, {
      UpdateExpression: 'ADD syncedContacts :synced SET updatedAt = :now',
      ExpressionAttributeValues: expect.objectContaining({ ':synced': 2 }),
    });
    expect(jobUpdate(request)?.ExpressionAttributeValues).not.toHaveProperty(':created');
  });

  it('counts only failures, and touches no page, for a batch of failures', async () => {
    const request = await committedOnce([failure(1), failure(2)], ['failed', 'failed']);
    expectJobOnlyUpdate(request, 3, {
      UpdateExpression: 'ADD failedContacts :failed SET updatedAt = :now',
      ConditionExpression: '#status = :running',
      ExpressionAttributeValues: expect.objectContaining({ ':failed': 2, ':running': 'IN_PROGRESS' }),
    });
  });

  it('a chunk marker alone only touches the job, still guarded by its status', async () => {
    const request = await committedOnce([chunkDone], ['chunk-done']);
    expectJobOnlyUpdate(request, 2, {
      UpdateExpression: 'SET updatedAt = :now',
      ConditionExpression: '#status = :running',
    });
  });

  it(`refuses more than ${MAX_BATCH_ENTRIES} entries, and takes ${MAX_BATCH_ENTRIES}`, async () => {
    const entries = (n: number) => Array.from({ length: n }, (_, i) => create(i));

    await expect(commitBatch(JOB, entries(MAX_BATCH_ENTRIES + 1))).rejects.toThrow(/at most 98/);
    expect(ddbMock).not.toReceiveCommand(TransactWriteCommand);

    await commitBatch(JOB, entries(MAX_BATCH_ENTRIES));
    // 98 entries, the job and the page: DynamoDB's limit of 100 actions.
    expect(itemsOf(requests()[0])).toHaveLength(100);
  });
});

describe('commitBatch: a cancelled transaction', () => {
  it('throws JobNotRunningError when the job is no longer IN_PROGRESS, and tries nothing more', async () => {
    commitsCancelled('None', 'None', conditionFailed(marshall({ status: 'CANCELLED' })), 'None');

    const error = await commitBatch(JOB, [create(1), failure(2)]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(JobNotRunningError);
    expect((error as JobNotRunningError).jobId).toBe(JOB);
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 1);
  });

  it('is JobNotRunningError even when entries failed their conditions too', async () => {
    commitsCancelled(
      conditionFailed(storedContact(1, OTHER_JOB)),
      conditionFailed(marshall({ status: 'PAUSED' })),
      'None',
    );

    await expect(commitBatch(JOB, [create(1)])).rejects.toBeInstanceOf(JobNotRunningError);
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 1);
  });

  it("commits again without a contact that already carries this job, which counts as 'already-counted'", async () => {
    firstCommitCancelled('None', conditionFailed(storedContact(2, JOB)), 'None', 'None', 'None');

    const outcomes = await commitBatch(JOB, [create(1), create(2), create(3)]);

    expect(outcomes).toEqual(['created', 'already-counted', 'created']);
    const [, retry] = requests();
    expect(requests()).toHaveLength(2);
    expect(contactActions(retry)).toEqual([
      ['put', 'psid-1'],
      ['put', 'psid-3'],
    ]);
    expect(jobUpdate(retry)?.ExpressionAttributeValues).toMatchObject({ ':synced': 2, ':created': 2 });
    expect(pageUpdate(retry)?.ExpressionAttributeValues).toEqual({ ':created': 2 });
  });

  it('drops an update whose contact this job already wrote', async () => {
    firstCommitCancelled(conditionFailed(storedContact(1, JOB)), 'None', 'None');

    await expect(commitBatch(JOB, [update(1), update(2)])).resolves.toEqual(['already-counted', 'updated']);

    const retry = requests()[1];
    expect(contactActions(retry)).toEqual([['update', 'org-1#messenger#psid-2']]);
    expect(jobUpdate(retry)?.ExpressionAttributeValues).toMatchObject({ ':synced': 1 });
  });

  it('commits nothing at all when every entry was already written by this job', async () => {
    firstCommitCancelled(conditionFailed(storedContact(1, JOB)), 'None', 'None');

    await expect(commitBatch(JOB, [create(1)])).resolves.toEqual(['already-counted']);
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 1);
  });

  it('switches a create that met a contact of another job to an update', async () => {
    firstCommitCancelled('None', conditionFailed(storedContact(2, OTHER_JOB)), 'None', 'None');

    await expect(commitBatch(JOB, [create(1), create(2)])).resolves.toEqual(['created', 'updated']);

    const [first, retry] = requests();
    expect(contactActions(first)).toEqual([
      ['put', 'psid-1'],
      ['put', 'psid-2'],
    ]);
    expect(contactActions(retry)).toEqual([
      ['put', 'psid-1'],
      ['update', 'org-1#messenger#psid-2'],
    ]);
    expect(itemsOf(retry)[1]?.Update?.ConditionExpression).toBe(
      'attribute_exists(pageId) AND lastSyncJobId <> :job',
    );
    // One contact is created now, not two.
    expect(jobUpdate(retry)?.ExpressionAttributeValues).toMatchObject({ ':synced': 2, ':created': 1 });
    expect(pageUpdate(retry)?.ExpressionAttributeValues).toEqual({ ':created': 1 });
  });

  it('switches an update that found no contact (deleted since it was read) to a create', async () => {
    firstCommitCancelled(conditionFailed(), 'None');

    await expect(commitBatch(JOB, [update(1)])).resolves.toEqual(['created']);

    const [first, retry] = requests();
    expect(pageUpdate(first)).toBeUndefined();
    expect(itemsOf(retry)[0]).toEqual({
      Put: expect.objectContaining({
        TableName: CONTACTS_TABLE,
        Item: expect.objectContaining({ participantId: 'psid-1', lastSyncJobId: JOB, createdByJobId: JOB }),
        ConditionExpression: 'attribute_not_exists(pageId)',
      }),
    });
    expect(jobUpdate(retry)?.ExpressionAttributeValues).toMatchObject({ ':synced': 1, ':created': 1 });
    expect(pageUpdate(retry)?.ExpressionAttributeValues).toEqual({ ':created': 1 });
  });

  it('drops a failure marker that already exists, and does not count it again', async () => {
    firstCommitCancelled(
      {
        Code: 'ConditionalCheckFailed',
        Item: marshall({ jobId: JOB, sk: 'FAILED#messenger#t_1', reason: 'earlier', at: '2026-01-01' }),
      },
      'None',
      'None',
      'None',
    );

    await expect(commitBatch(JOB, [failure(1), create(2)])).resolves.toEqual(['already-counted', 'created']);

    const retry = requests()[1];
    expect(itemsOf(retry).some((i) => i.Put?.Item?.sk === 'FAILED#messenger#t_1')).toBe(false);
    expect(jobUpdate(retry)?.UpdateExpression).toBe(
      'ADD syncedContacts :synced, createdContacts :created SET updatedAt = :now',
    );
    expect(jobUpdate(retry)?.ExpressionAttributeValues).not.toHaveProperty(':failed');
  });

  it('rethrows, unchanged and without another request, a cancellation for transaction conflicts only', async () => {
    const conflict = cancelled('None', 'TransactionConflict', 'None');
    ddbMock.on(TransactWriteCommand).rejects(conflict);

    await expect(commitBatch(JOB, [create(1)])).rejects.toBe(conflict);
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 1);
  });

  it('rethrows a cancellation for a reason that is not a condition (throttling)', async () => {
    const throttled = cancelled('ThrottlingError', 'None', 'None');
    ddbMock.on(TransactWriteCommand).rejects(throttled);

    await expect(commitBatch(JOB, [create(1)])).rejects.toBe(throttled);
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 1);
  });

  it('rethrows when the page update fails (the page was disconnected), even if an entry could be switched', async () => {
    // psid-1's create met a contact of another job (switchable), but the page is gone: not the
    // entries' business, so no second round.
    const pageGone = cancelled(
      conditionFailed(storedContact(1, OTHER_JOB)),
      'None',
      'None',
      'ConditionalCheckFailed',
    );
    ddbMock.on(TransactWriteCommand).rejects(pageGone);

    await expect(commitBatch(JOB, [create(1), create(2)])).rejects.toBe(pageGone);
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 1);
  });

  it('rethrows when the job update fails for another reason than its condition', async () => {
    const throttled = cancelled(conditionFailed(storedContact(1, JOB)), 'ThrottlingError');
    ddbMock.on(TransactWriteCommand).rejects(throttled);

    await expect(commitBatch(JOB, [update(1)])).rejects.toBe(throttled);
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 1);
  });

  it('rethrows an error that is not a cancellation', async () => {
    const fault = new Error('socket hang up');
    ddbMock.on(TransactWriteCommand).rejects(fault);

    await expect(commitBatch(JOB, [create(1)])).rejects.toBe(fault);
  });

  it("reports a chunk marker that already exists as 'chunk-done', not as a conversation counted", async () => {
    firstCommitCancelled('None', conditionFailed(marshall({ jobId: JOB, sk: 'CHUNK#x' })), 'None', 'None');

    await expect(commitBatch(JOB, [create(1), chunkDone])).resolves.toEqual(['created', 'chunk-done']);
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 2);
  });

  it('rethrows at once when a failed entry would be sent the same way again', async () => {
    // An update refused although the contact exists and does not carry this job: sending the same
    // update again cannot help.
    commitsCancelled(conditionFailed(storedContact(1, OTHER_JOB)), 'None');

    await expect(commitBatch(JOB, [update(1)])).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 1);
  });

  it('gives up after 6 rounds of switches', async () => {
    // A contact that keeps appearing and disappearing between rounds.
    ddbMock.on(TransactWriteCommand).callsFake((request: TransactWriteCommandInput) => {
      const put = itemsOf(request)[0]?.Put !== undefined;
      throw put
        ? cancelled(conditionFailed(storedContact(1, OTHER_JOB)), 'None', 'None')
        : cancelled(conditionFailed(), 'None');
    });

    await expect(commitBatch(JOB, [create(1)])).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 6);
  });
});

describe('one-entry wrappers', () => {
  it('saveContact commits one contact and says what it did', async () => {
    ddbMock
      .on(TransactWriteCommand)
      .resolvesOnce({})
      .resolvesOnce({})
      .rejectsOnce(cancelled(conditionFailed(storedContact(1, JOB)), 'None', 'None'));
    await expect(saveContact(JOB, input(1))).resolves.toBe('created');
    await expect(saveContact(JOB, input(1), true)).resolves.toBe('updated');
    await expect(saveContact(JOB, input(1))).resolves.toBe('already-counted');

    expect(contactActions(requests()[0])).toEqual([['put', 'psid-1']]);
    expect(contactActions(requests()[1])).toEqual([['update', 'org-1#messenger#psid-1']]);
  });

  it('recordFailedConversation writes the marker once', async () => {
    ddbMock
      .on(TransactWriteCommand)
      .resolvesOnce({})
      .rejectsOnce(cancelled(conditionFailed(marshall({ jobId: JOB, sk: 'FAILED#instagram#t_9' })), 'None'));
    await expect(recordFailedConversation(JOB, 'instagram', 't_9', 'x'.repeat(600))).resolves.toBe(
      'recorded',
    );
    const marker = itemsOf(requests()[0])[0]?.Put?.Item;
    expect(marker).toMatchObject({ jobId: JOB, sk: 'FAILED#instagram#t_9' });
    // The reason is cut to 500 characters.
    expect(marker?.reason).toHaveLength(500);

    await expect(recordFailedConversation(JOB, 'instagram', 't_9', 'again')).resolves.toBe('already-counted');
  });
});
