import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { GraphApiError, type GraphErrorKind } from '#shared/graph/graph-api-error.ts';
import { type ConversationPage, GraphClient, type ListRequest } from '#shared/graph/graph-client.ts';
import type { Conversation, Message } from '#shared/graph/graph-responses.ts';
import { sleep } from '#shared/sleep.ts';
import { listIds } from './list-ids.ts';

// The client still really waits; this only records how long it asks to wait, so the tests can
// assert the requested waits (deterministic) instead of measuring time.
vi.mock(import('#shared/sleep.ts'), async (importOriginal) => {
  const actual = await importOriginal();
  return { ...actual, sleep: vi.fn(actual.sleep) };
});

/**
 * GraphClient against hand-recorded Graph responses (test/fixtures/graph/*.json), each in the shape
 * Meta's Graph API reference documents, served over real HTTP so the client's fetch path runs.
 */

const PAGE_ID = '104838712345678';
const IG_ACCOUNT_ID = '17841405309211844';
/** The same token the recorded `next` URLs carry, as Graph echoes the caller's token there. */
const TOKEN = 'EAAGm0PX4ZCpsBOZBkL3hZCqR8vZAu1ZCZBx7ZA2mPq9ZA';
const OPTIONS = { callsPerSecondPerPage: 1000, maxAttempts: 3, backoffBaseMs: 1, maxWaitMs: 20 };

/** A recorded answer: status, headers and the body exactly as Graph sent it (a string for non-JSON). */
const Recording = z.object({
  status: z.number().int(),
  headers: z.record(z.string(), z.string()),
  body: z.unknown(),
});
type Recording = z.infer<typeof Recording>;

function recorded(name: string): Recording {
  const file = new URL(`../../fixtures/graph/${name}.json`, import.meta.url);
  return Recording.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/** The raw messages of a recorded list, to compare what the client keeps against what Graph sent. */
function recordedMessages(name: string): Map<string, Record<string, unknown>> {
  const body = z
    .object({
      data: z.array(
        z.object({
          messages: z.object({ data: z.array(z.looseObject({ id: z.string() })) }).optional(),
        }),
      ),
    })
    .parse(recorded(name).body);
  return new Map(body.data.flatMap((c) => c.messages?.data ?? []).map((m) => [m.id, m]));
}

/** What a request the test did not script gets: a non-retryable error, so the test fails loudly. */
const UNEXPECTED: Recording = {
  status: 400,
  headers: { 'content-type': 'application/json; charset=UTF-8' },
  body: {
    error: { message: '(#100) unexpected request', type: 'OAuthException', code: 100, fbtrace_id: 'test' },
  },
};

interface Captured {
  url: URL;
  headers: IncomingHttpHeaders;
}

interface RecordedGraph {
  baseUrl: string;
  requests: Captured[];
  close: () => Promise<void>;
}

type Responder = (n: number, url: URL) => Recording | undefined;

/** The Graph stand-in a test started last; every one started is closed after the test. */
let graph: RecordedGraph | undefined;
const started: RecordedGraph[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((g) => g.close()));
  graph = undefined;
});

const sleepMock = vi.mocked(sleep);
beforeEach(() => {
  sleepMock.mockClear();
});
/** The waits (ms) the client asked for since the test started. */
const requestedWaits = () => sleepMock.mock.calls.map(([ms]) => ms);

