import { randomUUID } from 'node:crypto';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobNotRunningError } from '#shared/domain-errors.ts';
import type { GraphClient } from '#shared/graph/graph-client.ts';
import { commitBatch } from '#shared/store/contact-commit.ts';
import { ddb, tables } from '#shared/store/db.ts';
import { transitionJob } from '#shared/store/job-repository.ts';
import { JOB_SK } from '#shared/store/table-keys.ts';
import { processChunk } from '#shared/sync/process-chunk.ts';
import { generatePage } from '../../../local/graph-sim/demo-data.ts';
import { contactsOf, givenJob, readJob, readPage } from '../store/fixtures.ts';
import { connect, countingAnalyzer, forJob, listChunk, startChunkWorld } from './chunk-world.ts';

/**
 * The pause/resume and retry checkpoint on real parts (DynamoDB Local, chunks of the Graph
 * simulator's conversations as the reader stages them): a chunk stopped by a pause writes no marker
 * and is finished by the resumed job without analysing again what it wrote; a finished chunk is
 * skipped without an analysis; a retry skips what the job it retries wrote, and counts only its own
 * writes. No chunk makes a Graph call: the reader made them.
 */
const SIZE = 20;
let world: Awaited<ReturnType<typeof startChunkWorld>>;
let graph: GraphClient;
const simulated = (id: string) =>
  generatePage({
    id,
    name: 'Checkpoint Page',
    accessToken: `token-${randomUUID()}`,
    messenger: SIZE,
    instagram: 0,
  });
const PAGES = {
  paused: simulated('310000000000001'),
  done: simulated('310000000000002'),
  retried: simulated('310000000000003'),
  retriedDone: simulated('310000000000004'),
};

const savedConcurrency = process.env.CONVERSATION_CONCURRENCY;
beforeAll(async () => {
  // Each result commits as soon as it is ready (no batching wait): a pause at the n-th analysis
  // then lands after some commits, which is what these tests are about.
  process.env.COMMIT_MAX_AGE_MS = '0';
  // Two conversations at a time: a pause at the n-th analysis lands after some writes.
  process.env.CONVERSATION_CONCURRENCY = '2';
  world = await startChunkWorld(Object.values(PAGES));
  graph = world.graph;
});
afterAll(async () => {
  if (savedConcurrency === undefined) delete process.env.CONVERSATION_CONCURRENCY;
  else process.env.CONVERSATION_CONCURRENCY = savedConcurrency;
  delete process.env.COMMIT_MAX_AGE_MS;
  await world?.close();
});

const graphCalls = (pageId: string) => world.sim.stats().callsByPage[pageId] ?? 0;
const markersOf = async (jobId: string) =>
  (
    await ddb.send(
      new QueryCommand({
        TableName: tables.jobs,
        KeyConditionExpression: 'jobId = :j AND begins_with(sk, :c)',
        ExpressionAttributeValues: { ':j': jobId, ':c': 'CHUNK#' },
        ConsistentRead: true,
      }),
    )
  ).Items ?? [];

const pause = (jobId: string) =>
  transitionJob(jobId, { from: ['IN_PROGRESS'], to: 'PAUSED', phase: 'paused' });
const resume = (jobId: string) =>
  transitionJob(jobId, { from: ['PAUSED'], to: 'IN_PROGRESS', phase: 'resuming' });

