import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DecryptCommand, InvalidCiphertextException, KMSClient } from '@aws-sdk/client-kms';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnalyzerMessage, ConversationAnalyzer } from '../../../shared/analyzer/analyzer.ts';
import { SyncFailedError } from '../../../shared/errors.ts';
import type { GraphClient, ListRequest } from '../../../shared/graph/graph-client.ts';
import type { Conversation } from '../../../shared/graph/schemas.ts';
import type { AiContext, ChunkInput } from '../../../shared/schemas.ts';
import { chunkSk } from '../../../shared/store/chunk-repository.ts';
import { CONFLICT_ATTEMPTS } from '../../../shared/store/contact-repository.ts';
import type { ConnectedPage } from '../../../shared/store/page-repository.ts';
import { processChunk } from '../../../shared/sync/process-chunk.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const kmsMock = mockClient(KMSClient);

const JOBS_TABLE = process.env.JOBS_TABLE ?? '';
const CONTACTS_TABLE = process.env.CONTACTS_TABLE ?? '';
const PAGES_TABLE = process.env.PAGES_TABLE ?? '';
const PAGE_ID = '104729384756192';
const TOKEN = 'EAAG-page-token';
/** The stored form of TOKEN: KMS ciphertext, base64. */
const CIPHERTEXT_BYTES = Buffer.from('kms-ciphertext-of-EAAG-page-token');

const PAGE: ConnectedPage = {
  pageId: PAGE_ID,
  organizationId: 'org-1',
  pageName: 'My Business Page',
  accessTokenCiphertext: CIPHERTEXT_BYTES.toString('base64'),
  contactCount: 0,
  activeJobId: '00000000-0000-4000-8000-000000000001',
  connectedAt: '2026-01-01T00:00:00.000Z',
};

const INPUT: ChunkInput = {
  jobId: '00000000-0000-4000-8000-000000000001',
  pageId: PAGE_ID,
  platform: 'messenger',
  after: null,
  limit: 50,
};

