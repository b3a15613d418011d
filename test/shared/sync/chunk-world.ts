import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { serveAwsJson } from '../../../local/aws-json-server.ts';
import type { SimPage } from '../../../local/graph-sim/seed.ts';
import { type GraphSimulator, startGraphSimulator } from '../../../local/graph-sim/server.ts';
import { LocalKms } from '../../../local/kms.ts';
import type { AnalyzerMessage, ConversationAnalyzer } from '../../../shared/analyzer/analyzer.ts';
import { LocalAnalyzer } from '../../../shared/analyzer/local-analyzer.ts';
import { GraphClient } from '../../../shared/graph/graph-client.ts';
import type { ChunkInput } from '../../../shared/schemas.ts';
import { encryptPageToken } from '../../../shared/secrets/page-token-vault.ts';
import { ddb, tables } from '../../../shared/store/db.ts';

/**
 * The real parts a chunk worker talks to, for integration tests of processChunk: DynamoDB Local
 * (from the global setup), the Graph simulator serving `pages` without a rate limit, and the local
 * KMS endpoint the page tokens are encrypted and decrypted through.
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
        contactCount: 0,
        connectedAt: new Date().toISOString(),
      },
    }),
  );
  return page;
}

/** The page's first Messenger chunk, large enough for the whole small page. */
export const chunk = (jobId: string, pageId: string): ChunkInput => ({
  jobId,
  pageId,
  platform: 'messenger',
  after: null,
  limit: 100,
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
