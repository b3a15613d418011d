import { type CancellationReason, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import {
  BatchGetCommand,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { AnalyzerMessage, ConversationAnalyzer } from '#shared/analyzer/analyzer.ts';
import { JobNotRunningError, SyncFailedError } from '#shared/domain-errors.ts';
import type { Conversation } from '#shared/graph/graph-responses.ts';
import { chunkSk } from '#shared/store/chunk-repository.ts';
import { type ChunkRef, type ChunkResult, processChunk } from '#shared/sync/process-chunk.ts';
import { AI_CONTEXT, transactionCancelled } from '#test/shared/store/transaction-fixtures.ts';
import {
  CONTACTS_TABLE,
  chunkPage,
  ddbMock,
  givenPageGone,
  givenPageStored,
  JOBS_TABLE,
  PAGE_ID,
  PAGES_TABLE,
  restoreEnvAfterEach,
  transactions,
} from './chunk-unit.ts';

const kmsMock = mockClient(KMSClient);
/** The stored form of the page token: KMS ciphertext, base64. A chunk never needs it. */
const CIPHERTEXT_BYTES = Buffer.from('kms-ciphertext-of-EAAG-page-token');

const INSTAGRAM_ID = '17841400000000001';

const PAGE = chunkPage({
  instagramAccountId: INSTAGRAM_ID,
  accessTokenCiphertext: CIPHERTEXT_BYTES.toString('base64'),
  activeJobId: '00000000-0000-4000-8000-000000000001',
});

/** The first Messenger list page, as the reader staged it. */
const INPUT: ChunkRef = {
  jobId: '00000000-0000-4000-8000-000000000001',
  pageId: PAGE_ID,
  platform: 'messenger',
  after: null,
};

function conversation(n: number, customer: boolean = true): Conversation {
  const owner = { id: PAGE_ID, name: 'My Business Page' };
  const person = { id: `psid-${n}`, name: `Customer ${n}`, email: `psid-${n}@facebook.com` };
  return {
    id: `t_${n}`,
    updated_time: '2026-01-01T10:00:00.000Z',
    message_count: 2,
    participants: { data: customer ? [person, owner] : [owner] },
    messages: {
      data: [
        { id: `m_${n}_2`, created_time: '2026-01-01T10:00:00.000Z', from: owner, message: 'Hello!' },
        {
          id: `m_${n}_1`,
          created_time: '2026-01-01T09:59:00.000Z',
          from: person,
          message: 'How much is it?',
        },
      ],
    },
  };
}

/** An Instagram conversation of igsid-n with the page's Instagram account. */
function instagramConversation(n: number): Conversation {
  const account = { id: INSTAGRAM_ID, username: 'mybusiness' };
  const person = { id: `igsid-${n}`, username: `shopper${n}` };
  return {
    id: `aWdfZAG${n}`,
    updated_time: '2026-01-02T10:00:00.000Z',
    message_count: 1,
    participants: { data: [person, account] },
    messages: {
      data: [{ id: `ig_m_${n}`, created_time: '2026-01-02T10:00:00.000Z', from: person, message: 'Hi' }],
    },
  };
}

/** A chunk's whole result: nothing counted and not stopped, but for `counts`. */
const chunkResult = (counts: Partial<ChunkResult>): ChunkResult => ({
  conversations: 0,
  created: 0,
  updated: 0,
  alreadyCounted: 0,
  failed: 0,
  analysed: 0,
  stopped: false,
  ...counts,
});

/** An analyzer stand-in that records what it was asked. */
function fakeAnalyzer() {
  const calls: AnalyzerMessage[][] = [];
  const analyzer: ConversationAnalyzer = {
    analyze: async (messages) => {
      calls.push(messages);
      return AI_CONTEXT;
    },
  };
  return { analyzer, calls };
}

/**
 * An analyzer whose first analysis answers at once and whose others wait for their abort, telling
 * `onAbort` its reason; `analyses.started` counts the analyses begun.
 */
function waitingAnalyzer(onAbort: (reason: unknown) => void) {
  const analyses = { started: 0 };
  const analyzer: ConversationAnalyzer = {
    analyze: (_messages, signal) => {
      analyses.started++;
      if (analyses.started === 1) return Promise.resolve(AI_CONTEXT);
      return new Promise((_resolve, reject) => {
        signal?.addEventListener('abort', () => {
          onAbort(signal.reason);
          reject(signal.reason);
        });
      });
    },
  };
  return { analyzer, analyses };
}

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** DynamoDB's answer to `request` when the actions `reasonOf` names failed (the others: 'None'). */
const cancelled = (
  request: TransactWriteCommandInput,
  reasonOf: (item: TransactItem) => CancellationReason | undefined,
) => transactionCancelled((request.TransactItems ?? []).map((item) => reasonOf(item) ?? { Code: 'None' }));

const isJobUpdate = (item: TransactItem) =>
  item.Update?.TableName === JOBS_TABLE && item.Update.Key?.sk === 'JOB';
const isContactWrite = (item: TransactItem) =>
  item.Put?.TableName === CONTACTS_TABLE || item.Update?.TableName === CONTACTS_TABLE;

/** The job's counters update fails its `#status = :running` condition: the job was cancelled. */
const refuseJob = (request: TransactWriteCommandInput) => {
  throw cancelled(request, (item) =>
    isJobUpdate(item)
      ? { Code: 'ConditionalCheckFailed', Item: marshall({ status: 'CANCELLED' }) }
      : undefined,
  );
};

/** The stored contact of psid-n as DynamoDB returns it in a failed condition. */
const storedContact = (n: number, lastSyncJobId: string) =>
  marshall({
    pageId: PAGE_ID,
    contactKey: `org-1#messenger#psid-${n}`,
    participantId: `psid-${n}`,
    lastSyncJobId,
    aiContext: AI_CONTEXT,
  });

const itemsOf = (input: TransactWriteCommandInput | undefined) => input?.TransactItems ?? [];
const contactPuts = (input: TransactWriteCommandInput | undefined) =>
  itemsOf(input).flatMap((item) => (item.Put?.TableName === CONTACTS_TABLE ? [item.Put.Item] : []));
const contactUpdates = (input: TransactWriteCommandInput | undefined) =>
  itemsOf(input).flatMap((item) => (item.Update?.TableName === CONTACTS_TABLE ? [item.Update] : []));
const jobUpdate = (input: TransactWriteCommandInput | undefined) => itemsOf(input).find(isJobUpdate)?.Update;
const markers = (input: TransactWriteCommandInput | undefined) =>
  itemsOf(input).flatMap((item) => (item.Put?.Item?.sk?.startsWith?.('CHUNK#') ? [item.Put.Item] : []));
/** Participants of the contacts each transaction puts, in order. */
const putParticipants = () => transactions().map((t) => contactPuts(t).map((c) => c?.participantId));

restoreEnvAfterEach(['CONVERSATION_CONCURRENCY', 'COMMIT_MAX_AGE_MS', 'COMMIT_SLOTS', 'COMMIT_SLOT_MS']);
/**
 * Every HTTP call a chunk could make to Graph: the conversations come staged, so a chunk makes none
 * (the AWS clients are mocked and do not go through fetch).
 */
let graphCalls: MockInstance<typeof fetch>;

beforeEach(() => {
  ddbMock.reset();
  kmsMock.reset();
  givenPageStored(PAGE);
  // No contact stored yet, unless a test says otherwise.
  ddbMock.on(BatchGetCommand).resolves({ Responses: { [CONTACTS_TABLE]: [] } });
  graphCalls = vi.spyOn(globalThis, 'fetch').mockRejectedValue(new Error('no Graph call in a chunk'));
  process.env.CONVERSATION_CONCURRENCY = '1';
  // Batches commit when full or at the chunk's end (close) in these tests, never because of their age.
  process.env.COMMIT_MAX_AGE_MS = '60000';
  delete process.env.COMMIT_SLOTS;
  delete process.env.COMMIT_SLOT_MS;
});

afterEach(() => {
  graphCalls.mockRestore();
});

describe('processChunk', () => {
  it('reads the stored contacts of the whole chunk in one batch', async () => {
    const items = [conversation(1), conversation(2)];

    await processChunk(INPUT, items, { analyzer: fakeAnalyzer().analyzer });

    const contactReads = ddbMock
      .commandCalls(BatchGetCommand)
      .filter((call) => call.args[0].input.RequestItems?.[CONTACTS_TABLE]);
    expect(contactReads).toHaveLength(1);
    expect(ddbMock).toReceiveCommandWith(BatchGetCommand, {
      RequestItems: {
        [CONTACTS_TABLE]: expect.objectContaining({
          Keys: [
            { pageId: PAGE_ID, contactKey: 'org-1#messenger#psid-1' },
            { pageId: PAGE_ID, contactKey: 'org-1#messenger#psid-2' },
          ],
        }),
      },
    });
  });

  it('does not analyse a conversation unchanged since its stored analysis, and keeps that analysis', async () => {
    const stored = { ...AI_CONTEXT, summary: 'analysed last time' };
    ddbMock.on(BatchGetCommand).resolves({
      Responses: {
        [CONTACTS_TABLE]: [
          // Unchanged: same updated_time as the conversation.
          {
            contactKey: 'org-1#messenger#psid-1',
            lastMessageAt: '2026-01-01T10:00:00.000Z',
            aiContext: stored,
            lastSyncJobId: 'an-earlier-job',
          },
          // Changed since: a new message arrived.
          {
            contactKey: 'org-1#messenger#psid-2',
            lastMessageAt: '2025-12-01T10:00:00.000Z',
            aiContext: stored,
            lastSyncJobId: 'an-earlier-job',
          },
        ],
      },
    });
    const items = [conversation(1), conversation(2)];
    const { analyzer, calls } = fakeAnalyzer();

    const result = await processChunk(INPUT, items, { analyzer });

    expect(calls).toHaveLength(1);
    expect(result).toMatchObject({ conversations: 2, updated: 2, created: 0, analysed: 1 });
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 1);
    const [commit] = transactions();
    // Known contacts go straight to the update: no create attempt, no page count change.
    expect(contactPuts(commit)).toEqual([]);
    expect(itemsOf(commit).some((item) => item.Update?.TableName === PAGES_TABLE)).toBe(false);
    const updates = contactUpdates(commit);
    expect(updates.map((u) => u.Key)).toEqual([
      { pageId: PAGE_ID, contactKey: 'org-1#messenger#psid-1' },
      { pageId: PAGE_ID, contactKey: 'org-1#messenger#psid-2' },
    ]);
    // Each update is written only if this job has not written the contact yet.
    for (const update of updates) {
      expect(update.ConditionExpression).toBe('attribute_exists(pageId) AND lastSyncJobId <> :job');
      expect(update.ExpressionAttributeValues?.[':job']).toBe(INPUT.jobId);
    }
    expect(Object.values(updates[0]?.ExpressionAttributeValues ?? {})).toContainEqual(stored);
    expect(Object.values(updates[1]?.ExpressionAttributeValues ?? {})).toContainEqual(AI_CONTEXT);
    expect(jobUpdate(commit)).toMatchObject({
      UpdateExpression: 'ADD syncedContacts :synced SET updatedAt = :now',
      ExpressionAttributeValues: expect.objectContaining({ ':synced': 2 }),
    });
  });

  it('commits a chunk in one transaction: its contacts, its marker, the guarded job counters and the page count', async () => {
    const items = [conversation(1), conversation(2), conversation(3)];
    const { analyzer, calls } = fakeAnalyzer();

    const result = await processChunk(INPUT, items, { analyzer });

    expect(result).toEqual(chunkResult({ conversations: 3, created: 3, analysed: 3 }));
    // The reader made the Graph call and staged the page: no Graph call here, no token decrypted.
    expect(graphCalls).not.toHaveBeenCalled();
    expect(kmsMock).not.toReceiveAnyCommand();
    expect(calls).toHaveLength(3);
    expect(calls[0]).toEqual([
      { fromCustomer: false, text: 'Hello!', createdAt: '2026-01-01T10:00:00.000Z' },
      { fromCustomer: true, text: 'How much is it?', createdAt: '2026-01-01T09:59:00.000Z' },
    ]);

    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 1);
    const actions = itemsOf(transactions()[0]);
    expect(actions).toHaveLength(6);
    expect(actions.slice(0, 3).map((item) => item.Put?.Item?.participantId)).toEqual([
      'psid-1',
      'psid-2',
      'psid-3',
    ]);
    expect(actions[0]).toEqual({
      Put: {
        TableName: CONTACTS_TABLE,
        Item: expect.objectContaining({
          pageId: PAGE_ID,
          contactKey: 'org-1#messenger#psid-1',
          displayName: 'Customer 1',
          email: 'psid-1@facebook.com',
          conversationId: 't_1',
          lastSyncJobId: INPUT.jobId,
          createdByJobId: INPUT.jobId,
          aiContext: AI_CONTEXT,
        }),
        ConditionExpression: 'attribute_not_exists(pageId)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
    // The chunk ends marked done, in the same (guarded) transaction as its last contacts.
    expect(actions[3]).toEqual({
      Put: expect.objectContaining({
        TableName: JOBS_TABLE,
        Item: expect.objectContaining({
          jobId: INPUT.jobId,
          sk: chunkSk('messenger', null),
          conversations: 3,
          failed: 0,
        }),
        ConditionExpression: 'attribute_not_exists(sk)',
      }),
    });
    expect(actions[4]).toEqual({
      Update: expect.objectContaining({
        TableName: JOBS_TABLE,
        Key: { jobId: INPUT.jobId, sk: 'JOB' },
        UpdateExpression: 'ADD syncedContacts :synced, createdContacts :created SET updatedAt = :now',
        ConditionExpression: '#status = :running',
        ExpressionAttributeValues: expect.objectContaining({
          ':running': 'IN_PROGRESS',
          ':synced': 3,
          ':created': 3,
        }),
      }),
    });
    expect(actions[5]).toEqual({
      Update: expect.objectContaining({
        TableName: PAGES_TABLE,
        Key: { pageId: PAGE_ID },
        UpdateExpression: 'ADD contactCount :created',
        ExpressionAttributeValues: { ':created': 3 },
      }),
    });
  });

  it('commits one conversation at a time when COMMIT_MAX_AGE_MS is 0, the marker last', async () => {
    process.env.COMMIT_MAX_AGE_MS = '0';
    const items = [conversation(1), conversation(2), conversation(3)];

    const result = await processChunk(INPUT, items, { analyzer: fakeAnalyzer().analyzer });

    expect(result).toMatchObject({ conversations: 3, created: 3, stopped: false });
    expect(putParticipants()).toEqual([['psid-1'], ['psid-2'], ['psid-3'], []]);
    expect(transactions().map((t) => jobUpdate(t)?.ExpressionAttributeValues?.[':synced'])).toEqual([
      1,
      1,
      1,
      undefined,
    ]);
    expect(transactions().map((t) => markers(t).length)).toEqual([0, 0, 0, 1]);
    // Every commit, the marker's too, is guarded by the job's status.
    for (const t of transactions()) expect(jobUpdate(t)?.ConditionExpression).toBe('#status = :running');
  });

  it("delays the chunk's last commit by its turn when the chunk knows its Map index", async () => {
    process.env.COMMIT_SLOTS = '4';
    process.env.COMMIT_SLOT_MS = '100';
    let analysedAt = 0;
    const waited: number[] = [];
    const analyzer: ConversationAnalyzer = {
      analyze: async () => {
        analysedAt = Date.now();
        return AI_CONTEXT;
      },
    };
    ddbMock.on(TransactWriteCommand).callsFake(() => {
      waited.push(Date.now() - analysedAt);
      return {};
    });

    for (const slot of [0, 3]) {
      const items = [conversation(1)];
      await expect(processChunk({ ...INPUT, slot }, items, { analyzer })).resolves.toMatchObject({
        created: 1,
      });
    }

    // Chunk 0 commits at once, chunk 3 after 3 x COMMIT_SLOT_MS (chunks that end together take turns).
    expect(waited).toHaveLength(2);
    expect(waited[0]).toBeLessThan(150);
    expect(waited[1]).toBeGreaterThanOrEqual(295);
  });

  it('stops with nothing counted when the job is found no longer IN_PROGRESS at its commit', async () => {
    const items = [conversation(1), conversation(2), conversation(3)];
    ddbMock.on(TransactWriteCommand).callsFake(refuseJob);

    const result = await processChunk(INPUT, items, { analyzer: fakeAnalyzer().analyzer });

    expect(result).toEqual(chunkResult({ conversations: 3, analysed: 3, stopped: true }));
    // Refused once, never tried again.
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 1);
  });

  it('stops and writes nothing more once the job is no longer IN_PROGRESS', async () => {
    process.env.COMMIT_MAX_AGE_MS = '0';
    const items = [conversation(1), conversation(2), conversation(3), conversation(4)];
    ddbMock.on(TransactWriteCommand).resolvesOnce({}).callsFake(refuseJob);

    const result = await processChunk(INPUT, items, { analyzer: fakeAnalyzer().analyzer });

    expect(result.stopped).toBe(true);
    expect(result.created).toBe(1);
    expect(result.failed).toBe(0);
    // The first commit counted, the second was refused, nothing was tried after it: not the other
    // conversations, not the chunk marker.
    expect(putParticipants()).toEqual([['psid-1'], ['psid-2']]);
    expect(transactions().flatMap(markers)).toEqual([]);
  });

  it('also stops when the cancel is found after a create switched to an update', async () => {
    const items = [conversation(1)];
    ddbMock
      .on(TransactWriteCommand)
      // The contact was created meanwhile by another job: the create becomes an update...
      .callsFakeOnce((request: TransactWriteCommandInput) => {
        throw cancelled(request, (item) =>
          item.Put?.TableName === CONTACTS_TABLE
            ? { Code: 'ConditionalCheckFailed', Item: storedContact(1, 'another-job') }
            : undefined,
        );
      })
      // ...which finds the job cancelled.
      .callsFake(refuseJob);

    const result = await processChunk(INPUT, items, { analyzer: fakeAnalyzer().analyzer });

    expect(result).toMatchObject({ created: 0, updated: 0, stopped: true });
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 2);
    const retry = transactions()[1];
    expect(contactPuts(retry)).toEqual([]);
    expect(contactUpdates(retry).map((u) => u.Key)).toEqual([
      { pageId: PAGE_ID, contactKey: 'org-1#messenger#psid-1' },
    ]);
  });

  it('counts a conversation without a customer as failed, with a FAILED# marker in the same transaction', async () => {
    const items = [conversation(1, false), conversation(2)];
    const { analyzer, calls } = fakeAnalyzer();

    const result = await processChunk(INPUT, items, { analyzer });

    expect(result).toEqual(chunkResult({ conversations: 2, created: 1, failed: 1, analysed: 1 }));
    expect(calls).toHaveLength(1);
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 1);
    const [commit] = transactions();
    expect(itemsOf(commit)[0]).toEqual({
      Put: expect.objectContaining({
        TableName: JOBS_TABLE,
        Item: expect.objectContaining({ jobId: INPUT.jobId, sk: 'FAILED#messenger#t_1' }),
        ConditionExpression: 'attribute_not_exists(sk)',
      }),
    });
    expect(contactPuts(commit).map((c) => c?.participantId)).toEqual(['psid-2']);
    expect(jobUpdate(commit)).toMatchObject({
      UpdateExpression:
        'ADD syncedContacts :synced, failedContacts :failed, createdContacts :created SET updatedAt = :now',
      ConditionExpression: '#status = :running',
      ExpressionAttributeValues: expect.objectContaining({ ':synced': 1, ':failed': 1, ':created': 1 }),
    });
    // The chunk's marker remembers its failure: a retry of the job processes the chunk again.
    expect(markers(commit)).toEqual([expect.objectContaining({ conversations: 2, failed: 1 })]);
  });

  it('counts a conversation whose analysis fails as failed and goes on', async () => {
    const items = [conversation(1), conversation(2)];
    let call = 0;
    const analyzer: ConversationAnalyzer = {
      analyze: async () => {
        call++;
        if (call === 1) throw new Error('model timeout');
        return AI_CONTEXT;
      },
    };

    const result = await processChunk(INPUT, items, { analyzer });

    expect(result).toMatchObject({ created: 1, failed: 1, stopped: false });
    expect(ddbMock).toReceiveCommandWith(TransactWriteCommand, {
      TransactItems: expect.arrayContaining([
        {
          Put: expect.objectContaining({
            Item: expect.objectContaining({
              sk: 'FAILED#messenger#t_1',
              reason: 'analysis failed: model timeout',
            }),
          }),
        },
      ]),
    });
    expect(putParticipants()).toEqual([['psid-2']]);
  });

  it('skips a conversation this job already counted (a retried chunk)', async () => {
    const items = [conversation(1), conversation(2)];
    ddbMock
      .on(TransactWriteCommand)
      // psid-1 already carries this job (an earlier attempt committed it, unknown to the read).
      .callsFakeOnce((request: TransactWriteCommandInput) => {
        throw cancelled(request, (item) =>
          item.Put?.Item?.participantId === 'psid-1'
            ? { Code: 'ConditionalCheckFailed', Item: storedContact(1, INPUT.jobId) }
            : undefined,
        );
      })
      .resolves({});

    const result = await processChunk(INPUT, items, { analyzer: fakeAnalyzer().analyzer });

    expect(result).toMatchObject({ created: 1, updated: 0, alreadyCounted: 1, stopped: false });
    expect(putParticipants()).toEqual([['psid-1', 'psid-2'], ['psid-2']]);
    expect(jobUpdate(transactions()[1])?.ExpressionAttributeValues).toMatchObject({
      ':synced': 1,
      ':created': 1,
    });
  });

  it('aborts the analyses in flight when another worker finds the job stopped', async () => {
    process.env.CONVERSATION_CONCURRENCY = '2';
    process.env.COMMIT_MAX_AGE_MS = '0';
    const items = [1, 2, 3, 4, 5].map((n) => conversation(n));
    let aborted = 0;
    const { analyzer, analyses } = waitingAnalyzer(() => aborted++);
    ddbMock.on(TransactWriteCommand).callsFake(refuseJob);

    const result = await processChunk(INPUT, items, { analyzer });

    expect(result).toMatchObject({ stopped: true, created: 0, failed: 0 });
    // Every analysis that had started besides the first was aborted, and no other one started.
    expect(analyses.started).toBeGreaterThanOrEqual(2);
    expect(analyses.started).toBeLessThan(5);
    expect(aborted).toBe(analyses.started - 1);
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 1);
  });

  it('aborts the analyses in flight with the refusal itself', async () => {
    process.env.CONVERSATION_CONCURRENCY = '2';
    process.env.COMMIT_MAX_AGE_MS = '0';
    const items = [conversation(1), conversation(2)];
    const reasons: unknown[] = [];
    const { analyzer } = waitingAnalyzer((reason) => reasons.push(reason));
    ddbMock.on(TransactWriteCommand).callsFake(refuseJob);

    await processChunk(INPUT, items, { analyzer });

    expect(reasons).toEqual([expect.any(JobNotRunningError)]);
  });

  it('rethrows a DynamoDB fault that is not a cancel', async () => {
    const items = [conversation(1)];
    ddbMock.on(TransactWriteCommand).callsFake((request: TransactWriteCommandInput) => {
      throw cancelled(request, (item) => (isContactWrite(item) ? { Code: 'ThrottlingError' } : undefined));
    });

    await expect(processChunk(INPUT, items, { analyzer: fakeAnalyzer().analyzer })).rejects.toThrow(
      TransactionCanceledException,
    );
  });

  it('rethrows a fault of a commit while conversations are still being analysed', async () => {
    process.env.COMMIT_MAX_AGE_MS = '0';
    const items = [conversation(1), conversation(2), conversation(3)];
    const fault = new Error('ServiceUnavailable');
    ddbMock.on(TransactWriteCommand).resolvesOnce({}).rejects(fault);

    await expect(processChunk(INPUT, items, { analyzer: fakeAnalyzer().analyzer })).rejects.toBe(fault);
    expect(transactions().flatMap(markers)).toEqual([]);
  });

  it('rethrows a transaction conflict the client gave up retrying, for the workflow to retry', async () => {
    const items = [conversation(1)];
    ddbMock.on(TransactWriteCommand).callsFake((request: TransactWriteCommandInput) => {
      throw cancelled(request, (item) => (isJobUpdate(item) ? { Code: 'TransactionConflict' } : undefined));
    });

    const error = await processChunk(INPUT, items, { analyzer: fakeAnalyzer().analyzer }).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect(error).not.toBeInstanceOf(JobNotRunningError);
    // The retry of conflicts is the shared client's middleware (not run by the mock), not commitBatch's.
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 1);
  });

  it('needs no page token: it syncs the staged conversations without KMS or Graph', async () => {
    const items = [conversation(1), conversation(2)];
    const { analyzer, calls } = fakeAnalyzer();
    kmsMock.onAnyCommand().rejects(new Error('a chunk must not decrypt the page token'));

    const result = await processChunk(INPUT, items, { analyzer });

    expect(result).toMatchObject({ conversations: 2, created: 2, failed: 0, stopped: false });
    expect(calls).toHaveLength(2);
    expect(kmsMock).not.toReceiveAnyCommand();
    expect(graphCalls).not.toHaveBeenCalled();
  });

  it('marks a chunk by its platform and the cursor it was read from', async () => {
    const items = [instagramConversation(7)];
    const ref: ChunkRef = { ...INPUT, platform: 'instagram', after: 'QVFIUmxyZA' };

    const result = await processChunk(ref, items, { analyzer: fakeAnalyzer().analyzer });

    expect(result).toMatchObject({ conversations: 1, created: 1 });
    expect(ddbMock).toReceiveCommandWith(BatchGetCommand, {
      RequestItems: {
        [JOBS_TABLE]: expect.objectContaining({
          Keys: [
            { jobId: INPUT.jobId, sk: 'JOB' },
            { jobId: INPUT.jobId, sk: chunkSk('instagram', 'QVFIUmxyZA') },
          ],
        }),
      },
    });
    const [commit] = transactions();
    expect(contactPuts(commit)).toEqual([
      expect.objectContaining({ contactKey: 'org-1#instagram#igsid-7', displayName: 'shopper7' }),
    ]);
    expect(markers(commit)).toEqual([
      expect.objectContaining({
        sk: chunkSk('instagram', 'QVFIUmxyZA'),
        platform: 'instagram',
        conversations: 1,
        failed: 0,
      }),
    ]);
  });

  it('fails the chunk with a reconnect message when the page is no longer connected', async () => {
    const items = [conversation(1)];
    const { analyzer } = fakeAnalyzer();
    givenPageGone();

    const error = await processChunk(INPUT, items, { analyzer }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SyncFailedError);
    expect((error as Error).message).toMatch(/reconnect/);

    expect(graphCalls).not.toHaveBeenCalled();
    expect(kmsMock).not.toReceiveAnyCommand();
    expect(ddbMock).not.toReceiveCommand(TransactWriteCommand);
  });

  it('never writes the token ciphertext into a contact', async () => {
    const items = [conversation(1), conversation(2)];
    const { analyzer } = fakeAnalyzer();

    await processChunk(INPUT, items, { analyzer });

    const written = JSON.stringify(transactions());
    expect(written).toContain('psid-1');
    expect(written).not.toContain(PAGE.accessTokenCiphertext);
  });
});

