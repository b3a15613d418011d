import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONVERSATION_FIELDS } from '#shared/graph/graph-client.ts';
import { demoPage, generatePage } from '../../local/graph-sim/demo-data/generate-page.ts';
import { conversationMessages } from '../../local/graph-sim/demo-data/messages.ts';
import type { SimPage } from '../../local/graph-sim/demo-data/sim-types.ts';
import { parseFields } from '../../local/graph-sim/fields.ts';
import { type GraphSimulator, startGraphSimulator } from '../../local/graph-sim/server.ts';

const TOKEN = 'demo-page-token';
const GRAPH_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$/;
const EXPANSION =
  'id,updated_time,message_count,participants,messages.limit(20){id,created_time,from,to,message,attachments,sticker}';

interface Participant {
  id: string;
  name?: string;
  email?: string;
  username?: string;
}
interface Message {
  id: string;
  created_time: string;
  from?: Participant;
  to?: { data: Participant[] };
  message?: string;
  attachments?: { data: { id: string; image_data?: { url: string } }[] };
  sticker?: string;
  is_unsupported?: boolean;
}
interface Paging {
  cursors?: { before?: string; after?: string };
  next?: string;
  previous?: string;
}
interface Conversation {
  id: string;
  updated_time?: string;
  message_count?: number;
  participants?: { data: Participant[] };
  messages?: { data: Message[]; paging?: Paging };
}
interface ListBody<T> {
  data: T[];
  paging?: Paging;
}
interface ErrorBody {
  error: { message: string; type: string; code: number; error_subcode?: number; fbtrace_id: string };
}
interface Reply<T> {
  status: number;
  body: T;
  headers: Headers;
}

