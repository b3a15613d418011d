import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GraphApiError } from '#shared/graph/graph-api-error.ts';
import { GraphClient } from '#shared/graph/graph-client.ts';
import type { CallLimiter } from '#shared/graph/rate-limiter.ts';
import { type GraphSimulator, startGraphSimulator } from '../../../local/graph-sim/server.ts';
import { FAST, simPage } from './client-fixtures.ts';

const TOKEN = 'EAAG-get-conversation-token';
const PAGE = simPage(TOKEN, '200000000000007', 'Retry Page', [30, 10], 77);
const CONVERSATION_PATH = '/{conversation-id}';

/** A limiter that runs every call at once and records the budget each one drew from. */
function recordingLimiter() {
  const budgets: string[] = [];
  const limiter: CallLimiter = {
    run: (key, _signal, call) => {
      budgets.push(key);
      return call();
    },
  };
  return { budgets, limiter };
}

const conversation = (platform: 'messenger' | 'instagram', index: number) => {
  const found = PAGE.conversations[platform][index];
  if (!found) throw new Error(`no ${platform} conversation ${index}`);
  return found;
};

describe('GraphClient.getConversation against the Graph simulator', () => {
  let sim: GraphSimulator;
  let client: GraphClient;
  let budgets: string[];

  beforeAll(async () => {
    sim = await startGraphSimulator({ pages: [PAGE], rateLimitPerSecond: null });
    const recording = recordingLimiter();
    budgets = recording.budgets;
    client = new GraphClient(sim.baseUrl, { ...FAST, limiter: recording.limiter });
  });

  afterAll(() => sim.close());

  beforeEach(() => {
    sim.setFaults(null);
    sim.resetStats();
    budgets.length = 0;
  });

  it.each(['messenger', 'instagram'] as const)(
    'reads one %s conversation exactly as listConversations returns it, in one call',
    async (platform) => {
      const { items } = await client.listConversations({
        pageId: PAGE.id,
        platform,
        accessToken: TOKEN,
        after: null,
        limit: 50,
      });
      sim.resetStats();
      for (const item of items.slice(0, 5)) {
        expect(
          await client.getConversation({ conversationId: item.id, pageId: PAGE.id, accessToken: TOKEN }),
        ).toEqual(item);
      }
      expect(sim.stats().callsByPath).toEqual({ [CONVERSATION_PATH]: 5 });
      // The budget follows the platform, from the id when not given.
      expect(budgets.slice(-5)).toEqual(Array(5).fill(`${PAGE.id}#${platform}`));
    },
  );

  it('uses the platform it is given for the budget', async () => {
    const id = conversation('instagram', 0).id;
    await client.getConversation({
      conversationId: id,
      pageId: PAGE.id,
      platform: 'instagram',
      accessToken: TOKEN,
    });
    expect(budgets).toEqual([`${PAGE.id}#instagram`]);
  });

  it('sees a message added since the last read', async () => {
    const target = conversation('messenger', 20);
    const before = await client.getConversation({
      conversationId: target.id,
      pageId: PAGE.id,
      accessToken: TOKEN,
    });
    sim.addMessages({ pageId: PAGE.id, conversationIds: [target.id] });
    const after = await client.getConversation({
      conversationId: target.id,
      pageId: PAGE.id,
      accessToken: TOKEN,
    });
    expect(after.message_count).toBe((before.message_count ?? 0) + 1);
    expect(Date.parse(after.updated_time ?? '')).toBeGreaterThan(Date.parse(before.updated_time ?? ''));
    expect(after.messages?.data[0]?.from?.id).toBe(target.participants.data[0]?.id);
    expect(after.messages?.data.slice(1, 20)).toEqual(before.messages?.data.slice(0, 19));
  });

  it('retries retryable errors like the list calls, then gives up after maxAttempts', async () => {
    sim.setFaults({ rate: 1, codes: [80006] });
    const id = conversation('messenger', 1).id;
    const error = await client
      .getConversation({ conversationId: id, pageId: PAGE.id, accessToken: TOKEN })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphApiError);
    expect(error).toMatchObject({ code: 80006, kind: 'retryable' });
    expect(sim.stats().totalCalls).toBe(5);

    sim.setFaults({ rate: 0.5, codes: [2, 613], seed: 5 });
    sim.resetStats();
    const read = await client.getConversation({ conversationId: id, pageId: PAGE.id, accessToken: TOKEN });
    expect(read.id).toBe(id);
    expect(sim.stats().totalCalls).toBe(sim.stats().faultsInjected + 1);
  });

  it('fails at once on an unknown id or an expired token', async () => {
    const unknown = await client
      .getConversation({ conversationId: 't_999999999999999', pageId: PAGE.id, accessToken: TOKEN })
      .catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 100, subcode: 33, kind: 'invalid' });

    const expired = await client
      .getConversation({
        conversationId: conversation('messenger', 0).id,
        pageId: PAGE.id,
        accessToken: 'expired-token',
      })
      .catch((e: unknown) => e);
    expect(expired).toBeInstanceOf(GraphApiError);
    expect(expired).toMatchObject({ code: 190, subcode: 463, kind: 'token' });
    expect(sim.stats().totalCalls).toBe(2);
  });

  it('can be aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await expect(
      client.getConversation({
        conversationId: conversation('messenger', 0).id,
        pageId: PAGE.id,
        accessToken: TOKEN,
        signal: controller.signal,
      }),
    ).rejects.toThrow(/stopped|abort/i);
  });
});