const AI_CONTEXT: AiContext = {
  summary: 'test',
  intent: 'other',
  sentiment: 'neutral',
  leadScore: 10,
  tags: [],
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

/** A GraphClient stand-in that answers every list call with `items` and records the requests. */
function fakeGraph(items: Conversation[]) {
  const requests: ListRequest[] = [];
  const graph = {
    listConversations: async (req: ListRequest) => {
      requests.push(req);
      return { items, after: null };
    },
  } as unknown as GraphClient;
  return { graph, requests };
}

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

function transactionCancelled(...codes: string[]) {
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

const allTransactions = (): TransactWriteCommandInput[] =>
  ddbMock.commandCalls(TransactWriteCommand).map((call) => call.args[0].input);
/** A chunk marker (the pause/resume checkpoint) is written with a ConditionCheck of the job. */
const isChunkMarker = (input: TransactWriteCommandInput) =>
  input.TransactItems?.some((item) => item.Put?.Item?.sk?.startsWith?.('CHUNK#')) === true;
/** The contact (and failure) transactions, in order; the chunk marker is checked on its own. */
const transactions = (): TransactWriteCommandInput[] => allTransactions().filter((t) => !isChunkMarker(t));
const chunkMarkers = () => allTransactions().filter(isChunkMarker);

const contactPut = (input: TransactWriteCommandInput) =>
  input.TransactItems?.find((item) => item.Put?.TableName === CONTACTS_TABLE)?.Put?.Item;

let savedConcurrency: string | undefined;

beforeEach(() => {
  ddbMock.reset();
  kmsMock.reset();
  ddbMock.on(GetCommand, { TableName: PAGES_TABLE }).resolves({ Item: PAGE });
  // No contact stored yet, unless a test says otherwise.
  ddbMock.on(BatchGetCommand).resolves({ Responses: { [CONTACTS_TABLE]: [] } });
  kmsMock.on(DecryptCommand).resolves({ Plaintext: Buffer.from(TOKEN, 'utf8') });
  savedConcurrency = process.env.CONVERSATION_CONCURRENCY;
  process.env.CONVERSATION_CONCURRENCY = '1';
});

afterEach(() => {
  if (savedConcurrency === undefined) delete process.env.CONVERSATION_CONCURRENCY;
  else process.env.CONVERSATION_CONCURRENCY = savedConcurrency;
});

describe('processChunk', () => {
  it('reads the stored contacts of the whole chunk in one batch', async () => {
    const { graph } = fakeGraph([conversation(1), conversation(2)]);

    await processChunk(INPUT, { analyzer: fakeAnalyzer().analyzer, graph });

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
          },
          // Changed since: a new message arrived.
          {
            contactKey: 'org-1#messenger#psid-2',
            lastMessageAt: '2025-12-01T10:00:00.000Z',
            aiContext: stored,
          },
        ],
      },
    });
    const { graph } = fakeGraph([conversation(1), conversation(2)]);
    const { analyzer, calls } = fakeAnalyzer();

    const result = await processChunk(INPUT, { analyzer, graph });

    expect(calls).toHaveLength(1);
    expect(result).toMatchObject({ conversations: 2, updated: 2, created: 0, analysed: 1 });
    // Known contacts go straight to the update: no create attempt, no page count change.
    expect(transactions().map(contactPut)).toEqual([undefined, undefined]);
    const updates = transactions().map(
      (t) => t.TransactItems?.find((i) => i.Update?.TableName === CONTACTS_TABLE)?.Update,
    );
    expect(updates[0]?.Key).toEqual({ pageId: PAGE_ID, contactKey: 'org-1#messenger#psid-1' });
    expect(Object.values(updates[0]?.ExpressionAttributeValues ?? {})).toContainEqual(stored);
    expect(Object.values(updates[1]?.ExpressionAttributeValues ?? {})).toContainEqual(AI_CONTEXT);
  });

  it('saves every conversation in its own transaction guarded by the job status', async () => {
    const { graph, requests } = fakeGraph([conversation(1), conversation(2), conversation(3)]);
    const { analyzer, calls } = fakeAnalyzer();

    const result = await processChunk(INPUT, { analyzer, graph });

    expect(result).toEqual({
      conversations: 3,
      created: 3,
      updated: 0,
      alreadyCounted: 0,
      failed: 0,
      analysed: 3,
      stopped: false,
    });
    expect(requests).toEqual([
      expect.objectContaining({ pageId: PAGE_ID, accessToken: TOKEN, after: null, limit: 50 }),
    ]);
    expect(kmsMock).toReceiveCommandTimes(DecryptCommand, 1);
    expect(kmsMock).toReceiveCommandWith(DecryptCommand, {
      CiphertextBlob: CIPHERTEXT_BYTES,
      EncryptionContext: { pageId: PAGE_ID },
    });
    expect(calls).toHaveLength(3);
    expect(calls[0]).toEqual([
      { fromCustomer: false, text: 'Hello!', createdAt: '2026-01-01T10:00:00.000Z' },
      { fromCustomer: true, text: 'How much is it?', createdAt: '2026-01-01T09:59:00.000Z' },
    ]);
    expect(transactions()).toHaveLength(3);
    expect(ddbMock).toReceiveCommandWith(TransactWriteCommand, {
      TransactItems: expect.arrayContaining([
        {
          Update: expect.objectContaining({
            TableName: JOBS_TABLE,
            Key: { jobId: '00000000-0000-4000-8000-000000000001', sk: 'JOB' },
            UpdateExpression: expect.stringContaining('ADD syncedContacts :one'),
            ConditionExpression: '#status = :running',
            ExpressionAttributeValues: expect.objectContaining({ ':running': 'IN_PROGRESS' }),
          }),
        },
      ]),
    });
    expect(transactions().map((input) => contactPut(input)?.participantId)).toEqual([
      'psid-1',
      'psid-2',
      'psid-3',
    ]);
    // The chunk ends marked done, once, guarded on the job still running.
    expect(chunkMarkers()).toHaveLength(1);
    expect(transactions().map(contactPut)[0]).toMatchObject({
      pageId: PAGE_ID,
      contactKey: 'org-1#messenger#psid-1',
      displayName: 'Customer 1',
      email: 'psid-1@facebook.com',
      conversationId: 't_1',
      lastSyncJobId: '00000000-0000-4000-8000-000000000001',
      aiContext: AI_CONTEXT,
    });
  });

  it('stops and writes nothing more once the job is no longer IN_PROGRESS', async () => {
    const { graph } = fakeGraph([conversation(1), conversation(2), conversation(3), conversation(4)]);
    const { analyzer, calls } = fakeAnalyzer();
    ddbMock
      .on(TransactWriteCommand)
      .resolvesOnce({})
      .rejectsOnce(transactionCancelled('None', 'ConditionalCheckFailed', 'None'))
      .resolves({});

    const result = await processChunk(INPUT, { analyzer, graph });

    expect(result.stopped).toBe(true);
    expect(result.created).toBe(1);
    expect(result.failed).toBe(0);
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 2);
    expect(transactions().map((input) => contactPut(input)?.participantId)).toEqual(['psid-1', 'psid-2']);
    expect(calls).toHaveLength(2);
  });

  it('also stops when the cancel is found by the update of an existing contact', async () => {
    const { graph } = fakeGraph([conversation(1), conversation(2)]);
    const { analyzer } = fakeAnalyzer();
    ddbMock
      .on(TransactWriteCommand)
      .rejectsOnce(transactionCancelled('ConditionalCheckFailed', 'None', 'None'))
      .rejectsOnce(transactionCancelled('None', 'ConditionalCheckFailed'))
      .resolves({});

    const result = await processChunk(INPUT, { analyzer, graph });

    expect(result).toMatchObject({ created: 0, updated: 0, stopped: true });
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 2);
  });

  it('counts a conversation without a customer as failed, with a FAILED# marker in the same transaction', async () => {
    const { graph } = fakeGraph([conversation(1, false), conversation(2)]);
    const { analyzer, calls } = fakeAnalyzer();

    const result = await processChunk(INPUT, { analyzer, graph });

    expect(result).toEqual({
      conversations: 2,
      created: 1,
      updated: 0,
      alreadyCounted: 0,
      failed: 1,
      analysed: 1,
      stopped: false,
    });
    expect(calls).toHaveLength(1);
    expect(ddbMock).toReceiveCommandWith(TransactWriteCommand, {
      TransactItems: [
        {
          Put: expect.objectContaining({
            TableName: JOBS_TABLE,
            Item: expect.objectContaining({
              jobId: '00000000-0000-4000-8000-000000000001',
              sk: 'FAILED#messenger#t_1',
            }),
            ConditionExpression: 'attribute_not_exists(sk)',
          }),
        },
        {
          Update: expect.objectContaining({
            TableName: JOBS_TABLE,
            Key: { jobId: '00000000-0000-4000-8000-000000000001', sk: 'JOB' },
            UpdateExpression: expect.stringContaining('ADD failedContacts :one'),
            ConditionExpression: '#status = :running',
          }),
        },
      ],
    });
  });

  it('counts a conversation whose analysis fails as failed and goes on', async () => {
    const { graph } = fakeGraph([conversation(1), conversation(2)]);
    let call = 0;
    const analyzer: ConversationAnalyzer = {
      analyze: async () => {
        call++;
        if (call === 1) throw new Error('model timeout');
        return AI_CONTEXT;
      },
    };

    const result = await processChunk(INPUT, { analyzer, graph });

    expect(result).toMatchObject({ created: 1, failed: 1, stopped: false });
    expect(ddbMock).toReceiveCommandWith(TransactWriteCommand, {
      TransactItems: expect.arrayContaining([
        { Put: expect.objectContaining({ Item: expect.objectContaining({ sk: 'FAILED#messenger#t_1' }) }) },
      ]),
    });
  });

  it('skips a conversation this job already counted (a retried chunk)', async () => {
    const { graph } = fakeGraph([conversation(1)]);
    const { analyzer } = fakeAnalyzer();
    ddbMock
      .on(TransactWriteCommand)
      .rejectsOnce(transactionCancelled('ConditionalCheckFailed', 'None', 'None'))
      .rejectsOnce(transactionCancelled('ConditionalCheckFailed', 'None'));

    const result = await processChunk(INPUT, { analyzer, graph });

    expect(result).toMatchObject({ created: 0, updated: 0, alreadyCounted: 1, stopped: false });
    expect(ddbMock).toReceiveCommandWith(TransactWriteCommand, {
      TransactItems: expect.arrayContaining([
        {
          Update: expect.objectContaining({
            TableName: CONTACTS_TABLE,
            ConditionExpression: expect.stringContaining('lastSyncJobId <> :job'),
            ExpressionAttributeValues: expect.objectContaining({
              ':job': '00000000-0000-4000-8000-000000000001',
            }),
          }),
        },
      ]),
    });
  });

  it('aborts the analyses in flight when another worker finds the job stopped', async () => {
    process.env.CONVERSATION_CONCURRENCY = '2';
    const { graph } = fakeGraph([conversation(1), conversation(2), conversation(3)]);
    let started = 0;
    let aborted = 0;
    // The first analysis answers at once; the others wait for the abort.
    const analyzer: ConversationAnalyzer = {
      analyze: (_messages, signal) => {
        started++;
        if (started === 1) return Promise.resolve(AI_CONTEXT);
        return new Promise((_resolve, reject) => {
          signal?.addEventListener('abort', () => {
            aborted++;
            reject(signal.reason);
          });
        });
      },
    };
    ddbMock.on(TransactWriteCommand).rejects(transactionCancelled('None', 'ConditionalCheckFailed', 'None'));

    const result = await processChunk(INPUT, { analyzer, graph });

    expect(result.stopped).toBe(true);
    expect(started).toBe(2);
    expect(aborted).toBe(1);
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 1);
  });

  it('retries a transaction that conflicts with another write of the job, and counts it once', async () => {
    const { graph } = fakeGraph([conversation(1)]);
    const { analyzer } = fakeAnalyzer();
    ddbMock
      .on(TransactWriteCommand)
      .rejectsOnce(transactionCancelled('None', 'TransactionConflict'))
      .rejectsOnce(transactionCancelled('None', 'TransactionConflict'))
      .resolves({});

    const result = await processChunk(INPUT, { analyzer, graph });

    expect(result).toMatchObject({ conversations: 1, created: 1, failed: 0, stopped: false });
    expect(transactions()).toHaveLength(3);
    // The same write each time: the contact and the guarded increment.
    const [first, , last] = transactions();
    expect(contactPut(last as TransactWriteCommandInput)).toEqual(
      contactPut(first as TransactWriteCommandInput),
    );
  });

  it('stops when the job is cancelled while a conflicting write waits to retry', async () => {
    const { graph } = fakeGraph([conversation(1)]);
    const { analyzer } = fakeAnalyzer();
    ddbMock
      .on(TransactWriteCommand)
      .rejectsOnce(transactionCancelled('None', 'TransactionConflict'))
      .rejects(transactionCancelled('None', 'ConditionalCheckFailed'));

    const result = await processChunk(INPUT, { analyzer, graph });

    expect(result).toMatchObject({ created: 0, stopped: true });
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, 2);
  });

  it(`gives up after ${CONFLICT_ATTEMPTS} conflicting attempts and rethrows, for the workflow's retry`, async () => {
    const { graph } = fakeGraph([conversation(1)]);
    const { analyzer } = fakeAnalyzer();
    ddbMock.on(TransactWriteCommand).rejects(transactionCancelled('None', 'TransactionConflict'));

    await expect(processChunk(INPUT, { analyzer, graph })).rejects.toThrow(TransactionCanceledException);
    expect(ddbMock).toReceiveCommandTimes(TransactWriteCommand, CONFLICT_ATTEMPTS);
  }, 20_000);

  it('rethrows a DynamoDB fault that is not a cancel', async () => {
    const { graph } = fakeGraph([conversation(1)]);
    const { analyzer } = fakeAnalyzer();
    ddbMock.on(TransactWriteCommand).rejects(transactionCancelled('ThrottlingError', 'None', 'None'));

    await expect(processChunk(INPUT, { analyzer, graph })).rejects.toThrow(TransactionCanceledException);
  });

  it('fails the chunk before any Graph call or write when KMS refuses to decrypt the token', async () => {
    const { graph, requests } = fakeGraph([conversation(1)]);
    const { analyzer, calls } = fakeAnalyzer();
    kmsMock
      .on(DecryptCommand)
      .rejects(new InvalidCiphertextException({ message: 'context mismatch', $metadata: {} }));

    await expect(processChunk(INPUT, { analyzer, graph })).rejects.toThrow(InvalidCiphertextException);

    expect(requests).toEqual([]);
    expect(calls).toEqual([]);
    expect(ddbMock).not.toReceiveCommand(TransactWriteCommand);
  });

  it('fails the chunk with a reconnect message when the page is no longer connected', async () => {
    const { graph, requests } = fakeGraph([conversation(1)]);
    const { analyzer } = fakeAnalyzer();
    ddbMock.on(GetCommand, { TableName: PAGES_TABLE }).resolves({ Item: undefined });

    const error = await processChunk(INPUT, { analyzer, graph }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SyncFailedError);
    expect((error as Error).message).toMatch(/reconnect/);

    expect(requests).toEqual([]);
    expect(kmsMock).not.toReceiveAnyCommand();
    expect(ddbMock).not.toReceiveCommand(TransactWriteCommand);
  });

  it('never writes the token or its ciphertext into a contact', async () => {
    const { graph } = fakeGraph([conversation(1), conversation(2)]);
    const { analyzer } = fakeAnalyzer();

    await processChunk(INPUT, { analyzer, graph });

    const written = JSON.stringify(transactions());
    expect(written).not.toContain(TOKEN);
    expect(written).not.toContain(PAGE.accessTokenCiphertext);
  });
});

