import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GraphApiError } from '#shared/graph/graph-api-error.ts';
import { type ConversationPage, GraphClient, type ListRequest } from '#shared/graph/graph-client.ts';
import type { Conversation } from '#shared/graph/graph-responses.ts';
import type { Platform } from '#shared/schemas.ts';
import { conversationCustomer } from '../../../local/graph-sim/demo-data/conversation-basics.ts';
import { conversationMessages } from '../../../local/graph-sim/demo-data/messages.ts';
import { type GraphSimulator, startGraphSimulator } from '../../../local/graph-sim/server.ts';
import { FAST, simPage } from './client-fixtures.ts';
import { listIds } from './list-ids.ts';

const TOKEN = 'EAAG-test-page-token';
const PAGE = simPage(TOKEN, '200000000000001', 'Paging Page', [120, 30], 4242);
const CONVERSATIONS_PATH = '/{page-id}/conversations';

const request = (overrides: Partial<ListRequest> = {}): ListRequest => ({
  pageId: PAGE.id,
  platform: 'messenger',
  accessToken: TOKEN,
  after: null,
  limit: 50,
  ...overrides,
});

/** Follows the client's cursors to the end of the list, as the reader does. */
async function walk<T>(
  list: (req: ListRequest) => Promise<ConversationPage<T>>,
  base: Partial<ListRequest>,
): Promise<{ items: T[]; pages: ConversationPage<T>[] }> {
  const pages: ConversationPage<T>[] = [];
  let after: string | null = null;
  do {
    const page: ConversationPage<T> = await list(request({ ...base, after }));
    pages.push(page);
    after = page.after;
    if (pages.length > 200) throw new Error('paging never ended');
  } while (after);
  return { items: pages.flatMap((page) => page.items), pages };
}

const simConversations = (platform: Platform) => PAGE.conversations[platform];
const simTime = (graphTime: string) => new Date(graphTime.replace('+0000', 'Z')).toISOString();

interface Captured {
  url: string;
  headers: IncomingHttpHeaders;
}

/** A tiny Graph stand-in: answers the nth request (0-based) with `respond(n)` and records every request. */
async function scriptedGraph(respond: (n: number, url: string) => { status: number; body: unknown }) {
  const requests: Captured[] = [];
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    const reply = respond(requests.length, url);
    requests.push({ url, headers: req.headers });
    const payload = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'content-type': 'application/json' });
    res.end(payload);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl: `${origin}/v21.0`,
    origin,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const graphError = (code: number, status = 400) => ({
  status,
  body: { error: { message: `(#${code}) simulated`, type: 'OAuthException', code, fbtrace_id: 'AbCdEf' } },
});
const conversationList = (ids: string[], paging?: Record<string, unknown>) => ({
  status: 200,
  body: { data: ids.map((id) => ({ id })), ...(paging ? { paging } : {}) },
});

