import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveAwsJson } from '../../../local/aws-json-server.ts';
import { generatePage, type SimPage } from '../../../local/graph-sim/seed.ts';
import { type GraphSimulator, startGraphSimulator } from '../../../local/graph-sim/server.ts';
import { LocalKms } from '../../../local/kms.ts';
import type { AnalyzerMessage, ConversationAnalyzer } from '../../../shared/analyzer/analyzer.ts';
import { LocalAnalyzer } from '../../../shared/analyzer/local-analyzer.ts';
import { GraphClient } from '../../../shared/graph/graph-client.ts';
import type { ChunkInput } from '../../../shared/schemas.ts';
import { encryptPageToken } from '../../../shared/secrets/page-token-vault.ts';
import { ddb, tables } from '../../../shared/store/db.ts';
import { processChunk } from '../../../shared/sync/process-chunk.ts';
import { contactsOf, givenJob, readJob, readPage } from '../store/fixtures.ts';

/**
 * processChunk against real parts: DynamoDB Local, the Graph API simulator, and the local KMS
 * endpoint the tokens are decrypted through. Step Functions' part (running a chunk again after a
 * crash) is played by calling processChunk again, as its Retry would.
 */
const KEY = 'arn:aws:kms:us-east-1:000000000000:key/TestPageTokenKey';
let sim: GraphSimulator;
let kms: Awaited<ReturnType<typeof serveAwsJson>>;
let graph: GraphClient;
const simulated = (id: string, messenger: number) =>
  generatePage({ id, name: 'Chunk Page', accessToken: `token-${randomUUID()}`, messenger, instagram: 0 });
const crashPage = simulated('300000000000001', 30);
const rerunPage = simulated('300000000000002', 25);

beforeAll(async () => {
  kms = await serveAwsJson({ TrentService: new LocalKms([KEY]) }, 0);
  process.env.AWS_ENDPOINT_URL_KMS = kms.endpoint;
  process.env.PAGE_TOKEN_KEY_ID = KEY;
  sim = await startGraphSimulator({ pages: [crashPage, rerunPage], rateLimitPerSecond: null });
  graph = new GraphClient(sim.baseUrl, {
    callsPerSecondPerPage: 1000,
    maxAttempts: 2,
    backoffBaseMs: 1,
    maxWaitMs: 1,
  });
});
afterAll(async () => {
  await sim?.close();
  await kms?.close();
});

/** Connects a simulated page, its token encrypted as the connect route does. */
async function connect(page: SimPage): Promise<SimPage> {
  await ddb.send(
    new PutCommand({
      TableName: tables.pages,
      Item: {
        pageId: page.id,
        organizationId: 'org-test',
        pageName: page.name,
        accessTokenCiphertext: await encryptPageToken(page.id, page.accessToken),
        contactCount: 0,
        connectedAt: new Date().toISOString(),
      },
    }),
  );
  return page;
}

const chunk = (jobId: string, pageId: string): ChunkInput => ({
  jobId,
  pageId,
  platform: 'messenger',
  after: null,
  limit: 100,
});

/** Counts analyses; otherwise the deterministic local analyzer. */
function countingAnalyzer() {
  const local = new LocalAnalyzer();
  const counter = { calls: 0 };
  const analyzer: ConversationAnalyzer = {
    analyze: (messages: AnalyzerMessage[], signal?: AbortSignal) => {
      counter.calls++;
      return local.analyze(messages, signal);
    },
  };
  return { analyzer, counter };
}

/** Makes the shared DynamoDB client fail every transaction after the first `k`, like a worker dying. */
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
  it('counts every conversation exactly once when a chunk crashes after k writes and is run again', async () => {
    const page = await connect(crashPage);
    const jobId = await givenJob(page.id);
    const restore = crashAfterWrites(12);
    const { analyzer } = countingAnalyzer();
    try {
      await expect(processChunk(chunk(jobId, page.id), { analyzer, graph })).rejects.toThrow(
        'worker crashed',
      );
    } finally {
      restore();
    }
    const afterCrash = await readJob(jobId);
    expect(afterCrash.syncedContacts).toBeGreaterThanOrEqual(1);
    expect(afterCrash.syncedContacts).toBeLessThan(30);

    const retry = await processChunk(chunk(jobId, page.id), { analyzer, graph });

    expect(retry.alreadyCounted + retry.updated + retry.created).toBe(30);
    const job = await readJob(jobId);
    const contacts = await contactsOf(page.id);
    expect(job.syncedContacts).toBe(30);
    expect(contacts).toHaveLength(30);
    expect(contacts.every((c) => c.lastSyncJobId === jobId)).toBe(true);
    expect((await readPage(page.id)).contactCount).toBe(30);
  });

  it('makes zero analyzer calls when an unchanged page is synced again, and still counts every contact', async () => {
    const page = await connect(rerunPage);
    const first = countingAnalyzer();
    const firstJob = await givenJob(page.id);
    await processChunk(chunk(firstJob, page.id), { analyzer: first.analyzer, graph });
    expect(first.counter.calls).toBe(25);

    const second = countingAnalyzer();
    const secondJob = await givenJob(page.id);
    const result = await processChunk(chunk(secondJob, page.id), { analyzer: second.analyzer, graph });

    expect(second.counter.calls).toBe(0);
    expect(result).toMatchObject({ conversations: 25, updated: 25, created: 0, analysed: 0 });
    expect((await readJob(secondJob)).syncedContacts).toBe(25);
    const contacts = await contactsOf(page.id);
    expect(contacts.every((c) => c.lastSyncJobId === secondJob && c.aiContext.summary)).toBe(true);
    expect((await readPage(page.id)).contactCount).toBe(25);
  });
});