async function get<T>(url: string, token: string | null = TOKEN): Promise<Reply<T>> {
  const response = await fetch(url, { headers: token === null ? {} : { Authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}

/** Follows `paging.next` until it is absent; returns every item and how many pages it took. */
async function pageThrough<T>(firstUrl: string, token: string | null = TOKEN) {
  const items: T[] = [];
  const pages: ListBody<T>[] = [];
  let url: string | undefined = firstUrl;
  while (url) {
    const reply: Reply<ListBody<T>> = await get<ListBody<T>>(url, token);
    expect(reply.status).toBe(200);
    pages.push(reply.body);
    items.push(...reply.body.data);
    url = reply.body.paging?.next;
    if (pages.length > 50) throw new Error('paging never ended');
  }
  return { items, pages };
}

const isDescending = (times: string[]) =>
  times.every(
    (t, i) =>
      i === 0 ||
      Date.parse(t.replace('+0000', 'Z')) <= Date.parse((times[i - 1] ?? '').replace('+0000', 'Z')),
  );

describe('demo data', () => {
  it('builds the demo page with 347 Messenger and 150 Instagram conversations, newest first', () => {
    const page = demoPage();
    expect(page).toMatchObject({
      id: '104729384756192',
      name: 'My Business Page',
      accessToken: 'demo-page-token',
      instagramAccountId: '17841400000000001',
    });
    expect(page.conversations.messenger).toHaveLength(347);
    expect(page.conversations.instagram).toHaveLength(150);
    for (const list of [page.conversations.messenger, page.conversations.instagram]) {
      expect(isDescending(list.map((c) => c.updated_time))).toBe(true);
      expect(new Set(list.map((c) => c.participants.data[0]?.id)).size).toBe(list.length);
      for (const c of list) {
        expect(c.message_count).toBeGreaterThanOrEqual(1);
        expect(c.message_count).toBeLessThanOrEqual(40);
        expect(c.updated_time).toMatch(GRAPH_TIME);
        expect(Date.parse(c.updated_time.replace('+0000', 'Z'))).toBeLessThan(Date.UTC(2026, 10, 1));
        expect(Date.parse(c.updated_time.replace('+0000', 'Z'))).toBeGreaterThan(Date.UTC(2025, 9, 31));
      }
    }
    expect(page.conversations.messenger.every((c) => /^t_\d+$/.test(c.id))).toBe(true);
    expect(page.conversations.instagram.every((c) => /^[A-Za-z0-9_-]{40,}$/.test(c.id))).toBe(true);
    // Some threads are longer than the 20 messages Graph shows in detail.
    expect(page.conversations.messenger.some((c) => c.message_count > 20)).toBe(true);
  });

  it('is deterministic and generates messages lazily from the seed', () => {
    const opts = { id: '555', name: 'Shop', accessToken: 't', messenger: 60, instagram: 40, seed: 7 };
    const a = generatePage(opts);
    const b = generatePage(opts);
    expect(a).toEqual(b);
    const c0 = a.conversations.messenger[0];
    const c1 = b.conversations.messenger[0];
    if (!c0 || !c1) throw new Error('missing conversation');
    expect(conversationMessages(c0)).toEqual(conversationMessages(c1));
    expect(generatePage({ ...opts, seed: 8 })).not.toEqual(a);
    expect(demoPage()).toEqual(demoPage());
  });

  it('writes plausible chat with attachments, stickers and empty texts', () => {
    const page = demoPage();
    const messages = page.conversations.messenger.flatMap((c) => conversationMessages(c));
    const texts = messages.map((m) => m.message);
    expect(texts.some((t) => /price|cost|how much/i.test(t))).toBe(true);
    expect(texts.some((t) => /order #\d+/i.test(t))).toBe(true);
    expect(texts.some((t) => /book|reserve|appointment/i.test(t))).toBe(true);
    expect(texts.some((t) => /damaged|refund|disappointed|unacceptable/i.test(t))).toBe(true);
    expect(texts).toContain('');
    expect(messages.some((m) => m.attachments?.data[0]?.image_data?.url.startsWith('https://'))).toBe(true);
    expect(messages.some((m) => typeof m.sticker === 'string')).toBe(true);
    expect(messages.some((m) => m.is_unsupported === false)).toBe(true);
    for (const c of page.conversations.messenger.slice(0, 50)) {
      const list = conversationMessages(c);
      expect(list).toHaveLength(c.message_count);
      expect(list[0]?.created_time).toBe(c.updated_time);
      expect(isDescending(list.map((m) => m.created_time))).toBe(true);
      expect(new Set(list.map((m) => m.id)).size).toBe(list.length);
      expect(list.every((m) => m.id.startsWith('m_'))).toBe(true);
    }
  });

  it('generates 100,000 conversations with unique ids', () => {
    const page = generatePage({ id: '9', name: 'Big', accessToken: 'big', messenger: 100_000, instagram: 0 });
    expect(page.conversations.messenger).toHaveLength(100_000);
    expect(new Set(page.conversations.messenger.map((c) => c.id)).size).toBe(100_000);
    expect(new Set(page.conversations.messenger.map((c) => c.participants.data[0]?.id)).size).toBe(100_000);
  });

  it('parses nested fields with modifiers', () => {
    expect(parseFields('id,messages.limit(5){id,from{id}},participants')).toEqual([
      { name: 'id', modifiers: {} },
      {
        name: 'messages',
        modifiers: { limit: '5' },
        children: [
          { name: 'id', modifiers: {} },
          { name: 'from', modifiers: {}, children: [{ name: 'id', modifiers: {} }] },
        ],
      },
      { name: 'participants', modifiers: {} },
    ]);
    expect(() => parseFields('id,messages{id')).toThrow(/Syntax error/);
  });
});

/**
 * The demo page on a simulator without a rate limit, for the tests of one describe: started before
 * them, closed after; `conversations` is the URL of the page's conversation list.
 */
function unlimitedDemo(): { page: SimPage; sim: GraphSimulator; conversations: string } {
  const demo = { page: demoPage() } as { page: SimPage; sim: GraphSimulator; conversations: string };
  beforeAll(async () => {
    demo.sim = await startGraphSimulator({ pages: [demo.page], rateLimitPerSecond: null });
    demo.conversations = `${demo.sim.baseUrl}/${demo.page.id}/conversations`;
  });
  afterAll(() => demo.sim.close());
  return demo;
}

describe('graph simulator', () => {
  const demo = unlimitedDemo();
  const { page } = demo;

  it('pages through all 347 Messenger conversations, ending only when paging.next is absent', async () => {
    expect(demo.sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(demo.sim.baseUrl).toBe(`${demo.sim.url}/v21.0`);
    const { items, pages } = await pageThrough<Conversation>(
      `${demo.conversations}?platform=messenger&limit=100`,
    );
    expect(items).toHaveLength(347);
    expect(new Set(items.map((c) => c.id)).size).toBe(347);
    expect(items.map((c) => c.id)).toEqual(page.conversations.messenger.map((c) => c.id));
    expect(pages.map((p) => p.data.length)).toEqual([100, 100, 100, 47]);
    expect(pages.slice(0, -1).every((p) => typeof p.paging?.next === 'string')).toBe(true);
    expect(pages.at(-1)?.paging?.next).toBeUndefined();
    expect(pages[1]?.paging?.previous).toMatch(/before=/);
    expect(pages[0]?.paging?.next).toMatch(
      new RegExp(`^${demo.sim.url}/v21\\.0/${page.id}/conversations\\?`),
    );
    // Without `fields`, only id and updated_time, newest first.
    for (const c of items) {
      expect(Object.keys(c).sort()).toEqual(['id', 'updated_time']);
      expect(c.updated_time).toMatch(GRAPH_TIME);
    }
    expect(isDescending(items.map((c) => c.updated_time ?? ''))).toBe(true);
  });

  it('defaults to 25 conversations and clamps the limit to 100', async () => {
    const small = await get<ListBody<Conversation>>(demo.conversations);
    expect(small.body.data).toHaveLength(25);
    const big = await get<ListBody<Conversation>>(`${demo.conversations}?limit=500`);
    expect(big.body.data).toHaveLength(100);
  });

  it('lists 150 Instagram conversations whose participants carry usernames and no email', async () => {
    const { items } = await pageThrough<Conversation>(
      `${demo.conversations}?platform=instagram&fields=id,participants&limit=40&access_token=${TOKEN}`,
      null,
    );
    expect(items).toHaveLength(150);
    expect(new Set(items.map((c) => c.id)).size).toBe(150);
    const customers = new Set<string>();
    for (const c of items) {
      const entries = c.participants?.data ?? [];
      expect(entries).toHaveLength(2);
      for (const p of entries) {
        expect(typeof p.username).toBe('string');
        expect(p.email).toBeUndefined();
        expect(p.name).toBeUndefined();
      }
      expect(entries[1]).toEqual({ id: '17841400000000001', username: 'mybusiness' });
      customers.add(entries[0]?.id ?? '');
    }
    expect(customers.size).toBe(150);
  });

  it('expands participants and at most 20 messages, newest first, in one call of at most 50', async () => {
    demo.sim.resetStats();
    const reply = await get<ListBody<Conversation>>(
      `${demo.conversations}?fields=${encodeURIComponent(EXPANSION)}&limit=100`,
    );
    expect(reply.status).toBe(200);
    expect(demo.sim.stats().totalCalls).toBe(1);
    // With messages expanded, a list call returns at most 50 conversations whatever the limit asked.
    expect(reply.body.data).toHaveLength(50);
    expect(reply.body.paging?.next).toMatch(/[?&]limit=50(&|$)/);
    let sawLong = false;
    for (const c of reply.body.data) {
      const count = c.message_count ?? 0;
      const [customer, owner] = c.participants?.data ?? [];
      expect(customer?.email).toBe(`${customer?.id}@facebook.com`);
      expect(typeof customer?.name).toBe('string');
      expect(owner).toEqual({ id: page.id, name: 'My Business Page' });
      const messages = c.messages?.data ?? [];
      expect(messages).toHaveLength(Math.min(count, 20));
      expect(messages[0]?.created_time).toBe(c.updated_time);
      expect(isDescending(messages.map((m) => m.created_time))).toBe(true);
      for (const m of messages) {
        expect(m.created_time).toMatch(GRAPH_TIME);
        expect(typeof m.message).toBe('string');
        expect([customer?.id, owner?.id]).toContain(m.from?.id);
        expect(m.to?.data[0]?.id).not.toBe(m.from?.id);
      }
      if (count > 20) {
        sawLong = true;
        expect(c.messages?.paging?.next).toMatch(new RegExp(`/v21\\.0/${c.id}/messages\\?`));
      } else {
        expect(c.messages?.paging?.next).toBeUndefined();
      }
    }
    expect(sawLong).toBe(true);
  });

  it('honours messages.limit(n) and never returns more than 20 messages', async () => {
    const long = page.conversations.messenger.find((c) => c.message_count > 25);
    if (!long) throw new Error('no long conversation in the demo page');
    const five = await get<Conversation>(
      `${demo.sim.baseUrl}/${long.id}?fields=messages.limit(5){id,message}`,
    );
    expect(five.body.messages?.data).toHaveLength(5);
    expect(Object.keys(five.body.messages?.data[0] ?? {}).sort()).toEqual(['id', 'message']);
    const fifty = await get<Conversation>(`${demo.sim.baseUrl}/${long.id}?fields=messages.limit(50){id}`);
    expect(fifty.body.messages?.data).toHaveLength(20);
  });

  it('serves /{conversation}/messages newest first and refuses messages beyond the 20 most recent', async () => {
    const long = page.conversations.messenger.find((c) => c.message_count > 25);
    if (!long) throw new Error('no long conversation in the demo page');
    const expected = conversationMessages(long).map((m) => m.id);
    const first = await get<ListBody<Message>>(
      `${demo.sim.baseUrl}/${long.id}/messages?limit=15&fields=id,created_time`,
    );
    expect(first.body.data.map((m) => m.id)).toEqual(expected.slice(0, 15));
    const nextUrl = first.body.paging?.next;
    if (!nextUrl) throw new Error('expected a next page');
    const second = await get<ListBody<Message>>(nextUrl);
    expect(second.body.data.map((m) => m.id)).toEqual(expected.slice(15, 20));
    const thirdUrl = second.body.paging?.next;
    if (!thirdUrl) throw new Error('expected a next page');
    const third = await get<ErrorBody>(thirdUrl);
    expect(third.status).toBe(400);
    expect(third.body.error.code).toBe(100);
    expect(third.body.error.message).toMatch(/message has been deleted/);
    const old = await get<ErrorBody>(`${demo.sim.baseUrl}/${expected[22]}`);
    expect(old.body.error.message).toMatch(/message has been deleted/);
    const recent = await get<Message>(`${demo.sim.baseUrl}/${expected[3]}?fields=id,message`);
    expect(recent.body.id).toBe(expected[3]);
  });

  it('rejects bad, expired and missing tokens with code 190', async () => {
    const bad = await get<ErrorBody>(demo.conversations, 'nope');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 190, type: 'OAuthException', error_subcode: 467 });
    expect(typeof bad.body.error.fbtrace_id).toBe('string');
    const expired = await get<ErrorBody>(demo.conversations, 'expired-token');
    expect(expired.body.error).toMatchObject({ code: 190, error_subcode: 463 });
    const missing = await get<ErrorBody>(demo.conversations, null);
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe(190);
  });

  it('rejects a garbage cursor with code 100', async () => {
    for (const cursor of ['garbage', 'bm90IGEgY3Vyc29y', '!!!']) {
      const reply = await get<ErrorBody>(`${demo.conversations}?after=${encodeURIComponent(cursor)}`);
      expect(reply.status).toBe(400);
      expect(reply.body.error.code).toBe(100);
    }
  });

  it('answers unknown objects with code 100, unknown routes with 404 and unknown fields with 100', async () => {
    const unknown = await get<ErrorBody>(`${demo.sim.baseUrl}/999999999/conversations`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe(100);
    const route = await get<ErrorBody>(`${demo.sim.baseUrl}/${page.id}/conversations/extra`);
    expect(route.status).toBe(404);
    expect(route.body.error.code).toBe(100);
    const field = await get<ErrorBody>(`${demo.conversations}?fields=id,bogus`);
    expect(field.body.error.code).toBe(100);
    const syntax = await get<ErrorBody>(
      `${demo.conversations}?fields=${encodeURIComponent('id,messages{id')}`,
    );
    expect(syntax.body.error.code).toBe(100);
  });

  it('serves page info and customer profiles', async () => {
    const info = await get<Record<string, unknown>>(
      `${demo.sim.baseUrl}/${page.id}?fields=id,name,instagram_business_account`,
    );
    expect(info.body).toEqual({
      id: page.id,
      name: 'My Business Page',
      instagram_business_account: { id: '17841400000000001' },
    });

    const outcomes = { ok: 0, unavailable: 0 };
    for (const c of page.conversations.messenger.slice(0, 120)) {
      const psid = c.participants.data[0]?.id ?? '';
      const reply = await get<Record<string, unknown> & Partial<ErrorBody>>(
        `${demo.sim.baseUrl}/${psid}?fields=first_name,last_name,profile_pic`,
      );
      if (reply.status === 200 && reply.body.first_name) {
        outcomes.ok++;
        expect(reply.body.id).toBe(psid);
        expect(`${reply.body.first_name} ${reply.body.last_name}`).toBe(c.participants.data[0]?.name);
      } else if (reply.status === 400) {
        outcomes.unavailable++;
        expect(reply.body.error).toMatchObject({ code: 100, error_subcode: 2018218 });
      }
    }
    expect(outcomes.ok).toBeGreaterThan(100);
    expect(outcomes.unavailable).toBeGreaterThan(0);

    const ig = page.conversations.instagram[0]?.participants.data[0];
    const profile = await get<Record<string, unknown>>(
      `${demo.sim.baseUrl}/${ig?.id}?fields=name,username,profile_pic`,
    );
    expect(profile.status).toBe(200);
    expect(profile.body).toMatchObject({ id: ig?.id, username: ig?.username });
    expect('name' in profile.body && 'profile_pic' in profile.body).toBe(true);
  });

  it('sends usage headers with integer percentages and serves admin stats', async () => {
    const reply = await get<ListBody<Conversation>>(`${demo.conversations}?limit=1`);
    const app = JSON.parse(reply.headers.get('x-app-usage') ?? 'null') as Record<string, number>;
    expect(Object.keys(app).sort()).toEqual(['call_count', 'total_cputime', 'total_time']);
    const buc = JSON.parse(reply.headers.get('x-business-use-case-usage') ?? 'null') as Record<
      string,
      Record<string, unknown>[]
    >;
    const entry = buc[page.id]?.[0];
    expect(entry).toMatchObject({ type: 'messenger' });
    for (const key of ['call_count', 'total_cputime', 'total_time', 'estimated_time_to_regain_access']) {
      expect(Number.isInteger(entry?.[key])).toBe(true);
    }

    const stats = await get<Record<string, unknown>>(`${demo.sim.url}/__sim/stats`, null);
    expect(stats.body).toEqual(demo.sim.stats());
    expect(demo.sim.stats().callsByPath['/{page-id}/conversations']).toBeGreaterThan(0);
    const reset = await fetch(`${demo.sim.url}/__sim/reset`, { method: 'POST' });
    expect(reset.status).toBe(200);
    expect(demo.sim.stats().totalCalls).toBe(0);
  });

  it('injects faults when asked', async () => {
    demo.sim.setFaults({ rate: 1, codes: [613] });
    const throttled = await get<ErrorBody>(demo.conversations);
    expect(throttled.status).toBe(400);
    expect(throttled.body.error.code).toBe(613);
    demo.sim.setFaults({ rate: 1, codes: [500] });
    const crashed = await get<ErrorBody>(demo.conversations);
    expect(crashed.status).toBe(500);
    expect(crashed.body.error.code).toBe(1);
    demo.sim.setFaults(null);
    expect((await get(demo.conversations)).status).toBe(200);
    expect(demo.sim.stats().faultsInjected).toBe(2);
  });
});

describe('graph simulator: what connecting a page reads', () => {
  const demo = unlimitedDemo();
  const { page } = demo;

  it('answers /me of a page token with the page: id, name and Instagram account', async () => {
    const me = await get<Record<string, unknown>>(
      `${demo.sim.baseUrl}/me?fields=id,name,instagram_business_account`,
    );
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      id: page.id,
      name: 'My Business Page',
      instagram_business_account: { id: '17841400000000001' },
    });
  });

  it('lists one conversation per platform with limit=1', async () => {
    for (const platform of ['messenger', 'instagram']) {
      const one = await get<ListBody<Conversation>>(
        `${demo.conversations}?platform=${platform}&limit=1&fields=id`,
      );
      expect(one.status).toBe(200);
      expect(one.body.data).toHaveLength(1);
    }
  });

  it('refuses an invalid or expired token with code 190, and a token without messaging with (#200)', async () => {
    const invalid = await get<ErrorBody>(`${demo.sim.baseUrl}/me`, 'not-a-page-token-0123456789');
    expect([invalid.status, invalid.body.error.code, invalid.body.error.error_subcode]).toEqual([
      400, 190, 467,
    ]);
    const expired = await get<ErrorBody>(`${demo.sim.baseUrl}/me`, 'expired-token');
    expect([expired.status, expired.body.error.code, expired.body.error.error_subcode]).toEqual([
      400, 190, 463,
    ]);

    const withoutMessaging = `${TOKEN}.no_messaging`;
    const me = await get<Record<string, unknown>>(`${demo.sim.baseUrl}/me?fields=id,name`, withoutMessaging);
    expect(me.body).toEqual({ id: page.id, name: 'My Business Page' });
    const list = await get<ErrorBody>(`${demo.conversations}?platform=messenger&limit=1`, withoutMessaging);
    expect(list.status).toBe(400);
    expect(list.body.error.code).toBe(200);
    expect(list.body.error.message).toContain('pages_messaging');
  });
});

describe('graph simulator rate limit', () => {
  const page: SimPage = demoPage();
  let limited: GraphSimulator;
  let unlimited: GraphSimulator;

  beforeAll(async () => {
    [limited, unlimited] = await Promise.all([
      startGraphSimulator({ pages: [page] }), // default: 2 calls/s
      startGraphSimulator({ pages: [page], rateLimitPerSecond: null }),
    ]);
  });
  afterAll(() => Promise.all([limited.close(), unlimited.close()]));

  const burst = (sim: GraphSimulator, platform: string, n: number) =>
    Promise.all(
      Array.from({ length: n }, () =>
        get<ErrorBody & ListBody<Conversation>>(
          `${sim.baseUrl}/${page.id}/conversations?platform=${platform}&limit=5`,
        ),
      ),
    );

  it('rejects calls beyond 2 per second with 80006 and counts them', async () => {
    const replies = await burst(limited, 'messenger', 5);
    const rejected = replies.filter((r) => r.status === 400);
    expect(rejected.length).toBeGreaterThan(0);
    expect(replies.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(2);
    for (const r of rejected) {
      expect(r.body.error.code).toBe(80006);
      const usage = JSON.parse(r.headers.get('x-business-use-case-usage') ?? '{}') as Record<
        string,
        { call_count: number; estimated_time_to_regain_access: number }[]
      >;
      expect(usage[page.id]?.[0]?.call_count).toBeGreaterThan(100);
      expect(usage[page.id]?.[0]?.estimated_time_to_regain_access).toBeTypeOf('number');
    }
    const stats = limited.stats();
    expect(stats.rateLimitRejections).toBe(rejected.length);
    expect(stats.callsByPage[page.id]).toBe(5);
    expect(stats.maxCallsInAnyOneSecondByPage[page.id]).toBeGreaterThanOrEqual(3);
  });

  it('limits the Instagram account separately, with 80002', async () => {
    const replies = await burst(limited, 'instagram', 4);
    const rejected = replies.filter((r) => r.status === 400);
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected.every((r) => r.body.error.code === 80002)).toBe(true);
  });

  it('does not enforce anything when rateLimitPerSecond is null', async () => {
    const replies = await burst(unlimited, 'messenger', 5);
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(unlimited.stats().rateLimitRejections).toBe(0);
    expect(unlimited.stats().maxCallsInAnyOneSecondByPage[page.id]).toBe(5);
  });
});

describe('graph simulator latency', () => {
  let sim: GraphSimulator;
  beforeAll(async () => {
    sim = await startGraphSimulator({ pages: [demoPage()], latencyMs: 80, rateLimitPerSecond: null });
  });
  afterAll(() => sim.close());

  it('delays every response by latencyMs', async () => {
    for (const path of [
      '/104729384756192/conversations?limit=1',
      '/104729384756192/conversations?after=garbage',
    ]) {
      const started = performance.now();
      const reply = await get<unknown>(`${sim.baseUrl}${path}`);
      const elapsed = performance.now() - started;
      expect([200, 400]).toContain(reply.status);
      expect(elapsed).toBeGreaterThanOrEqual(80);
    }
  });
});

const PRODUCT_FIELDS = CONVERSATION_FIELDS;
const seconds = (time: string | undefined) => Date.parse((time ?? '').replace('+0000', 'Z')) / 1000;

/** Newest first, then by id: the order the simulator keeps its lists in. */
const inListOrder = (items: Conversation[]) =>
  items.every((c, i) => {
    const previous = items[i - 1];
    if (!previous) return true;
    const diff = seconds(previous.updated_time) - seconds(c.updated_time);
    return diff > 0 || (diff === 0 && previous.id < c.id);
  });

async function post<T>(url: string, body: unknown): Promise<Reply<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}

describe('graph simulator: the product read, 50 conversations per call', () => {
  const demo = unlimitedDemo();
  const { page } = demo;

  it('serves the product fields at limit=50, counting each list call once', async () => {
    demo.sim.resetStats();
    const { items, pages } = await pageThrough<Conversation>(
      `${demo.conversations}?platform=messenger&fields=${encodeURIComponent(PRODUCT_FIELDS)}&limit=50`,
    );
    expect(pages.map((p) => p.data.length)).toEqual([50, 50, 50, 50, 50, 50, 47]);
    expect(items.map((c) => c.id)).toEqual(page.conversations.messenger.map((c) => c.id));
    const stats = demo.sim.stats();
    expect(stats.totalCalls).toBe(7);
    expect(stats.callsByPath).toEqual({ '/{page-id}/conversations': 7 });
    expect(stats.callsByPage).toEqual({ [page.id]: 7 });
    expect(stats.callsByPageByPath).toEqual({ [page.id]: { '/{page-id}/conversations': 7 } });
    for (const c of items) {
      expect(Object.keys(c).sort()).toEqual([
        'id',
        'message_count',
        'messages',
        'participants',
        'updated_time',
      ]);
      expect(c.messages?.data.length).toBe(Math.min(c.message_count ?? 0, 20));
    }
    expect(items.some((c) => c.messages?.data.some((m) => m.is_unsupported === false))).toBe(true);
  });

  it('honours limits up to 50 with messages expanded, returns 50 above, and up to 100 without', async () => {
    const expanded = `${demo.conversations}?fields=${encodeURIComponent(PRODUCT_FIELDS)}`;
    for (const [limit, expected] of [
      [1, 1],
      [30, 30],
      [50, 50],
      [51, 50],
      [500, 50],
    ]) {
      const reply = await get<ListBody<Conversation>>(`${expanded}&limit=${limit}`);
      expect(reply.body.data).toHaveLength(expected ?? 0);
    }
    const idsOnly = await get<ListBody<Conversation>>(
      `${demo.conversations}?fields=id,updated_time&limit=80`,
    );
    expect(idsOnly.body.data).toHaveLength(80);
  });
});

describe('graph simulator: one conversation by id', () => {
  const page = demoPage();
  const other = generatePage({
    id: '300000000000003',
    name: 'Other',
    accessToken: 'other-token',
    messenger: 3,
    instagram: 0,
  });
  let sim: GraphSimulator;
  let limited: GraphSimulator;

  beforeAll(async () => {
    [sim, limited] = await Promise.all([
      startGraphSimulator({ pages: [page, other], rateLimitPerSecond: null }),
      startGraphSimulator({ pages: [page] }),
    ]);
  });
  afterAll(() => Promise.all([sim.close(), limited.close()]));

  it('answers GET /{conversation-id} with the same shape as the list item', async () => {
    for (const platform of ['messenger', 'instagram'] as const) {
      const list = await get<ListBody<Conversation>>(
        `${sim.baseUrl}/${page.id}/conversations?platform=${platform}&fields=${encodeURIComponent(PRODUCT_FIELDS)}&limit=5`,
      );
      for (const item of list.body.data) {
        const one = await get<Conversation>(
          `${sim.baseUrl}/${item.id}?fields=${encodeURIComponent(PRODUCT_FIELDS)}`,
        );
        expect(one.status).toBe(200);
        expect(one.body).toEqual(item);
      }
    }
    expect(sim.stats().callsByPageByPath[page.id]?.['/{conversation-id}']).toBe(10);
  });

  it("answers unknown ids, bad tokens and other pages' conversations with Graph errors", async () => {
    const unknown = await get<ErrorBody>(`${sim.baseUrl}/t_999999999999999?fields=id`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 100, error_subcode: 33, type: 'GraphMethodException' });
    const id = page.conversations.messenger[0]?.id;
    const bad = await get<ErrorBody>(`${sim.baseUrl}/${id}`, 'nope');
    expect(bad.body.error).toMatchObject({ code: 190, error_subcode: 467 });
    const expired = await get<ErrorBody>(`${sim.baseUrl}/${id}`, 'expired-token');
    expect(expired.body.error).toMatchObject({ code: 190, error_subcode: 463 });
    const foreign = await get<ErrorBody>(`${sim.baseUrl}/${id}`, 'other-token');
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toMatchObject({ code: 100, error_subcode: 33 });
  });

  it('counts conversation reads against the 2 calls/s of the page (Messenger) or its Instagram account', async () => {
    const read = (id: string | undefined) => get<ErrorBody>(`${limited.baseUrl}/${id}?fields=id`);
    const messenger = await Promise.all([
      get<ErrorBody>(`${limited.baseUrl}/${page.id}/conversations?limit=1`),
      ...page.conversations.messenger.slice(0, 3).map((c) => read(c.id)),
    ]);
    expect(messenger.filter((r) => r.status === 200).length).toBe(2);
    expect(messenger.filter((r) => r.status === 400).every((r) => r.body.error.code === 80006)).toBe(true);
    const instagram = await Promise.all(page.conversations.instagram.slice(0, 4).map((c) => read(c.id)));
    expect(instagram.filter((r) => r.status === 200).length).toBe(2);
    expect(instagram.filter((r) => r.status === 400).every((r) => r.body.error.code === 80002)).toBe(true);
    expect(limited.stats().rateLimitRejections).toBe(4);
  });
});

describe('graph simulator: new messages while it runs', () => {
  const page = demoPage();
  const fresh = demoPage();
  let sim: GraphSimulator;
  let list: (platform?: string, query?: string) => Promise<Conversation[]>;

  beforeAll(async () => {
    sim = await startGraphSimulator({ pages: [page], rateLimitPerSecond: null });
    list = async (platform = 'messenger', query = 'fields=id,updated_time,message_count') =>
      (
        await pageThrough<Conversation>(
          `${sim.baseUrl}/${page.id}/conversations?platform=${platform}&limit=100&${query}`,
        )
      ).items;
  });
  afterAll(() => sim.close());

  const newest = async () =>
    Math.max(
      ...[...(await list('messenger')), ...(await list('instagram'))].map((c) => seconds(c.updated_time)),
    );

  it('appends a customer message to each chosen conversation and moves them to the top', async () => {
    const before = await list();
    const newestBefore = await newest();
    const ids = sim.addMessages({ pageId: page.id, count: 3 });
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);

    const after = await list();
    expect(after).toHaveLength(347);
    expect(inListOrder(after)).toBe(true);
    expect(after.slice(0, 3).map((c) => c.id)).toEqual(ids);
    const time = after[0]?.updated_time;
    expect(seconds(time)).toBeGreaterThan(newestBefore);
    for (const c of after.slice(0, 3)) {
      expect(c.updated_time).toBe(time);
      const old = before.find((b) => b.id === c.id);
      expect(c.message_count).toBe((old?.message_count ?? 0) + 1);
    }
    // Everything else keeps its order.
    expect(after.slice(3).map((c) => c.id)).toEqual(
      before.filter((c) => !ids.includes(c.id)).map((c) => c.id),
    );

    // The new message is the newest one, from the customer, readable by id, and in the expansion.
    const id = ids[0] ?? '';
    const one = await get<Conversation>(
      `${sim.baseUrl}/${id}?fields=${encodeURIComponent(PRODUCT_FIELDS)},unread_count`,
    );
    const [message, previous] = one.body.messages?.data ?? [];
    const customer = one.body.participants?.data[0];
    expect(message?.created_time).toBe(time);
    expect(message?.from?.id).toBe(customer?.id);
    expect(message?.to?.data[0]?.id).toBe(page.id);
    expect(typeof message?.message).toBe('string');
    expect(message?.id).not.toBe(previous?.id);
    const byId = await get<Message>(`${sim.baseUrl}/${message?.id}?fields=id,message,from`);
    expect(byId.body).toEqual({ id: message?.id, message: message?.message, from: message?.from });

    // The pages the simulator was started with are not modified.
    expect(page).toEqual(fresh);
  });

  it('gives every call a distinct, newer time, and uses `at` only when it is newer', async () => {
    const [a] = sim.addMessages({ pageId: page.id, count: 1, platform: 'instagram' });
    const [b] = sim.addMessages({ pageId: page.id, count: 1 });
    const [c] = sim.addMessages({ pageId: page.id, count: 1, at: '2020-01-01T00:00:00Z' });
    const times = await Promise.all(
      [a, b, c].map(async (id) => (await get<Conversation>(`${sim.baseUrl}/${id}`)).body.updated_time),
    );
    expect(seconds(times[1])).toBeGreaterThan(seconds(times[0]));
    expect(seconds(times[2])).toBe(seconds(times[1]) + 1);
    const future = Date.UTC(2030, 0, 1, 12, 0, 0);
    const [d] = sim.addMessages({
      pageId: page.id,
      conversationIds: [page.conversations.messenger[300]?.id ?? ''],
      at: future,
    });
    const reply = await get<Conversation>(`${sim.baseUrl}/${d}`);
    expect(reply.body.updated_time).toBe('2030-01-01T12:00:00+0000');
    expect(await newest()).toBe(future / 1000);
  });

  it('takes explicit conversations of both platforms and keeps messages readable past 20', async () => {
    const messengerId = page.conversations.messenger[200]?.id ?? '';
    const instagramId = page.conversations.instagram[100]?.id ?? '';
    const ids = sim.addMessages({
      pageId: page.id,
      conversationIds: [instagramId, messengerId, messengerId],
    });
    expect(ids).toEqual([messengerId, instagramId]);
    expect((await list('messenger'))[0]?.id).toBe(messengerId);
    expect((await list('instagram'))[0]?.id).toBe(instagramId);
    expect(() =>
      sim.addMessages({ pageId: page.id, platform: 'instagram', conversationIds: [messengerId] }),
    ).toThrow(/not a instagram conversation/);
    expect(() => sim.addMessages({ pageId: page.id, conversationIds: ['t_1'] })).toThrow(/no conversation/);
    expect(() => sim.addMessages({ pageId: 'nope', count: 1 })).toThrow(/Unknown page/);
    expect(() => sim.addMessages({ pageId: page.id, count: 0 })).toThrow(/count/);
    expect(() => sim.addMessages({ pageId: page.id })).toThrow(/either count or conversationIds/);

    // 25 new messages: the edge still shows only the 20 most recent, the newest first.
    const long = page.conversations.messenger[250];
    if (!long) throw new Error('no conversation');
    for (let i = 0; i < 25; i++) sim.addMessages({ pageId: page.id, conversationIds: [long.id] });
    const first = await get<ListBody<Message>>(
      `${sim.baseUrl}/${long.id}/messages?limit=15&fields=id,created_time`,
    );
    const nextUrl = first.body.paging?.next ?? '';
    const second = await get<ListBody<Message>>(nextUrl);
    const messages = [...first.body.data, ...second.body.data];
    expect(messages).toHaveLength(20);
    expect(isDescending(messages.map((m) => m.created_time))).toBe(true);
    expect(new Set(messages.map((m) => m.id)).size).toBe(20);
    const one = await get<Conversation>(`${sim.baseUrl}/${long.id}?fields=message_count`);
    expect(one.body.message_count).toBe(long.message_count + 25);
  });

  it('serves POST /__sim/pages/{page-id}/new-messages without a token, outside the Graph stats', async () => {
    sim.resetStats();
    const base = `${sim.url}/__sim/pages/${page.id}/new-messages`;
    const byCount = await post<{ conversationIds: string[]; updated_time: string }>(base, {
      platform: 'instagram',
      count: 2,
    });
    expect(byCount.status).toBe(200);
    expect(byCount.body.conversationIds).toHaveLength(2);
    expect(byCount.body.updated_time).toMatch(GRAPH_TIME);
    expect(sim.stats().totalCalls).toBe(0);
    const top = await list('instagram', 'fields=id,updated_time');
    expect(top.slice(0, 2).map((c) => c.id)).toEqual(byCount.body.conversationIds);
    expect(top[0]?.updated_time).toBe(byCount.body.updated_time);

    const id = page.conversations.messenger[5]?.id ?? '';
    const byIds = await post<{ conversationIds: string[] }>(base, { conversationIds: [id] });
    expect(byIds.body.conversationIds).toEqual([id]);

    const errors = await Promise.all([
      post<ErrorBody>(`${sim.url}/__sim/pages/999/new-messages`, { count: 1 }),
      post<ErrorBody>(base, { conversationIds: ['t_1'] }),
      post<ErrorBody>(base, { count: 1, conversationIds: [id] }),
      post<ErrorBody>(base, {}),
      post<ErrorBody>(base, '{not json'),
      post<ErrorBody>(base, { count: 5000 }),
      post<ErrorBody>(base, { count: 1, platform: 'whatsapp' }),
    ]);
    expect(errors.map((e) => e.status)).toEqual([404, 404, 400, 400, 400, 400, 400]);
    for (const e of errors) expect(typeof e.body.error.message).toBe('string');
    expect((await get<ErrorBody>(base, null)).status).toBe(404);

    // Not a Graph route: under the version prefix it is an unknown path, with or without a token.
    const asGraph = await post<ErrorBody>(`${sim.baseUrl}/__sim/pages/${page.id}/new-messages`, { count: 1 });
    expect(asGraph.status).toBe(404);
    expect(asGraph.body.error.code).toBe(100);
    const asGraphGet = await get<ErrorBody>(`${sim.baseUrl}/__sim`);
    expect(asGraphGet.body.error.code).toBe(100);
  });
});