describe('the pause/resume checkpoint', () => {
  it('a chunk stopped by a pause writes no marker; the resumed chunk analyses only what was not written', async () => {
    const page = await connect(PAGES.paused);
    const jobId = await givenJob(page.id);
    const { ref, conversations } = await listChunk(graph, jobId, page);
    const calls = graphCalls(page.id);
    // The pause commits while the 8th conversation is being analysed.
    const first = countingAnalyzer(async (n) => {
      if (n === 8) await pause(jobId);
    });

    const stopped = await processChunk(ref, conversations, { analyzer: first.analyzer });

    expect(stopped.stopped).toBe(true);
    expect(await markersOf(jobId)).toEqual([]);
    const atPause = await readJob(jobId);
    expect(atPause.syncedContacts).toBeGreaterThan(0);
    expect(atPause.syncedContacts).toBeLessThan(SIZE);
    expect((await contactsOf(page.id)).length).toBe(atPause.syncedContacts);

    await resume(jobId);
    const second = countingAnalyzer();
    const resumed = await processChunk(ref, conversations, { analyzer: second.analyzer });

    expect(second.counter.calls).toBe(SIZE - atPause.syncedContacts);
    expect(resumed).toMatchObject({ stopped: false, alreadyCounted: atPause.syncedContacts });
    const job = await readJob(jobId);
    expect(job.syncedContacts).toBe(SIZE);
    expect((await readPage(page.id)).contactCount).toBe(SIZE);
    expect(await markersOf(jobId)).toEqual([expect.objectContaining({ conversations: SIZE, failed: 0 })]);
    expect(graphCalls(page.id)).toBe(calls);
  });

  it('skips a chunk the job finished without a Graph call or an analysis', async () => {
    const page = await connect(PAGES.done);
    const jobId = await givenJob(page.id);
    const { ref, conversations } = await listChunk(graph, jobId, page);
    const calls = graphCalls(page.id);
    await processChunk(ref, conversations, { analyzer: countingAnalyzer().analyzer });
    const again = countingAnalyzer();

    const result = await processChunk(ref, conversations, { analyzer: again.analyzer });

    expect(result).toMatchObject({ skippedChunk: 'done-by-this-job', conversations: 0, stopped: false });
    expect(graphCalls(page.id)).toBe(calls);
    expect(again.counter.calls).toBe(0);
    expect((await readJob(jobId)).syncedContacts).toBe(SIZE);
  });

  it('does not start a chunk of a paused job, and writes no marker for it', async () => {
    const page = await connect(PAGES.done);
    const jobId = await givenJob(page.id, 'PAUSED');
    const { ref, conversations } = await listChunk(graph, jobId, page);
    const calls = graphCalls(page.id);
    const analysis = countingAnalyzer();

    const result = await processChunk(ref, conversations, { analyzer: analysis.analyzer });

    expect(result).toMatchObject({ stopped: true, conversations: 0 });
    expect(analysis.counter.calls).toBe(0);
    expect(graphCalls(page.id)).toBe(calls);
    // Nor could it: the marker commits only with the job IN_PROGRESS.
    await expect(
      commitBatch(jobId, [
        { kind: 'chunk-done', platform: 'messenger', after: null, conversations: 1, failed: 0 },
      ]),
    ).rejects.toBeInstanceOf(JobNotRunningError);
    expect(await markersOf(jobId)).toEqual([]);
  });
});

describe('the retry checkpoint', () => {
  /** A job of `page` with `resumedFrom`, as retry-sync creates it. */
  async function retryJobOf(pageId: string, resumedFrom: string) {
    const jobId = await givenJob(pageId);
    await ddb.send(
      new PutCommand({
        TableName: tables.jobs,
        Item: { ...(await readJob(jobId)), sk: JOB_SK, resumedFrom },
      }),
    );
    return jobId;
  }

  it('skips the conversations the cancelled job wrote, and counts only its own writes', async () => {
    const page = await connect(PAGES.retried);
    const old = await givenJob(page.id);
    const staged = await listChunk(graph, old, page);
    const calls = graphCalls(page.id);
    const first = countingAnalyzer(async (n) => {
      if (n === 6) await transitionJob(old, { from: ['IN_PROGRESS'], to: 'CANCELLED', phase: 'cancelled' });
    });
    await processChunk(staged.ref, staged.conversations, { analyzer: first.analyzer });
    const written = (await readJob(old)).syncedContacts;
    expect(written).toBeGreaterThan(0);

    const retry = await retryJobOf(page.id, old);
    const second = countingAnalyzer();
    const again = forJob(staged, retry);
    const result = await processChunk(again.ref, again.conversations, { analyzer: second.analyzer });

    expect(second.counter.calls).toBe(SIZE - written);
    expect(result).toMatchObject({ created: SIZE - written, alreadyCounted: written });
    expect((await readJob(retry)).syncedContacts).toBe(SIZE - written);
    expect((await readJob(old)).syncedContacts).toBe(written);
    const contacts = await contactsOf(page.id);
    expect(contacts).toHaveLength(SIZE);
    expect(contacts.filter((c) => c.lastSyncJobId === old)).toHaveLength(written);
    expect((await readPage(page.id)).contactCount).toBe(SIZE);
    expect(graphCalls(page.id)).toBe(calls);
  });

  it('skips a chunk the retried job finished without a failure, without a Graph call or an analysis', async () => {
    const page = await connect(PAGES.retriedDone);
    const old = await givenJob(page.id);
    const staged = await listChunk(graph, old, page);
    const calls = graphCalls(page.id);
    await processChunk(staged.ref, staged.conversations, { analyzer: countingAnalyzer().analyzer });
    await transitionJob(old, { from: ['IN_PROGRESS'], to: 'FAILED', phase: 'failed' });

    const retry = await retryJobOf(page.id, old);
    const again = forJob(staged, retry);
    const analysis = countingAnalyzer();
    const result = await processChunk(again.ref, again.conversations, { analyzer: analysis.analyzer });

    expect(result).toMatchObject({ skippedChunk: 'done-by-retried-job', conversations: 0 });
    expect(analysis.counter.calls).toBe(0);
    expect(graphCalls(page.id)).toBe(calls);
    expect((await readJob(retry)).syncedContacts).toBe(0);
  });
});