describe('processChunk: the chunk marker (pause/resume and retry checkpoint)', () => {
  const markerWrites = () => chunkMarkers();

  it('retries a marker that conflicts with a counter increment, like a contact write', async () => {
    const { graph } = fakeGraph([conversation(1)]);
    ddbMock
      .on(TransactWriteCommand)
      .resolvesOnce({}) // the contact
      .rejectsOnce(transactionCancelled('TransactionConflict', 'None'))
      .resolves({});

    const result = await processChunk(INPUT, { analyzer: fakeAnalyzer().analyzer, graph });

    expect(result).toMatchObject({ created: 1, stopped: false });
    expect(markerWrites()).toHaveLength(2);
  });

  it('still succeeds when the marker cannot be written: it only saves work on a resume', async () => {
    const { graph } = fakeGraph([conversation(1)]);
    ddbMock.on(TransactWriteCommand).resolvesOnce({}).rejects(new Error('ServiceUnavailable'));

    const result = await processChunk(INPUT, { analyzer: fakeAnalyzer().analyzer, graph });

    expect(result).toMatchObject({ created: 1, stopped: false });
    expect(markerWrites()).toHaveLength(1);
  });

  it('skips the chunk without a Graph call when this job already marked it done', async () => {
    const { graph, requests } = fakeGraph([conversation(1)]);
    ddbMock.on(BatchGetCommand).resolves({
      Responses: {
        [JOBS_TABLE]: [
          { jobId: INPUT.jobId, sk: 'JOB', status: 'IN_PROGRESS' },
          { jobId: INPUT.jobId, sk: chunkSk('messenger', null), conversations: 1, failed: 0 },
        ],
      },
    });

    const result = await processChunk(INPUT, { analyzer: fakeAnalyzer().analyzer, graph });

    expect(requests).toEqual([]);
    expect(result).toMatchObject({ skippedChunk: 'done-by-this-job', conversations: 0 });
    expect(ddbMock).not.toReceiveCommand(TransactWriteCommand);
  });

  it('analyses and writes nothing for a conversation this job already wrote', async () => {
    const { graph } = fakeGraph([conversation(1), conversation(2)]);
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

    const result = await processChunk(INPUT, { analyzer, graph });

    expect(calls).toHaveLength(1);
    expect(result).toMatchObject({ alreadyCounted: 1, created: 1, analysed: 1 });
    expect(transactions().map((t) => contactPut(t)?.participantId)).toEqual(['psid-2']);
  });
});