describe('graph simulator: paging while conversations move to the top', () => {
  const page = demoPage();
  let keyset: GraphSimulator;
  let offset: GraphSimulator;

  beforeAll(async () => {
    [keyset, offset] = await Promise.all([
      startGraphSimulator({ pages: [page], rateLimitPerSecond: null }),
      startGraphSimulator({ pages: [page], rateLimitPerSecond: null, listCursors: 'offset' }),
    ]);
  });
  afterAll(() => Promise.all([keyset.close(), offset.close()]));

  /** Reads the first page, moves a seen and an unseen conversation to the top, then reads on. */
  async function readWhileMoving(sim: GraphSimulator) {
    const first = await get<ListBody<Conversation>>(`${sim.baseUrl}/${page.id}/conversations?limit=50`);
    const seen = page.conversations.messenger[10]?.id ?? '';
    const unseen = page.conversations.messenger[200]?.id ?? '';
    sim.addMessages({ pageId: page.id, conversationIds: [seen, unseen] });
    const rest = await pageThrough<Conversation>(first.body.paging?.next ?? '');
    return { ids: [...first.body.data, ...rest.items].map((c) => c.id), seen, unseen };
  }

  it('keyset cursors (default): a reader never sees a conversation twice, and misses one that moved past it', async () => {
    const { ids, seen, unseen } = await readWhileMoving(keyset);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(346);
    expect(ids).toContain(seen);
    expect(ids).not.toContain(unseen);
    // A cursor made before the move still answers what follows its conversation's old place.
    const top = await get<ListBody<Conversation>>(`${keyset.baseUrl}/${page.id}/conversations?limit=2`);
    expect(top.body.data.map((c) => c.id).sort()).toEqual([seen, unseen].sort());
  });

  it('offset cursors: a reader sees the conversation at the page boundary twice, and misses the moved one', async () => {
    const { ids, unseen } = await readWhileMoving(offset);
    expect(ids).toHaveLength(347);
    expect(new Set(ids).size).toBe(346);
    expect(ids.filter((id) => id === page.conversations.messenger[49]?.id)).toHaveLength(2);
    expect(ids).not.toContain(unseen);
  });

  it('keyset cursors stay valid for every list, and reject cursors of another list', async () => {
    const messenger = await get<ListBody<Conversation>>(`${keyset.baseUrl}/${page.id}/conversations?limit=5`);
    const cursor = messenger.body.paging?.cursors?.after ?? '';
    const wrong = await get<ErrorBody>(
      `${keyset.baseUrl}/${page.id}/conversations?platform=instagram&after=${encodeURIComponent(cursor)}`,
    );
    expect(wrong.body.error.code).toBe(100);
    const previous = await get<ListBody<Conversation>>(messenger.body.paging?.next ?? '');
    const back = await get<ListBody<Conversation>>(previous.body.paging?.previous ?? '');
    expect(back.body.data.map((c) => c.id)).toEqual(messenger.body.data.map((c) => c.id));
  });
});