/** Serves recordings on 127.0.0.1 (port 0) and captures every request's URL and headers. */
async function serve(respond: Responder): Promise<RecordedGraph> {
  const requests: Captured[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const reply = respond(requests.length, url) ?? UNEXPECTED;
    requests.push({ url, headers: req.headers });
    res.writeHead(reply.status, reply.headers);
    res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  graph = {
    baseUrl: `http://127.0.0.1:${port}/v21.0`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  started.push(graph);
  return graph;
}

/** The nth request gets the nth recording. */
const inSequence =
  (...names: string[]): Responder =>
  (n) => {
    const name = names[n];
    return name === undefined ? undefined : recorded(name);
  };

/** Each request gets the recording for the `after` cursor it sends ('' for the first page). */
const byCursor =
  (routes: Record<string, string>): Responder =>
  (_n, url) => {
    const name = routes[url.searchParams.get('after') ?? ''];
    return name === undefined ? undefined : recorded(name);
  };

const clientFor = (g: RecordedGraph) => new GraphClient(g.baseUrl, OPTIONS);

const request = (overrides: Partial<ListRequest> = {}): ListRequest => ({
  pageId: PAGE_ID,
  platform: 'messenger',
  accessToken: TOKEN,
  after: null,
  limit: 25,
  ...overrides,
});

async function listOnce(name: string, overrides: Partial<ListRequest> = {}) {
  const g = await serve(inSequence(name));
  const page = await clientFor(g).listConversations(request(overrides));
  expect(g.requests).toHaveLength(1);
  return page;
}

async function idsOnce(name: string) {
  const g = await serve(inSequence(name));
  const page = await listIds(clientFor(g), request({ limit: 3 }));
  expect(g.requests).toHaveLength(1);
  return page;
}

/** Follows the client's cursors to the end of the list, as the reader does. */
async function walk(client: GraphClient, base: Partial<ListRequest>) {
  const pages: ConversationPage<string>[] = [];
  let after: string | null = null;
  do {
    const page: ConversationPage<string> = await listIds(client, request({ ...base, after }));
    pages.push(page);
    after = page.after;
    if (pages.length > 20) throw new Error('paging never ended');
  } while (after);
  return pages;
}

async function graphError(promise: Promise<unknown>): Promise<GraphApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GraphApiError);
  if (!(error instanceof GraphApiError)) throw new Error('expected a GraphApiError');
  return error;
}

function conversation(page: ConversationPage<Conversation>, id: string): Conversation {
  const found = page.items.find((c) => c.id === id);
  if (!found) throw new Error(`no conversation ${id}`);
  return found;
}

function message(c: Conversation, id: string): Message {
  const found = c.messages?.data.find((m) => m.id === id);
  if (!found) throw new Error(`no message ${id} in ${c.id}`);
  return found;
}