describe('processChunk: the chunk marker (pause/resume and retry checkpoint)', () => {
  it('skips the chunk without reading the page, analysing or writing when this job already marked it done', async () => {
    const items = [conversation(1)];
    ddbMock.on(BatchGetCommand).resolves({
      Responses: {
        [JOBS_TABLE]: [
          { jobId: INPUT.jobId, sk: 'JOB', status: 'IN_PROGRESS' },
          { jobId: INPUT.jobId, sk: chunkSk('messenger', null), conversations: 1, failed: 0 },
        ],
      },
    });

    const { analyzer, calls } = fakeAnalyzer();

    const result = await processChunk(INPUT, items, { analyzer });

    expect(result).toMatchObject({ skippedChunk: 'done-by-this-job', conversations: 0 });
    expect(ddbMock).not.toReceiveCommand(GetCommand);
    expect(calls).toEqual([]);
    expect(graphCalls).not.toHaveBeenCalled();
    expect(ddbMock).not.toReceiveCommand(TransactWriteCommand);
  });

  it('stops without reading the page or analysing when the job was stopped before the chunk began', async () => {
    const items = [conversation(1)];
    ddbMock.on(BatchGetCommand).resolves({
      Responses: { [JOBS_TABLE]: [{ jobId: INPUT.jobId, sk: 'JOB', status: 'CANCELLED' }] },
    });

    const { analyzer, calls } = fakeAnalyzer();

    const result = await processChunk(INPUT, items, { analyzer });

    expect(result).toMatchObject({ stopped: true, conversations: 0 });
    expect(ddbMock).not.toReceiveCommand(GetCommand);
    expect(calls).toEqual([]);
    expect(graphCalls).not.toHaveBeenCalled();
    expect(ddbMock).not.toReceiveCommand(TransactWriteCommand);
  });

  it('analyses and writes nothing for a conversation this job already wrote', async () => {
    const items = [conversation(1), conversation(2)];
    const { analyzer, calls } = fakeAnalyzer();
    ddbMock.on(BatchGetCommand).resolves({
      Responses: {
        [CONTACTS_TABLE]: [
          {
            contactKey: 'org-1#messenger#psid-1',
            lastMessageAt: '2025-01-01T00:00:00.000Z',
            aiContext: AI_CONTEXT,
            lastSyncJobId: INPUT.jobId,
          },
        ],
      },
    });

    const result = await processChunk(INPUT, items, { analyzer });

    expect(calls).toHaveLength(1);
    expect(result).toMatchObject({ alreadyCounted: 1, created: 1, analysed: 1 });
    expect(putParticipants()).toEqual([['psid-2']]);
    expect(contactUpdates(transactions()[0])).toEqual([]);
    // The marker still counts every conversation of the chunk.
    expect(markers(transactions()[0])).toEqual([expect.objectContaining({ conversations: 2, failed: 0 })]);
  });
});
