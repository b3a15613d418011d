import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphClient } from '#shared/graph/graph-client.ts';
import { ddb } from '#shared/store/db.ts';
import { processChunk } from '#shared/sync/process-chunk.ts';
import { generatePage } from '../../../local/graph-sim/demo-data.ts';
import { contactsOf, givenJob, readJob, readPage } from '../store/fixtures.ts';
import { connect, countingAnalyzer, listChunk, startChunkWorld } from './chunk-world.ts';

/**
 * processChunk against real parts: DynamoDB Local, and a chunk of the Graph API simulator's
 * conversations read as the reader stages it. Step Functions' part (running a chunk again after a
 * crash) is played by calling processChunk again, as its Retry would. A chunk makes no Graph call.
 */
let world: Awaited<ReturnType<typeof startChunkWorld>>;
let graph: GraphClient;
const graphCalls = (pageId: string) => world.sim.stats().callsByPage[pageId] ?? 0;
const simulated = (id: string, messenger: number) =>
  generatePage({ id, name: 'Chunk Page', accessToken: `token-${randomUUID()}`, messenger, instagram: 0 });
const crashPage = simulated('300000000000001', 30);
const rerunPage = simulated('300000000000002', 25);

beforeAll(async () => {
  // Each result commits as soon as it is ready (no batching wait): a crash after k commits then
  // lands in the middle of the chunk.
  process.env.COMMIT_MAX_AGE_MS = '0';
  world = await startChunkWorld([crashPage, rerunPage]);
  graph = world.graph;
});
afterAll(async () => {
  delete process.env.COMMIT_MAX_AGE_MS;
  await world?.close();
});

/** Makes the shared DynamoDB client fail every commit after the first `k`, like a worker dying. */
function crashAfterWrites(k: number): () => void {
  let writes = 0;
  const name = `crash-after-${k}-${randomUUID()}`;
  ddb.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'TransactWriteItemsCommand' && ++writes > k)
        throw new Error('worker crashed');
      return next(args);
    },
    { step: 'initialize', name },
  );
  return () => ddb.middlewareStack.remove(name);
}

describe('processChunk on real parts', () => {
  it('counts every conversation exactly once when a chunk crashes after k commits and is run again', async () => {
    const page = await connect(crashPage);
    const jobId = await givenJob(page.id);
    const { ref, conversations } = await listChunk(graph, jobId, page);
    expect(conversations).toHaveLength(30);
    const calls = graphCalls(page.id);
    const restore = crashAfterWrites(12);
    const { analyzer } = countingAnalyzer();
    try {
      await expect(processChunk(ref, conversations, { analyzer })).rejects.toThrow('worker crashed');
    } finally {
      restore();
    }
    const afterCrash = await readJob(jobId);
    expect(afterCrash.syncedContacts).toBeGreaterThanOrEqual(1);
    expect(afterCrash.syncedContacts).toBeLessThan(30);

    const retry = await processChunk(ref, conversations, { analyzer });

    expect(retry.alreadyCounted + retry.updated + retry.created).toBe(30);
    const job = await readJob(jobId);
    const contacts = await contactsOf(page.id);
    expect(job.syncedContacts).toBe(30);
    expect(contacts).toHaveLength(30);
    expect(contacts.every((c) => c.lastSyncJobId === jobId)).toBe(true);
    expect((await readPage(page.id)).contactCount).toBe(30);
    expect(graphCalls(page.id)).toBe(calls);
  });

  it('makes zero analyzer calls when an unchanged page is synced again, and still counts every contact', async () => {
    const page = await connect(rerunPage);
    const first = countingAnalyzer();
    const firstJob = await givenJob(page.id);
    const staged = await listChunk(graph, firstJob, page);
    await processChunk(staged.ref, staged.conversations, { analyzer: first.analyzer });
    expect(first.counter.calls).toBe(25);

    const second = countingAnalyzer();
    const secondJob = await givenJob(page.id);
    const again = await listChunk(graph, secondJob, page);
    const result = await processChunk(again.ref, again.conversations, { analyzer: second.analyzer });

    expect(second.counter.calls).toBe(0);
    expect(result).toMatchObject({ conversations: 25, updated: 25, created: 0, analysed: 0 });
    expect((await readJob(secondJob)).syncedContacts).toBe(25);
    const contacts = await contactsOf(page.id);
    expect(contacts.every((c) => c.lastSyncJobId === secondJob && c.aiContext.summary)).toBe(true);
    expect((await readPage(page.id)).contactCount).toBe(25);
  });
});