describe('GraphClient against the Graph simulator', () => {
  let sim: GraphSimulator;
  let client: GraphClient;

  beforeAll(async () => {
    sim = await startGraphSimulator({ pages: [PAGE], rateLimitPerSecond: null });
    client = new GraphClient(sim.baseUrl, FAST);
  });

  afterAll(async () => {
    await sim.close();
  });

  beforeEach(() => {
    sim.setFaults(null);
    sim.resetStats();
  });

  it.each([
    [50, 3],
    [40, 3],
    [7, 18],
    // Graph returns at most 50 with messages expanded, whatever the limit asks.
    [100, 3],
  ])(
    'lists every conversation once at limit %i, in %i calls, ending when paging.next is absent',
    async (limit, calls) => {
      const { items, pages } = await walk((req) => listIds(client, req), { limit });

      expect(items).toEqual(simConversations('messenger').map((c) => c.id));
      expect(new Set(items).size).toBe(120);
      expect(pages).toHaveLength(calls);
      expect(pages.slice(0, -1).every((page) => page.after !== null)).toBe(true);
      expect(sim.stats().callsByPath[CONVERSATIONS_PATH]).toBe(calls);
      expect(sim.stats().totalCalls).toBe(calls);
    },
  );

  it('brings participants and the 20 most recent messages with each conversation, one call per page', async () => {
    expect(simConversations('messenger').some((c) => c.message_count > 20)).toBe(true);

    const { items } = await walk((req) => client.listConversations(req), { limit: 50 });

    expect(sim.stats().totalCalls).toBe(3);
    expect(sim.stats().callsByPath).toEqual({ [CONVERSATIONS_PATH]: 3 });
    expect(items).toHaveLength(120);
    items.forEach((conversation, i) => {
      const simConversation = simConversations('messenger')[i];
      if (!simConversation) throw new Error(`no simulated conversation ${i}`);
      expect(conversation.id).toBe(simConversation.id);
      expect(conversation.message_count).toBe(simConversation.message_count);
      expect(conversation.participants?.data.map((p) => p.id)).toContain(
        conversationCustomer(simConversation).id,
      );
      expect(conversation.messages?.data.map((m) => m.id)).toEqual(
        conversationMessages(simConversation)
          .slice(0, 20)
          .map((m) => m.id),
      );
    });
  });

  it('reads Instagram participants by username', async () => {
    const { items } = await walk((req) => client.listConversations(req), {
      platform: 'instagram',
      limit: 50,
    });

    expect(items).toHaveLength(30);
    const participants = items.flatMap((c) => c.participants?.data ?? []);
    expect(participants).toHaveLength(60);
    for (const participant of participants) {
      expect(participant.username).toEqual(expect.any(String));
      expect(participant.name ?? undefined).toBeUndefined();
      expect(participant.email ?? undefined).toBeUndefined();
    }
    expect(items.map((c) => c.participants?.data[0]?.username)).toEqual(
      simConversations('instagram').map((c) => conversationCustomer(c).username),
    );
  });

  it('turns +0000 timestamps into ISO strings', async () => {
    const { items } = await client.listConversations(request({ limit: 10 }));

    items.forEach((conversation: Conversation, i) => {
      const simConversation = simConversations('messenger')[i];
      if (!simConversation) throw new Error(`no simulated conversation ${i}`);
      expect(conversation.updated_time).toBe(simTime(simConversation.updated_time));
      const simMessages = conversationMessages(simConversation);
      conversation.messages?.data.forEach((message, j) => {
        expect(message.created_time).toBe(simTime(simMessages[j]?.created_time ?? ''));
      });
    });
  });

  it('gives up on a retryable error after maxAttempts calls', async () => {
    sim.setFaults({ rate: 1, codes: [613] });

    const error = await listIds(client, request()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(GraphApiError);
    expect(error).toMatchObject({ code: 613, kind: 'retryable' });
    expect(sim.stats().faultsInjected).toBe(5);
    expect(sim.stats().totalCalls).toBe(5);
  });

  it('retries through intermittent faults and still lists everything exactly once', async () => {
    sim.setFaults({ rate: 0.3, codes: [1, 2, 4, 17, 32, 341, 613, 80006, 500], seed: 3 });

    const { items } = await walk((req) => listIds(client, req), { limit: 10 });

    expect(items).toEqual(simConversations('messenger').map((c) => c.id));
    const { faultsInjected, totalCalls } = sim.stats();
    expect(faultsInjected).toBeGreaterThan(0);
    expect(totalCalls).toBe(12 + faultsInjected);
  });

  it.each([
    [190, 'token'],
    [10, 'permission'],
    [200, 'permission'],
    [368, 'blocked'],
  ])('does not retry error %i (%s)', async (code, kind) => {
    sim.setFaults({ rate: 1, codes: [code] });

    const error = await client.listConversations(request()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(GraphApiError);
    expect(error).toMatchObject({ code, kind });
    expect(sim.stats().totalCalls).toBe(1);
  });

  it('does not retry an expired token and tells the user to reconnect the page', async () => {
    const error = await listIds(client, request({ accessToken: 'expired-token' })).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(GraphApiError);
    if (!(error instanceof GraphApiError)) return;
    expect(error).toMatchObject({ code: 190, subcode: 463, kind: 'token' });
    expect(error.userMessage()).toMatch(/reconnect the page/);
    expect(sim.stats().totalCalls).toBe(1);
  });
});

describe('GraphClient rate limiting against the simulator', () => {
  let sim: GraphSimulator;

  beforeAll(async () => {
    sim = await startGraphSimulator({ pages: [PAGE], rateLimitPerSecond: 2 });
  });

  afterAll(async () => {
    await sim.close();
  });

  beforeEach(() => {
    sim.resetStats();
  });

  it('spaces sequential calls so the 2 calls/s Page limit never rejects one', async () => {
    const client = new GraphClient(sim.baseUrl, { ...FAST, callsPerSecondPerPage: 2 });

    const { pages } = await walk((req) => listIds(client, req), { limit: 20 });

    expect(pages).toHaveLength(6);
    expect(sim.stats().rateLimitRejections).toBe(0);
    expect(sim.stats().totalCalls).toBe(6);
  });

  it('spaces concurrent callers of one client on the same Page', async () => {
    const client = new GraphClient(sim.baseUrl, { ...FAST, callsPerSecondPerPage: 2 });

    await Promise.all(Array.from({ length: 4 }, () => listIds(client, request({ limit: 5 }))));

    expect(sim.stats().rateLimitRejections).toBe(0);
    expect(sim.stats().totalCalls).toBe(4);
  });

  it('is needed: an unthrottled burst is rejected by the simulator (control)', async () => {
    const client = new GraphClient(sim.baseUrl, { ...FAST, maxAttempts: 1 });

    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => listIds(client, request({ limit: 5 }))),
    );

    expect(sim.stats().rateLimitRejections).toBeGreaterThanOrEqual(4);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected.length).toBe(sim.stats().rateLimitRejections);
    expect(rejected[0]?.reason).toMatchObject({ code: 80006, kind: 'retryable' });
  });
});

