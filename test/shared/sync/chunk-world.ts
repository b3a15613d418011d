import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AnalyzerMessage, ConversationAnalyzer } from '#shared/analyzer/analyzer.ts';
import { LocalAnalyzer } from '#shared/analyzer/local-analyzer.ts';
import { GraphClient } from '#shared/graph/graph-client.ts';
import type { Conversation } from '#shared/graph/graph-responses.ts';
import type { ChunkInput, Platform } from '#shared/schemas.ts';
import { encryptPageToken } from '#shared/secrets/page-token-vault.ts';
import { ddb, tables } from '#shared/store/db.ts';
import type { ChunkRef } from '#shared/sync/process-chunk.ts';
import { serveAwsJson } from '../../../local/aws-json-server.ts';
import type { SimPage } from '../../../local/graph-sim/demo-data.ts';
import { type GraphSimulator, startGraphSimulator } from '../../../local/graph-sim/server.ts';
import { LocalKms } from '../../../local/kms.ts';

/**
 * The real parts of a sync, for integration tests of processChunk and of the reader: DynamoDB Local
 * (from the global setup), the Graph simulator serving `pages` without a rate limit, and the local
 * KMS endpoint the page tokens are encrypted and decrypted through (by the reader; a chunk needs no
 * token).
 */
const KEY = 'arn:aws:kms:us-east-1:000000000000:key/TestPageTokenKey';

export async function startChunkWorld(pages: SimPage[]) {
  const kms = await serveAwsJson({ TrentService: new LocalKms([KEY]) }, 0);
  process.env.AWS_ENDPOINT_URL_KMS = kms.endpoint;
  process.env.PAGE_TOKEN_KEY_ID = KEY;
  const sim: GraphSimulator = await startGraphSimulator({ pages, rateLimitPerSecond: null });
  const graph = new GraphClient(sim.baseUrl, {
    callsPerSecondPerPage: 1000,
    maxAttempts: 2,
    backoffBaseMs: 1,
    maxWaitMs: 1,
  });
  return {
    sim,
    graph,
    close: async () => {
      await sim.close();
      await kms.close();
    },
  };
}

/** Connects a simulated page, its token encrypted as the connect route does. */
export async function connect(page: SimPage): Promise<SimPage> {
  await ddb.send(
    new PutCommand({
      TableName: tables.pages,
      Item: {
        pageId: page.id,
        organizationId: 'org-test',
        pageName: page.name,
        accessTokenCiphertext: await encryptPageToken(page.id, page.accessToken),
        ...(page.instagramAccountId ? { instagramAccountId: page.instagramAccountId } : {}),
        contactCount: 0,
        connectedAt: new Date().toISOString(),
      },
    }),
  );
  return page;
}

/**
 * A worker slot's turn (the Map iteration's input): chunk `index` of segment 0, in a Map of one
 * slot by default. The chunk is taken from the staging store.
 */
export const chunk = (
  jobId: string,
  pageId: string,
  at: Partial<Pick<ChunkInput, 'segment' | 'index' | 'slot' | 'slots'>> = {},
): ChunkInput => ({ jobId, pageId, segment: 0, index: 0, slot: 0, slots: 1, ...at });

export interface ListedChunk {
  ref: ChunkRef;
  conversations: Conversation[];
}

/**
 * A chunk as the reader stages it: one list page of `platform` read from the simulator with
 * GraphClient.listConversations (50 conversations with their messages), known by the cursor it was
 * read from. The page's first Messenger chunk by default, the whole of a small page.
 */
export async function listChunk(
  graph: GraphClient,
  jobId: string,
  page: SimPage,
  at: { platform?: Platform; after?: string | null } = {},
): Promise<ListedChunk> {
  const platform = at.platform ?? 'messenger';
  const after = at.after ?? null;
  const { items } = await graph.listConversations({
    pageId: page.id,
    platform,
    accessToken: page.accessToken,
    after,
    limit: 50,
  });
  return { ref: { jobId, pageId: page.id, platform, after }, conversations: items };
}

/** The same chunk for another job (a resumed run, a retry): the page the reader staged, not a new Graph call. */
export const forJob = (chunk: ListedChunk, jobId: string): ListedChunk => ({
  ref: { ...chunk.ref, jobId },
  conversations: chunk.conversations,
});

/** The local analyzer, counting its calls; `onCall(n)` runs before the n-th analysis. */
export function countingAnalyzer(onCall?: (n: number) => Promise<void>) {
  const local = new LocalAnalyzer();
  const counter = { calls: 0 };
  const analyzer: ConversationAnalyzer = {
    analyze: async (messages: AnalyzerMessage[], signal?: AbortSignal) => {
      counter.calls++;
      await onCall?.(counter.calls);
      return local.analyze(messages, signal);
    },
  };
  return { analyzer, counter };
}
