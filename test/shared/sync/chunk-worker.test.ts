import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  GetObjectCommand,
  type GetObjectCommandInput,
  type GetObjectCommandOutput,
  NoSuchKey,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  BatchGetCommand,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConversationAnalyzer } from '#shared/analyzer/analyzer.ts';
import type { Conversation } from '#shared/graph/graph-responses.ts';
import type { AiContext, ChunkInput } from '#shared/schemas.ts';
import type { SegmentEnd, StagedChunk } from '#shared/staging/staged-chunks.ts';
import { chunkSk } from '#shared/store/chunk-repository.ts';
import { runWorkerTurn } from '#shared/sync/chunk-worker.ts';
import {
  CONTACTS_TABLE,
  ddbMock,
  givenPageStored,
  JOBS_TABLE,
  PAGE_ID,
  restoreEnvAfterEach,
  transactions,
} from './chunk-unit.ts';

const s3Mock = mockClient(S3Client);

const BUCKET = 'contact-sync-staging-worker';
const JOB = '00000000-0000-4000-8000-0000000000b1';
const AI_CONTEXT: AiContext = { summary: 's', intent: 'other', sentiment: 'neutral', leadScore: 5, tags: [] };

/** Slot 1 of 3 of segment 2, at its chunk 4 (its second: 1, 4, 7...). */
const INPUT: ChunkInput = { jobId: JOB, pageId: PAGE_ID, segment: 2, index: 4, slot: 1, slots: 3 };

function conversation(n: number): Conversation {
  const owner = { id: PAGE_ID, name: 'My Business Page' };
  const person = { id: `psid-${n}`, name: `Customer ${n}` };
  return {
    id: `t_${n}`,
    updated_time: '2026-01-01T10:00:00.000Z',
    message_count: 1,
    participants: { data: [person, owner] },
    messages: {
      data: [{ id: `m_${n}`, created_time: '2026-01-01T10:00:00.000Z', from: person, message: 'Hi' }],
    },
  };
}

const STAGED: StagedChunk = {
  platform: 'instagram',
  after: 'QVFIUmxyZA',
  conversations: [conversation(1), conversation(2)],
  resume: { platform: 'instagram', after: 'QVFIUm5leHQ', done: false },
};

const chunkKey = (segment: number, index: number) =>
  `jobs/${JOB}/s${segment}/${String(index).padStart(6, '0')}.json`;
const endKey = (segment: number) => `jobs/${JOB}/s${segment}/end.json`;
const body = (value: unknown) =>
  ({ Body: { transformToString: async () => JSON.stringify(value) } }) as unknown as GetObjectCommandOutput;

/**
 * The staging store as a map of keys; `stageAt` stages more objects when the n-th GetObject arrives
 * (the reader staging while the worker polls).
 */
function stagingStore(
  objects: Record<string, unknown>,
  stageAt: Record<number, Record<string, unknown>> = {},
) {
  const store = new Map(Object.entries(objects));
  const reads: string[] = [];
  s3Mock.on(GetObjectCommand).callsFake((input: GetObjectCommandInput) => {
    const more = stageAt[reads.length + 1];
    if (more) for (const [key, value] of Object.entries(more)) store.set(key, value);
    reads.push(input.Key ?? '');
    if (input.Bucket !== BUCKET) throw new Error(`unexpected bucket ${input.Bucket}`);
    const value = store.get(input.Key ?? '');
    if (value === undefined)
      throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });
    return body(value);
  });
  return { reads };
}

/** The job as readChunkStart finds it, with no chunk marker. */
const jobIs = (status: string) =>
  ddbMock
    .on(BatchGetCommand)
    .callsFake((input) =>
      input.RequestItems?.[JOBS_TABLE]
        ? { Responses: { [JOBS_TABLE]: [{ jobId: JOB, sk: 'JOB', status }] } }
        : { Responses: { [CONTACTS_TABLE]: [] } },
    );

function countingAnalyzer() {
  const counter = { calls: 0 };
  const analyzer: ConversationAnalyzer = {
    analyze: async () => {
      counter.calls++;
      return AI_CONTEXT;
    },
  };
  return { analyzer, counter };
}

