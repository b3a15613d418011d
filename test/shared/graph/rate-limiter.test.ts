import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GraphClient } from '#shared/graph/graph-client.ts';
import { DynamoRateLimiter } from '#shared/graph/rate-limiter.ts';
import { generatePage } from '../../../local/graph-sim/demo-data/generate-page.ts';
import { type GraphSimulator, startGraphSimulator } from '../../../local/graph-sim/server.ts';
import { listIds } from './list-ids.ts';

/**
 * The cross-worker budget, against DynamoDB Local and the simulator's own count of calls per
 * second. The simulator enforces 10 calls/s here (not 2) only to keep the test short.
 */
const RATE = 10;
const WORKERS = 8;
const CALLS_PER_WORKER = 4;
const page = generatePage({
  id: '700000000000001',
  name: 'Busy Page',
  accessToken: 'busy-page-token',
  messenger: 120,
  instagram: 0,
});

let sim: GraphSimulator;
beforeAll(async () => {
  sim = await startGraphSimulator({ pages: [page], rateLimitPerSecond: RATE });
});
afterAll(() => sim.close());

/** 8 workers, each with its own client (as separate Lambdas would have), listing at once. */
async function runWorkers(clientFor: (worker: number) => GraphClient) {
  sim.resetStats();
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, worker) => {
      const client = clientFor(worker);
      for (let i = 0; i < CALLS_PER_WORKER; i++) {
        await listIds(client, {
          pageId: page.id,
          platform: 'messenger',
          accessToken: page.accessToken,
          after: null,
          limit: 5,
        });
      }
    }),
  );
  return sim.stats();
}

const options = { callsPerSecondPerPage: 1000, maxAttempts: 1, backoffBaseMs: 1, maxWaitMs: 1 };

describe('DynamoRateLimiter', () => {
  it('keeps 8 parallel workers within the per-Page budget, as the simulator measures it', async () => {
    const table = inject('tables').RATE_LIMIT_TABLE;
    const stats = await runWorkers(
      () =>
        new GraphClient(sim.baseUrl, {
          ...options,
          limiter: new DynamoRateLimiter(table, RATE),
        }),
    );

    expect(stats.totalCalls).toBe(WORKERS * CALLS_PER_WORKER);
    expect(stats.rateLimitRejections).toBe(0);
    expect(Math.max(...Object.values(stats.maxCallsInAnyOneSecondByPage))).toBeLessThanOrEqual(RATE);
  });

  it('is what keeps them within it: the same workers unlimited are throttled', async () => {
    const unlimited = {
      run: <T>(_key: string, _signal: AbortSignal | undefined, call: () => Promise<T>) => call(),
    };
    await expect(
      runWorkers(() => new GraphClient(sim.baseUrl, { ...options, limiter: unlimited })),
    ).rejects.toThrow(/Graph API error (80006|613)/);
    expect(sim.stats().rateLimitRejections).toBeGreaterThan(0);
  });
});