describe('GraphClient against a scripted Graph', () => {
  let graph: Awaited<ReturnType<typeof scriptedGraph>> | undefined;

  afterEach(async () => {
    await graph?.close();
    graph = undefined;
  });

  it('sends the token as a Bearer header and never in the URL', async () => {
    graph = await scriptedGraph((n) => (n === 0 ? graphError(2) : conversationList(['t_1'])));
    const client = new GraphClient(graph.baseUrl, FAST);

    await client.listConversations(request());

    expect(graph.requests).toHaveLength(2);
    for (const captured of graph.requests) {
      expect(captured.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(captured.url).not.toContain(TOKEN);
      expect(captured.url).not.toContain('access_token');
    }
    const url = new URL(graph.requests[0]?.url ?? '', graph.origin);
    expect(url.pathname).toBe(`/v21.0/${PAGE.id}/conversations`);
    expect(url.searchParams.get('platform')).toBe('messenger');
    expect(url.searchParams.get('limit')).toBe('50');
    expect(url.searchParams.get('fields')).toMatch(/participants.*messages\.limit\(20\)/);
  });

  it.each([
    ['a temporary error (2)', graphError(2)],
    ['a Page rate limit (80006)', graphError(80006)],
    ['an app rate limit (4)', graphError(4)],
    ['an HTTP 500 without a JSON body', { status: 500, body: '<html>Bad gateway</html>' }],
  ])('retries %s twice and then succeeds', async (_case, failure) => {
    graph = await scriptedGraph((n) => (n < 2 ? failure : conversationList(['t_1', 't_2'])));
    const client = new GraphClient(graph.baseUrl, FAST);

    const page = await listIds(client, request());

    expect(page).toEqual({ items: ['t_1', 't_2'], after: null });
    expect(graph.requests).toHaveLength(3);
  });

  it('does not retry an invalid parameter (100)', async () => {
    graph = await scriptedGraph(() => graphError(100));
    const client = new GraphClient(graph.baseUrl, FAST);

    await expect(listIds(client, request())).rejects.toMatchObject({ code: 100, kind: 'invalid' });
    expect(graph.requests).toHaveLength(1);
  });

  it('keeps paging through short and empty pages, and pages that carry only next or only cursors', async () => {
    const next = (after: string) =>
      `https://graph.facebook.com/v21.0/${PAGE.id}/conversations?limit=3&after=${after}`;
    const script = [
      // A short page (privacy filtering) is not the end.
      conversationList(['t_1'], { cursors: { before: 'B0', after: 'A1' }, next: next('A1') }),
      // An empty page with next is not the end either; this one has no cursors at all.
      conversationList([], { next: next('A2') }),
      // Only cursors.after and next.
      conversationList(['t_2', 't_3'], { cursors: { after: 'A3' }, next: next('A3') }),
      // Only cursors, no next: the end.
      conversationList(['t_4'], { cursors: { before: 'B4', after: 'A4' } }),
    ];
    graph = await scriptedGraph((n) => script[n] ?? graphError(100));
    const client = new GraphClient(graph.baseUrl, FAST);

    const { items, pages } = await walk((req) => listIds(client, req), { limit: 3 });

    expect(items).toEqual(['t_1', 't_2', 't_3', 't_4']);
    expect(pages.map((page) => page.after)).toEqual(['A1', 'A2', 'A3', null]);
    expect(graph.requests).toHaveLength(4);
    const afters = graph.requests.map((r) => new URL(r.url, graph?.origin).searchParams.get('after'));
    expect(afters).toEqual([null, 'A1', 'A2', 'A3']);
  });

  it('stops retrying when the signal aborts', async () => {
    const controller = new AbortController();
    const reason = new Error('job cancelled');
    graph = await scriptedGraph(() => {
      setImmediate(() => controller.abort(reason));
      return graphError(613);
    });
    const client = new GraphClient(graph.baseUrl, { ...FAST, backoffBaseMs: 60_000, maxWaitMs: 60_000 });

    await expect(listIds(client, request({ signal: controller.signal }))).rejects.toBe(reason);
    expect(graph.requests).toHaveLength(1);
  });
});