restoreEnvAfterEach([
  'STAGING_BUCKET',
  'CHUNK_WAIT_MS',
  'CHUNK_POLL_MS',
  'CHUNK_WAIT_STATUS_MS',
  'COMMIT_MAX_AGE_MS',
]);
beforeEach(() => {
  s3Mock.reset();
  ddbMock.reset();
  Object.assign(process.env, {
    STAGING_BUCKET: BUCKET,
    CHUNK_WAIT_MS: '300',
    CHUNK_POLL_MS: '20',
    CHUNK_WAIT_STATUS_MS: '10000',
    COMMIT_MAX_AGE_MS: '60000',
  });
  givenPageStored();
  ddbMock.on(TransactWriteCommand).resolves({});
  jobIs('IN_PROGRESS');
});
afterEach(() => {
  s3Mock.reset();
});

describe('runWorkerTurn', () => {
  it('processes its staged chunk and goes on to index + slots', async () => {
    stagingStore({ [chunkKey(2, 4)]: STAGED });
    const { analyzer, counter } = countingAnalyzer();

    const turn = await runWorkerTurn(INPUT, { analyzer });

    expect(turn).toMatchObject({ next: 7, conversations: 2, created: 2, stopped: false });
    expect(counter.calls).toBe(2);
    // The chunk is known by the platform and cursor it was read from: its marker, its contacts.
    expect(ddbMock).toReceiveCommandWith(BatchGetCommand, {
      RequestItems: {
        [JOBS_TABLE]: expect.objectContaining({
          Keys: [
            { jobId: JOB, sk: 'JOB' },
            { jobId: JOB, sk: chunkSk('instagram', 'QVFIUmxyZA') },
          ],
        }),
      },
    });
    const written = JSON.stringify(transactions());
    expect(written).toContain('org-1#instagram#psid-1');
    expect(written).toContain(chunkSk('instagram', 'QVFIUmxyZA'));
  });

  it('reads only its own chunk of its own segment', async () => {
    const { reads } = stagingStore({
      [chunkKey(2, 4)]: STAGED,
      [chunkKey(2, 5)]: STAGED,
      [chunkKey(1, 4)]: STAGED,
    });

    await runWorkerTurn(INPUT, { analyzer: countingAnalyzer().analyzer });

    // Its chunk, then the end marker: whether this slot has more to take.
    expect(reads).toEqual([chunkKey(2, 4), endKey(2)]);
  });

  it('waits for a chunk not staged yet and processes it once it is', async () => {
    // Staged when the worker looks for the 3rd time (each look reads the chunk, then the end marker).
    const { reads } = stagingStore({}, { 5: { [chunkKey(2, 4)]: STAGED } });
    const { analyzer, counter } = countingAnalyzer();

    const turn = await runWorkerTurn(INPUT, { analyzer });

    expect(turn).toMatchObject({ next: 7, created: 2 });
    expect(counter.calls).toBe(2);
    expect(reads).toEqual([chunkKey(2, 4), endKey(2), chunkKey(2, 4), endKey(2), chunkKey(2, 4), endKey(2)]);
  });

  it('ends its turn on the same index after CHUNK_WAIT_MS when the chunk is still not staged', async () => {
    const { reads } = stagingStore({});
    const { analyzer, counter } = countingAnalyzer();
    const started = Date.now();

    const turn = await runWorkerTurn(INPUT, { analyzer });

    const waited = Date.now() - started;
    expect(turn).toEqual({ next: 4 });
    expect(waited).toBeGreaterThanOrEqual(300);
    expect(waited).toBeLessThan(2000);
    // It polled, every CHUNK_POLL_MS, the chunk and the end marker.
    expect(reads.length).toBeGreaterThanOrEqual(6);
    expect(new Set(reads)).toEqual(new Set([chunkKey(2, 4), endKey(2)]));
    expect(counter.calls).toBe(0);
    expect(ddbMock).not.toReceiveAnyCommand();
  });

  it('looks once, without waiting, when CHUNK_WAIT_MS is 0', async () => {
    process.env.CHUNK_WAIT_MS = '0';
    const { reads } = stagingStore({});

    await expect(runWorkerTurn(INPUT, { analyzer: countingAnalyzer().analyzer })).resolves.toEqual({
      next: 4,
    });
    expect(reads).toEqual([chunkKey(2, 4), endKey(2)]);
  });

  it('ends the slot when the end marker says the segment has no chunk at its index', async () => {
    const end: SegmentEnd = { chunks: 4, next: null };
    stagingStore({ [endKey(2)]: end });
    const { analyzer, counter } = countingAnalyzer();

    await expect(runWorkerTurn(INPUT, { analyzer })).resolves.toEqual({ next: null });
    await expect(runWorkerTurn({ ...INPUT, index: 5 }, { analyzer })).resolves.toEqual({ next: null });

    expect(counter.calls).toBe(0);
    expect(ddbMock).not.toReceiveAnyCommand();
  });

  it('ends the slot at once for an empty segment', async () => {
    stagingStore({ [endKey(0)]: { chunks: 0, next: null } });
    const started = Date.now();

    await expect(
      runWorkerTurn({ ...INPUT, segment: 0, index: 0, slot: 0 }, { analyzer: countingAnalyzer().analyzer }),
    ).resolves.toEqual({ next: null });
    expect(Date.now() - started).toBeLessThan(300);
  });

  it('processes a chunk staged just before the end marker it saw', async () => {
    // The chunk is missing at the first look, then the reader stages it and its end marker.
    const { reads } = stagingStore(
      {},
      { 2: { [chunkKey(2, 4)]: STAGED, [endKey(2)]: { chunks: 5, next: null } } },
    );

    const turn = await runWorkerTurn(INPUT, { analyzer: countingAnalyzer().analyzer });

    // Its next one (7) is past the segment's 5 chunks: the slot ends with this turn.
    expect(turn).toMatchObject({ next: null, created: 2 });
    expect(reads).toEqual([chunkKey(2, 4), endKey(2), chunkKey(2, 4), endKey(2)]);
  });

  it('ends the wait when the job stops while the chunk is not staged (no run-on after a stop)', async () => {
    stagingStore({});
    process.env.CHUNK_WAIT_MS = '5000';
    process.env.CHUNK_WAIT_STATUS_MS = '50';
    ddbMock.on(GetCommand).resolves({ Item: { status: 'CANCELLED' } });
    const started = Date.now();

    const turn = await runWorkerTurn(INPUT, { analyzer: countingAnalyzer().analyzer });

    expect(turn).toEqual({ next: null });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(ddbMock).toReceiveCommandWith(GetCommand, {
      Key: { jobId: JOB, sk: 'JOB' },
      ConsistentRead: true,
    });
  });

  it('ends the slot when its chunk finds the job stopped', async () => {
    stagingStore({ [chunkKey(2, 4)]: STAGED });
    jobIs('CANCELLED');
    const { analyzer, counter } = countingAnalyzer();

    const turn = await runWorkerTurn(INPUT, { analyzer });

    expect(turn).toMatchObject({ next: null, stopped: true });
    expect(counter.calls).toBe(0);
    expect(ddbMock).not.toReceiveCommand(TransactWriteCommand);
  });

  it('ends the slot when the job stops during its chunk', async () => {
    stagingStore({ [chunkKey(2, 4)]: STAGED });
    // The job's counters update is refused: the job is no longer IN_PROGRESS.
    ddbMock.on(TransactWriteCommand).callsFake((input: TransactWriteCommandInput) => {
      throw new TransactionCanceledException({
        message: 'Transaction cancelled',
        $metadata: {},
        CancellationReasons: (input.TransactItems ?? []).map((item) =>
          item.Update?.TableName === JOBS_TABLE && item.Update.Key?.sk === 'JOB'
            ? { Code: 'ConditionalCheckFailed', Item: marshall({ status: 'PAUSED' }) }
            : { Code: 'None' },
        ),
      });
    });

    const turn = await runWorkerTurn(INPUT, { analyzer: countingAnalyzer().analyzer });

    expect(turn).toMatchObject({ next: null, stopped: true, created: 0 });
  });

  it('goes on to index + slots after a chunk it finds already done (a resumed run)', async () => {
    stagingStore({ [chunkKey(2, 4)]: STAGED });
    ddbMock.on(BatchGetCommand).resolves({
      Responses: {
        [JOBS_TABLE]: [
          { jobId: JOB, sk: 'JOB', status: 'IN_PROGRESS' },
          { jobId: JOB, sk: chunkSk('instagram', 'QVFIUmxyZA'), conversations: 2, failed: 0 },
        ],
      },
    });

    const turn = await runWorkerTurn(INPUT, { analyzer: countingAnalyzer().analyzer });

    expect(turn).toMatchObject({ next: 7, skippedChunk: 'done-by-this-job' });
  });
});