/** Splits a `fields` value at its top-level commas (not those inside `{...}` or `(...)`). */
function topLevelFields(fields: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of fields) {
    if (ch === '{' || ch === '(') depth++;
    if (ch === '}' || ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  out.push(current);
  return out;
}

const PAGE_PARTICIPANT = { name: 'Northwind Bakery', email: `${PAGE_ID}@facebook.com`, id: PAGE_ID };
const MAYA = { name: 'Maya Okafor', email: '6284918273645012@facebook.com', id: '6284918273645012' };

describe('GraphClient on recorded conversation lists', () => {
  it('reads a Messenger list page with field expansion, tolerating the fields it does not ask for', async () => {
    const page = await listOnce('messenger-conversations-expanded');

    expect(page.items.map((c) => c.id)).toEqual(['t_10223456789012345', 't_10224187654321098']);
    expect(page.after).toBe(
      'QVFIr3IRh6mYNDjE_l-WJw7z0LSS2d2Y6u1dy3mhhc1PrgKKFkntMNdFCseHYvfumAxXvYp81mtslk9t-BWkM7vrTS3_Akn_ZAEZ',
    );
    const maya = conversation(page, 't_10223456789012345');
    expect(maya).toMatchObject({
      updated_time: '2024-10-08T16:42:19.000Z',
      message_count: 3,
      participants: { data: [MAYA, PAGE_PARTICIPANT] },
      messages: {
        data: [
          {
            id: 'm_RQSEil5fFlgl0OWkSmnN8JGe4Qksqp9U3Z70GuYggSwo9WSaFg-J-81_lFM4SkMvcG6rbC_YHT6qGI3kIEOU4Q',
            created_time: '2024-10-08T16:42:19.000Z',
            from: MAYA,
            to: { data: [PAGE_PARTICIPANT] },
            message: 'Perfect, see you Saturday at 10!',
          },
          {
            id: 'm_2CM45d8N9UqBkRm5A58HYVQoCrDr6EjHe-vEbEg2RqgsQjc9EBt9VqDuiA7H1_F1DziJGt-C96M-wtr_GnKQ3g',
            created_time: '2024-10-08T16:40:02.000Z',
            from: PAGE_PARTICIPANT,
            to: { data: [MAYA] },
            message: 'We can do a 3-tier lemon cake for 30. Pickup Saturday 10:00?',
          },
          {
            id: 'm_d-jymNJyPS6EaktSrRpUYeqQIJ4QrsPW4z1dzTmBN10XNlxwYRTB3NkCivrKuTmCudD4-aRWyS4a3a0EcOUUzw',
            created_time: '2024-10-08T16:31:45.000Z',
            from: MAYA,
            message: 'Hi! Do you take custom cake orders for 30 people?',
          },
        ],
      },
    });
    const jonas = conversation(page, 't_10224187654321098');
    expect(jonas.message_count).toBe(2);
    expect(jonas.participants?.data.map((p) => p.name)).toEqual(['Jonas Lindqvist', 'Northwind Bakery']);
    expect(jonas.messages?.data.map((m) => m.message)).toEqual([
      "Thanks, that's all I needed.",
      'Hi Jonas, we open at 7:00 on weekdays and 8:00 on weekends.',
    ]);
    // Messenger emails are <id>@facebook.com; messages stay newest first.
    for (const c of page.items) {
      for (const p of c.participants?.data ?? []) expect(p.email).toBe(`${p.id}@facebook.com`);
      const times = c.messages?.data.map((m) => m.created_time) ?? [];
      expect(times.length).toBeGreaterThan(1);
      expect(times).toEqual([...times].sort().reverse());
    }
  });

  it('reads an Instagram list page whose participants carry a username and no name or email', async () => {
    const page = await listOnce('instagram-conversations', { platform: 'instagram' });

    expect(graph?.requests[0]?.url.searchParams.get('platform')).toBe('instagram');
    expect(page.items.map((c) => c.id)).toEqual([
      'aWdfZDoxOklHTWVzc2FnZVRocmVhZDoxNzg0MTQwNTMwOTIxMTg0NDozNDAyODIzNjY4NDE3MTAzMDA5NDkxMjgxNTc0Nzc2NjY1ODU0ODU',
      'aWdfZDoxOklHTWVzc2FnZVRocmVhZDoxNzg0MTQwNTMwOTIxMTg0NDozNDAyODIzNjY4NDE3MTAzMDA5NDkxMjgyMDM5MTg3MzQxMDI3NjE',
    ]);
    expect(page.items.map((c) => c.participants?.data)).toEqual([
      [
        { username: 'maya.bakes', id: '7123984561029384' },
        { username: 'northwind.bakery', id: IG_ACCOUNT_ID },
      ],
      [
        { username: 'jonas_eats', id: '1029384756102938' },
        { username: 'northwind.bakery', id: IG_ACCOUNT_ID },
      ],
    ]);
    for (const p of page.items.flatMap((c) => c.participants?.data ?? [])) {
      expect(p.name ?? undefined).toBeUndefined();
      expect(p.email ?? undefined).toBeUndefined();
    }
    expect(page.items.map((c) => c.messages?.data.length)).toEqual([5, 2]);
    expect(page.after).toBe(
      'QVFIfweYtfKYZXnw_1PtCUN0O9l3skNXU6EzjRGpbKiHsJ4rfk-hcgA-6sYpI55GWcpvCrMe2pHGEy_1W9ypLA98LbCn_PPBljfJ',
    );
  });

  it('accepts conversations whose fields without data are omitted (no participants, no messages)', async () => {
    const page = await listOnce('conversations-without-data');

    expect(page.items).toHaveLength(3);
    const bare = conversation(page, 't_10226098765432109');
    expect(bare).toEqual({ id: 't_10226098765432109', updated_time: '2024-09-30T14:02:11.000Z' });
    expect(bare.participants).toBeUndefined();
    expect(bare.messages).toBeUndefined();
    expect(bare.message_count).toBeUndefined();

    const noMessages = conversation(page, 't_10227123456789012');
    expect(noMessages.participants?.data.map((p) => p.id)).toEqual(['4827163950284716', PAGE_ID]);
    expect(noMessages.messages).toBeUndefined();

    const noParticipants = conversation(page, 't_10228234567890123');
    expect(noParticipants.participants).toBeUndefined();
    const [only] = noParticipants.messages?.data ?? [];
    expect(only).toMatchObject({
      message: 'Hello? Are you open on Sundays?',
      created_time: '2024-09-28T19:30:41.000Z',
    });
    expect(only?.from).toBeUndefined();
    expect(only?.to).toBeUndefined();
    expect(page.after).toBeNull();
  });
});

describe('GraphClient on recorded message shapes', () => {
  const SHAPES = 'messenger-message-shapes';
  const THREAD = 't_10225012345678901';
  const M = {
    reply: 'm_imDEA9YwoVg6aaYskmupFxyKjHk4IiGyc58vakPpDC7h5-7USQrn40tm-1UK1b7tdWcDeNqVtgrkvqQVUi-ovA',
    images: 'm_hUm1oEOK4kxiSViA57-8Dhg6ogK83pjEmna3OkuVvrP0HTlaMOybo17ZAQsFI3121AG-7RB1k4Sup8AatAi5bw',
    file: 'm_dXR9F6Uwk4LUGgm5fRso1X-7PQkIeZGkQ2e8bEIJhbNiRlaUNWMFbCck-J5uGjBKNhLSvG7AmCgT5t7ezHiepg',
    video: 'm_zwVGDK54KDzcuNeWB4VJNOCbDXDL06vyUPfP9mxYKqEggw-CvtIvVmP2W85BkWQ14WbiWTiFh9AkVhtQRgB-tA',
    sticker: 'm_GIfxDSr8dz3oE2iC56S83-lDdpAoq80yaj4dXEixgg2s6tXxIJKuPveBQEtV4fOq-Y2OoxGc9_CvjciV-VqGQA',
    share: 'm_hF8beiKRkMrNG4J-Xfkvs9SuL619rpnnhz6laduaH9dXsCRwC_pqhhGlW1kln-KXE7aJJW-PLmti8bd3dCRh3A',
    question: 'm_A8S_iri5UinQOnosw8iRbyL9X5EeXjy7WM-oIA6E3owSvMH-TBCwnGZedxGIwcGRpWRye8qE6Yxdptn_5UHjOA',
    unsupported: 'm_i1Pzxm0MF7WMaktjilwKe21Ib6G3AeBoSWM7fSmgLUPDqt30oPqec-dOdPQaTJMADWrJvNuNg5Nr_BFnVQ8jXg',
  };
  const IG_THREAD =
    'aWdfZDoxOklHTWVzc2FnZVRocmVhZDoxNzg0MTQwNTMwOTIxMTg0NDozNDAyODIzNjY4NDE3MTAzMDA5NDkxMjgxNTc0Nzc2NjY1ODU0ODU';
  const IG_REPLY_THREAD =
    'aWdfZDoxOklHTWVzc2FnZVRocmVhZDoxNzg0MTQwNTMwOTIxMTg0NDozNDAyODIzNjY4NDE3MTAzMDA5NDkxMjgyMDM5MTg3MzQxMDI3NjE';
  const MAYA_IG = { username: 'maya.bakes', id: '7123984561029384' };
  const PAGE_IG = { username: 'northwind.bakery', id: IG_ACCOUNT_ID };

  async function shapes(): Promise<Conversation> {
    return conversation(await listOnce(SHAPES), THREAD);
  }

  it('reads every recorded message, newest first', async () => {
    const thread = await shapes();

    expect(thread.messages?.data.map((m) => m.id)).toEqual([
      M.reply,
      M.images,
      M.file,
      M.video,
      M.sticker,
      M.share,
      M.question,
      M.unsupported,
    ]);
  });

  it('reads an empty text (message: "") as ""', async () => {
    const thread = await shapes();

    for (const id of [M.images, M.video, M.sticker, M.share]) expect(message(thread, id).message).toBe('');
  });

  it('reads a message without a message field as ""', async () => {
    const thread = await shapes();

    expect(recordedMessages(SHAPES).get(M.file)).not.toHaveProperty('message');
    expect(message(thread, M.file).message).toBe('');
    expect(message(thread, M.unsupported).message).toBe('');
  });

  it('keeps image attachments with all their image_data, whatever the attachments paging', async () => {
    const images = message(await shapes(), M.images);

    expect(images.attachments?.data).toHaveLength(2);
    expect(images.attachments?.data[0]).toMatchObject({
      id: '1243789065432187',
      mime_type: 'image/jpeg',
      name: 'image-1243789065432187.jpg',
      size: 183402,
      image_data: {
        width: 1536,
        height: 2048,
        max_width: 1536,
        max_height: 2048,
        render_as_sticker: false,
        url: expect.stringMatching(/^https:\/\/scontent\.xx\.fbcdn\.net\/.+_n\.jpg\?/),
        preview_url: expect.stringContaining('stp=dst-jpg_s261x260'),
      },
    });
    expect(images.attachments?.data[1]).toMatchObject({
      mime_type: 'image/gif',
      image_data: {
        animated_gif_url: expect.stringMatching(/_n\.gif\?/),
        animated_gif_preview_url: expect.stringContaining('stp=dst-jpg_s261x260'),
      },
    });
    const raw = z
      .object({ attachments: z.object({ data: z.array(z.unknown()) }) })
      .parse(recordedMessages(SHAPES).get(M.images));
    expect(images.attachments?.data).toEqual(raw.attachments.data);
  });

  it('keeps file_url and video_data attachments', async () => {
    const thread = await shapes();

    expect(message(thread, M.file).attachments?.data).toEqual([
      {
        id: '1189032745618234',
        mime_type: 'application/pdf',
        name: 'order-form.pdf',
        size: 48213,
        file_url: expect.stringMatching(/^https:\/\/cdn\.fbsbx\.com\/.+\/order-form\.pdf\?/),
      },
    ]);
    expect(message(thread, M.video).attachments?.data).toEqual([
      {
        id: '1573920846152093',
        mime_type: 'video/mp4',
        name: 'video-1573920846152093.mp4',
        size: 2918734,
        video_data: {
          width: 720,
          height: 1280,
          length: 14,
          video_type: 0,
          rotation: 0,
          url: expect.stringMatching(/^https:\/\/video\.xx\.fbcdn\.net\/.+\.mp4\?/),
          preview_url: expect.stringMatching(/^https:\/\/scontent\.xx\.fbcdn\.net\//),
        },
      },
    ]);
  });

  it('reads a sticker', async () => {
    const thread = await shapes();
    const sticker = message(thread, M.sticker);

    expect(sticker.sticker).toMatch(/^https:\/\/scontent\.xx\.fbcdn\.net\/v\/t39\.1997-6\/.+\.png\?/);
    expect(sticker.attachments).toBeUndefined();
    expect(message(thread, M.question).sticker).toBeUndefined();
  });

  it('tolerates tags (inbox, source:chat, ...), reply_to{mid,is_self_reply}, shares and reactions', async () => {
    const thread = await shapes();
    const raw = recordedMessages(SHAPES);

    expect(raw.get(M.reply)).toMatchObject({
      tags: { data: [{ name: 'inbox' }, { name: 'source:chat' }] },
      reply_to: { mid: M.question, is_self_reply: false },
      reactions: { data: [{ reaction: '\u2764' }] },
    });
    expect(raw.get(M.share)).toHaveProperty('shares.data.0.link');
    expect(message(thread, M.reply)).toMatchObject({
      created_time: '2024-10-09T11:20:44.000Z',
      message: 'Yes, the 3-tier one',
      from: { id: '8147205936184720', name: 'Ravi Shah' },
    });
    expect(message(thread, M.share)).toMatchObject({ message: '', from: PAGE_PARTICIPANT });
  });

  it('reads is_unsupported when present as false or true, and leaves it out when absent', async () => {
    const thread = await shapes();

    expect(message(thread, M.question).is_unsupported).toBe(false);
    expect(message(thread, M.unsupported).is_unsupported).toBe(true);
    expect(message(thread, M.reply).is_unsupported).toBeUndefined();
  });

  it('reads Instagram from{username,id} and to{data:[...]} on messages', async () => {
    const page = await listOnce('instagram-conversations', { platform: 'instagram' });
    const messages = conversation(page, IG_THREAD).messages?.data ?? [];

    expect(messages.map((m) => m.from)).toEqual([MAYA_IG, PAGE_IG, MAYA_IG, MAYA_IG, MAYA_IG]);
    expect(messages.map((m) => m.to)).toEqual([
      { data: [PAGE_IG] },
      { data: [MAYA_IG] },
      { data: [PAGE_IG] },
      { data: [PAGE_IG] },
      { data: [PAGE_IG] },
    ]);
    expect(messages.map((m) => m.message)).toEqual([
      'Can I pick it up at 9 instead?',
      "Here's the one we made last week",
      '',
      '',
      'Hi! Do you deliver?',
    ]);
    expect(messages.map((m) => m.is_unsupported)).toEqual([undefined, undefined, undefined, true, false]);
  });

  it('tolerates Instagram story mentions and story replies, shares and reactions', async () => {
    const page = await listOnce('instagram-conversations', { platform: 'instagram' });
    const raw = recordedMessages('instagram-conversations');
    const rawStories = [...raw.values()].filter((m) => 'story' in m);
    expect(rawStories.map((m) => Object.keys(m.story as object))).toEqual([['mention'], ['reply_to']]);

    const mention = conversation(page, IG_THREAD).messages?.data[2];
    expect(mention).toMatchObject({
      id: rawStories[0]?.id,
      message: '',
      created_time: '2024-10-08T17:41:02.000Z',
    });
    const reply = conversation(page, IG_REPLY_THREAD).messages?.data[0];
    expect(reply).toMatchObject({ id: rawStories[1]?.id, message: 'That croissant looks amazing' });
  });
});

describe('GraphClient on recorded paging', () => {
  const C = {
    afterAndNext:
      'QVFIUmJ0SXh2bWRiWmZAZAMVNtOXBHc1pVS0JlNWt3dDlpSm5sNEZAnRkRMaTZA3X3Bmd2ZAaTTRHZA0dKczBTSnBCcVZAfZAm1ZA',
    empty:
      'QVFIUk1nN3RqZA3R2MFlGTHA4eWxLM2h6YkVfSlI4SWJhVnR2dGJ6b0tOcFN1RkFjZAkVzNTNPbzRRa0dOYVBIU0s2ZAHNZAZA2',
    short:
      'QVFIUnRjUXZAMNmpwT1pLb3UwdW5HZAk9CVHhSTWZAkcGp5Y1F2NzZADQ1hIU3ZAUVHJ6VkZAGaE1LUHBDMFBwdnFyNUVtZAnhX',
    /** Only in the `next` URL, percent-encoded there (`%3D`). */
    fromNextUrl: 'MTAyMzcxMjM0NTY3ODkwMTI=',
  };

  it.each([
    [
      'continues after a page with only cursors.after and next',
      'paging-after-and-next',
      {
        items: ['t_10231567890123456', 't_10232678901234567', 't_10233789012345678'],
        after: C.afterAndNext,
      },
    ],
    [
      'ends the list at a page with only cursors and no next, even a full one',
      'paging-cursors-only',
      {
        items: ['t_10238234567890123', 't_10239345678901234', 't_10240456789012345'],
        after: null,
      },
    ],
    ['continues past an EMPTY page that has next', 'paging-empty-with-next', { items: [], after: C.empty }],
    [
      'continues past a short page that has next',
      'paging-short-with-next',
      { items: ['t_10234890123456789'], after: C.short },
    ],
    [
      "takes the cursor from the next URL's after when paging has no cursors",
      'paging-next-without-cursors',
      {
        items: ['t_10235901234567890', 't_10236012345678901', 't_10237123456789012'],
        after: C.fromNextUrl,
      },
    ],
    [
      'ends the list at a page with only previous',
      'paging-previous-only',
      { items: ['t_10241567890123456'], after: null },
    ],
  ] as const)('%s', async (_title, fixture, expected) => {
    expect(await idsOnce(fixture)).toEqual(expected);
  });

  it('walks every paging variant to the end, sending each cursor back as after', async () => {
    const g = await serve(
      byCursor({
        '': 'paging-after-and-next',
        [C.afterAndNext]: 'paging-empty-with-next',
        [C.empty]: 'paging-short-with-next',
        [C.short]: 'paging-next-without-cursors',
        [C.fromNextUrl]: 'paging-cursors-only',
      }),
    );

    const pages = await walk(clientFor(g), { limit: 3 });

    expect(pages.flatMap((p) => p.items)).toEqual([
      't_10231567890123456',
      't_10232678901234567',
      't_10233789012345678',
      't_10234890123456789',
      't_10235901234567890',
      't_10236012345678901',
      't_10237123456789012',
      't_10238234567890123',
      't_10239345678901234',
      't_10240456789012345',
    ]);
    expect(g.requests.map((r) => r.url.searchParams.get('after'))).toEqual([
      null,
      C.afterAndNext,
      C.empty,
      C.short,
      C.fromNextUrl,
    ]);
    expect(g.requests.map((r) => r.url.searchParams.get('limit'))).toEqual(['3', '3', '3', '3', '3']);
  });
});

describe('GraphClient on recorded timestamps', () => {
  it('parses +0000 and -0700 timestamps to the right instant', async () => {
    const page = await listOnce('timestamps-offsets');

    const [offset, utc] = page.items;
    // 12:11:07-0700 and 19:11:07+0000 are the same instant.
    expect(offset?.updated_time).toBe('2022-07-12T19:11:07.000Z');
    expect(utc?.updated_time).toBe('2022-07-12T19:11:07.000Z');
    expect(offset?.messages?.data.map((m) => m.created_time)).toEqual([
      '2022-07-12T19:11:07.000Z',
      '2022-07-12T06:59:30.000Z', // 2022-07-11T23:59:30-0700: the next day in UTC
      '2022-07-11T17:05:00.000Z',
    ]);
    expect(utc?.messages?.data[0]?.created_time).toBe('2022-07-12T19:11:07.000Z');
  });
});

describe('GraphClient on recorded errors', () => {
  it.each([
    [1, 'unknown error', 'error-1-unknown'],
    [2, 'temporary service error', 'error-2-service'],
    [4, 'app rate limit', 'error-4-app-rate-limit'],
    [17, 'user rate limit', 'error-17-user-rate-limit'],
    [32, 'Page request limit', 'error-32-page-rate-limit'],
    [341, 'application limit', 'error-341-application-limit'],
    [613, 'calls exceeded the rate limit', 'error-613-rate-limit'],
    [80001, 'Page business-use-case limit', 'error-80001-page-buc'],
    [80002, 'Instagram business-use-case limit', 'error-80002-instagram-buc'],
    [80006, 'Messenger calls to this Page', 'error-80006-messenger-buc'],
  ])('retries error %i (%s) with a short backoff, then succeeds', async (code, _meaning, fixture) => {
    expect(recorded(fixture).body).toMatchObject({ error: { code } });
    const g = await serve(inSequence(fixture, fixture, 'paging-cursors-only'));

    const page = await listIds(clientFor(g), request({ limit: 3 }));

    expect(page.items).toEqual(['t_10238234567890123', 't_10239345678901234', 't_10240456789012345']);
    expect(g.requests).toHaveLength(3);
    const waits = requestedWaits();
    expect(waits).toHaveLength(2);
    for (const ms of waits) expect(ms).toBeLessThan(OPTIONS.maxWaitMs);
  });

  it('gives up on a retryable error after maxAttempts calls', async () => {
    const g = await serve(() => recorded('error-80002-instagram-buc'));

    const error = await graphError(
      clientFor(g).listConversations(request({ platform: 'instagram', pageId: IG_ACCOUNT_ID })),
    );

    expect(error).toMatchObject({ code: 80002, kind: 'retryable', httpStatus: 400 });
    expect(g.requests).toHaveLength(OPTIONS.maxAttempts);
  });

  it.each<[number, GraphErrorKind, string, number, RegExp]>([
    [
      368,
      'blocked',
      'error-368-policy-block',
      400,
      /temporarily blocked.*policy block 368.*try again later/i,
    ],
    [
      10,
      'permission',
      'error-10-permission',
      403,
      /missing a permission.*Graph error 10\b.*reconnect the page/,
    ],
    [
      200,
      'permission',
      'error-200-permission',
      403,
      /missing a permission.*Graph error 200\b.*reconnect the page/,
    ],
    [100, 'invalid', 'error-100-invalid-parameter', 400, /Graph error 100\b/],
  ])('does not retry error %i (%s)', async (code, kind, fixture, httpStatus, userMessage) => {
    const g = await serve(inSequence(fixture, 'paging-cursors-only'));

    const error = await graphError(clientFor(g).listConversations(request()));

    expect(error).toMatchObject({ code, kind, httpStatus });
    expect(error.userMessage()).toMatch(userMessage);
    expect(g.requests).toHaveLength(1);
    expect(requestedWaits()).toEqual([]);
  });

  it.each([
    [458, 'error-190-458-app-not-installed', 400, /the app is not installed/],
    [460, 'error-190-460-password-changed', 400, /the password was changed/],
    [463, 'error-190-463-expired', 400, /the access token expired/],
    [467, 'error-190-467-invalid-token', 401, /the access token is invalid/],
  ])(
    'does not retry token error 190/%i and tells the user why to reconnect the page',
    async (subcode, fixture, httpStatus, reason) => {
      const g = await serve(inSequence(fixture, 'paging-cursors-only'));

      const error = await graphError(listIds(clientFor(g), request()));

      expect(error).toMatchObject({ code: 190, subcode, kind: 'token', httpStatus });
      expect(error.message).toContain(`190/${subcode}`);
      const userMessage = error.userMessage();
      expect(userMessage).toMatch(/reconnect the page/);
      expect(userMessage).toMatch(reason);
      expect(userMessage).not.toContain('Error validating access token');
      expect(userMessage).not.toContain(TOKEN);
      expect(g.requests).toHaveLength(1);
      expect(requestedWaits()).toEqual([]);
    },
  );

  it('retries an HTML 502 body as retryable, then succeeds', async () => {
    expect(recorded('error-502-html').body).toEqual(expect.stringContaining('<!DOCTYPE html>'));
    const g = await serve(inSequence('error-502-html', 'error-502-html', 'paging-cursors-only'));

    const page = await listIds(clientFor(g), request());

    expect(page.items).toHaveLength(3);
    expect(g.requests).toHaveLength(3);
  });

  it('reports an HTML 502 that lasts as a retryable error once maxAttempts are spent', async () => {
    const g = await serve(() => recorded('error-502-html'));

    const error = await graphError(listIds(clientFor(g), request()));

    expect(error).toMatchObject({ httpStatus: 502, kind: 'retryable' });
    expect(g.requests).toHaveLength(OPTIONS.maxAttempts);
  });

  it('waits out X-Business-Use-Case-Usage estimated_time_to_regain_access, but at most maxWaitMs', async () => {
    const usage = recorded('error-80006-regain-access').headers['x-business-use-case-usage'] ?? '';
    expect(JSON.parse(usage)).toMatchObject({
      [PAGE_ID]: [{ type: 'messenger', estimated_time_to_regain_access: 5 }, { type: 'pages' }],
    });
    const g = await serve(inSequence('error-80006-regain-access', 'paging-cursors-only'));

    const page = await listIds(clientFor(g), request());

    expect(page.items).toHaveLength(3);
    expect(g.requests).toHaveLength(2);
    // 5 minutes asked for, capped at maxWaitMs (a plain backoff here would be under 2 ms).
    expect(requestedWaits()).toEqual([OPTIONS.maxWaitMs]);
  });

  it('reads estimated_time_to_regain_access in minutes', async () => {
    // A cap above 5 minutes shows the full wait; the wait itself is cut short, nothing sleeps.
    const stop = new Error('test: skip the wait');
    sleepMock.mockImplementationOnce(() => Promise.reject(stop));
    const g = await serve(inSequence('error-80006-regain-access', 'paging-cursors-only'));
    const client = new GraphClient(g.baseUrl, { ...OPTIONS, maxWaitMs: 10 * 60_000 });

    await expect(listIds(client, request())).rejects.toBe(stop);

    expect(requestedWaits()).toEqual([5 * 60_000]);
    expect(g.requests).toHaveLength(1);
  });
});

describe('GraphClient requests', () => {
  it('asks for participants and the 20 most recent messages by field expansion, for the platform', async () => {
    const g = await serve((n) =>
      recorded(n === 0 ? 'messenger-conversations-expanded' : 'instagram-conversations'),
    );
    const client = clientFor(g);

    await client.listConversations(request());
    await client.listConversations(request({ platform: 'instagram', limit: 10 }));

    expect(g.requests).toHaveLength(2);
    const [messenger, instagram] = g.requests.map((r) => r.url);
    expect(messenger?.pathname).toBe(`/v21.0/${PAGE_ID}/conversations`);
    expect(messenger?.searchParams.get('platform')).toBe('messenger');
    expect(messenger?.searchParams.get('limit')).toBe('25');
    expect(instagram?.searchParams.get('platform')).toBe('instagram');
    expect(instagram?.searchParams.get('limit')).toBe('10');
    for (const url of [messenger, instagram]) {
      const fields = topLevelFields(url?.searchParams.get('fields') ?? '');
      expect(fields).toEqual(expect.arrayContaining(['id', 'updated_time', 'message_count', 'participants']));
      const messages = fields.filter((f) => f.startsWith('messages'));
      expect(messages).toHaveLength(1);
      const expansion = /^messages\.limit\(20\)\{(.+)\}$/.exec(messages[0] ?? '');
      expect(expansion?.[1]?.split(',')).toEqual(
        expect.arrayContaining(['id', 'created_time', 'from', 'to', 'message']),
      );
    }
  });

  it('sends the token only as Authorization: Bearer, never in the URL, though Graph puts it in next', async () => {
    const expanded = recorded('messenger-conversations-expanded');
    expect(JSON.stringify(expanded.body)).toContain(`access_token=${TOKEN}`);
    const next = byCursor({
      '': 'messenger-conversations-expanded',
      'QVFIr3IRh6mYNDjE_l-WJw7z0LSS2d2Y6u1dy3mhhc1PrgKKFkntMNdFCseHYvfumAxXvYp81mtslk9t-BWkM7vrTS3_Akn_ZAEZ':
        'conversations-without-data',
    });
    // The first call fails once, so a retried request is checked too.
    const g = await serve((n, url) => (n === 0 ? recorded('error-2-service') : next(n, url)));
    const client = clientFor(g);

    const first = await client.listConversations(request());
    const second = await client.listConversations(request({ after: first.after }));

    expect(second.items).toHaveLength(3);
    expect(g.requests).toHaveLength(3);
    for (const { url, headers } of g.requests) {
      expect(headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(url.href).not.toContain(TOKEN);
      expect(url.searchParams.has('access_token')).toBe(false);
      expect(url.searchParams.has('pretty')).toBe(false);
    }
  });
});
