/**
 * A Meta Graph API simulator for the local stack and tests: a plain node:http server that answers the
 * Conversations API, message and profile reads the way Meta's Graph API reference describes them
 * (paging, field expansion, the 20-message detail limit, error shapes, usage headers, rate limits).
 *
 * Rate limits and usage headers:
 * - Conversations-API calls (`/{page}/conversations`, `/{conversation}`, `/{conversation}/messages`,
 *   `/{message}`) count against a rate-limit account: the Page for Messenger, the Instagram account for
 *   Instagram. Each account has a sliding window of 1 s; when `rateLimitPerSecond` is a number, a call
 *   finding that many accepted calls in the last second is rejected (HTTP 400, code 80006 for
 *   Messenger, 80002 for Instagram). Rejected calls do not extend the window. `null` disables it.
 * - `X-Business-Use-Case-Usage` on those calls: `{"<page-or-ig-id>":[{"type":"messenger"|"instagram",
 *   "call_count":P,"total_cputime":P/4,"total_time":P/2,"estimated_time_to_regain_access":0}]}` where
 *   P = 100 × (accepted calls in the last second) / rateLimitPerSecond (so 100 = the next call is
 *   throttled; a rejected call reports above 100). `estimated_time_to_regain_access` is in minutes, as
 *   in Graph: the simulator's block lasts under a second, so it is 0.
 * - Other calls with a page token (page and profile reads) report `{"<page-id>":[{"type":"pages",...}]}`
 *   against an allowance of 10 × rateLimitPerSecond per second, never enforced.
 * - `X-App-Usage` `{"call_count":P,"total_time":P/2,"total_cputime":P/4}`: every Graph call in the
 *   last second against an allowance of 10 × rateLimitPerSecond, never enforced.
 * - With `rateLimitPerSecond: null` every percentage is 0 (no allowance in force).
 *
 * Stats: `callsByPage` counts every authenticated call by the page of its token;
 * `maxCallsInAnyOneSecondByPage` is the peak number of Conversations-API calls (accepted or rejected)
 * in any sliding 1-second window, keyed by rate-limit account (page id, or Instagram account id).
 * `callsByPath` is keyed by route template, e.g. `/{page-id}/conversations`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type FieldSpec, FieldSyntaxError, parseFields, serializeFields } from './fields.ts';
import {
  conversationCustomer,
  conversationMessages,
  customerProfile,
  decodeMessageId,
  hash32,
  MESSAGE_DETAIL_LIMIT,
  mulberry32,
  type Rng,
  type SimAttachment,
  type SimConversation,
  type SimMessage,
  type SimPage,
  type SimParticipant,
  type SimPlatform,
} from './seed.ts';

export interface SimFaults {
  /** Probability (0..1) that a Graph call is answered with an injected error. */
  rate: number;
  /** Error codes to choose from (uniformly): 1, 2, 4, 17, 32, 341, 368, 613, 80001, 80002, 80006, 190, 10, 200… → HTTP 400; 500 → HTTP 500 with code 1. */
  codes: number[];
  /** PRNG seed of the fault draws (default 1). */
  seed?: number;
}

export interface SimStats {
  totalCalls: number;
  callsByPage: Record<string, number>;
  callsByPath: Record<string, number>;
  rateLimitRejections: number;
  maxCallsInAnyOneSecondByPage: Record<string, number>;
  /** Calls answered with an injected fault. */
  faultsInjected: number;
}

export interface GraphSimulatorOptions {
  port?: number;
  host?: string;
  latencyMs?: number;
  pages: SimPage[];
  /** Calls per second per rate-limit account; default 2 (the documented limit); null disables enforcement. */
  rateLimitPerSecond?: number | null;
  faults?: SimFaults | null;
}

export interface GraphSimulator {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `${url}/v21.0` */
  baseUrl: string;
  port: number;
  close(): Promise<void>;
  stats(): SimStats;
  /** Clears the counters and the rate-limit windows. */
  resetStats(): void;
  /** Changes (or with null, disables) fault injection; restarts the fault PRNG. */
  setFaults(faults: SimFaults | null): void;
}

const DEFAULT_VERSION = 'v21.0';
const DEFAULT_LIST_LIMIT = 25;
const MAX_LIST_LIMIT = 100;
const WINDOW_MS = 1000;

// ---------------------------------------------------------------------------------------------
// Errors

interface GraphErrorInit {
  status?: number;
  code: number;
  message: string;
  type?: string;
  subcode?: number;
}

class GraphError extends Error {
  readonly status: number;
  readonly code: number;
  readonly type: string;
  readonly subcode: number | undefined;

  constructor(init: GraphErrorInit) {
    super(init.message);
    this.status = init.status ?? 400;
    this.code = init.code;
    this.type = init.type ?? 'OAuthException';
    this.subcode = init.subcode;
  }
}

const invalidParam = (message: string) => new GraphError({ code: 100, message: `(#100) ${message}` });

const unsupportedGet = (id: string) =>
  new GraphError({
    code: 100,
    subcode: 33,
    type: 'GraphMethodException',
    message: `Unsupported get request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
  });

const unknownPath = (path: string) =>
  new GraphError({ status: 404, code: 100, message: `Unknown path components: ${path}` });

const nonexistingField = (field: string, nodeType: string) =>
  invalidParam(`Tried accessing nonexisting field (${field}) on node type (${nodeType})`);

const messageDeleted = () => new GraphError({ code: 100, message: 'This message has been deleted' });

const RATE_LIMIT_MESSAGES: Record<number, string> = {
  80001:
    '(#80001) There have been too many calls to this Page account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.',
  80002:
    '(#80002) There have been too many calls to this Instagram account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.',
  80006:
    '(#80006) There have been too many messenger api calls to this Page account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.',
};

const FAULT_MESSAGES: Record<number, { message: string; subcode?: number }> = {
  1: { message: 'An unknown error occurred' },
  2: { message: 'An unexpected error has occurred. Please retry your request later.' },
  4: { message: '(#4) Application request limit reached' },
  10: { message: '(#10) Application does not have permission for this action' },
  17: { message: '(#17) User request limit reached' },
  32: { message: '(#32) Page request limit reached' },
  190: { message: 'Error validating access token: The session has been invalidated.', subcode: 467 },
  200: { message: '(#200) Requires pages_messaging permission to manage the object' },
  341: { message: '(#341) Application limit reached' },
  368: { message: '(#368) The action attempted has been deemed abusive or is otherwise disallowed' },
  613: { message: '(#613) Calls to this api have exceeded the rate limit.' },
  80001: { message: RATE_LIMIT_MESSAGES[80001] ?? '' },
  80002: { message: RATE_LIMIT_MESSAGES[80002] ?? '' },
  80006: { message: RATE_LIMIT_MESSAGES[80006] ?? '' },
};

function faultError(code: number): GraphError {
  if (code === 500) return new GraphError({ status: 500, code: 1, message: 'An unknown error occurred' });
  const known = FAULT_MESSAGES[code];
  return new GraphError({
    code,
    message: known?.message ?? `(#${code}) Simulated error`,
    subcode: known?.subcode,
  });
}

// ---------------------------------------------------------------------------------------------
// Cursors: base64url of `sim1:<scope-hash>:<index>`, bound to one list.

function encodeCursor(scope: string, index: number): string {
  return Buffer.from(`sim1:${hash32(scope).toString(16).padStart(8, '0')}:${index}`).toString('base64url');
}

function decodeCursor(raw: string, scope: string, total: number, param: string): number {
  const invalid = () => invalidParam(`The parameter ${param} is not a valid cursor`);
  if (!/^[A-Za-z0-9_-]{1,200}={0,2}$/.test(raw)) throw invalid();
  const match = /^sim1:([0-9a-f]{8}):(\d{1,9})$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  if (!match?.[2] || match[1] !== hash32(scope).toString(16).padStart(8, '0')) throw invalid();
  const index = Number(match[2]);
  if (index >= total) throw invalid();
  return index;
}

interface Window {
  start: number;
  end: number;
}

function listWindow(
  total: number,
  limit: number,
  after: string | null,
  before: string | null,
  scope: string,
  cap = Number.POSITIVE_INFINITY,
): Window {
  let start: number;
  let end: number;
  if (after !== null) {
    start = decodeCursor(after, scope, total, 'after') + 1;
    end = start + limit;
  } else if (before !== null) {
    end = decodeCursor(before, scope, total, 'before');
    start = Math.max(0, end - limit);
  } else {
    start = 0;
    end = limit;
  }
  if (start >= cap && start < total) throw messageDeleted();
  return { start, end: Math.max(start, Math.min(end, total, cap)) };
}

interface Paging {
  cursors?: { before: string; after: string };
  next?: string;
  previous?: string;
}

function buildPaging(
  window: Window,
  total: number,
  scope: string,
  link: (param: 'after' | 'before', cursor: string) => string,
): Paging | undefined {
  if (window.end <= window.start) return undefined;
  const before = encodeCursor(scope, window.start);
  const after = encodeCursor(scope, window.end - 1);
  const paging: Paging = { cursors: { before, after } };
  if (window.start > 0) paging.previous = link('before', before);
  if (window.end < total) paging.next = link('after', after);
  return paging;
}

function parseLimit(raw: string | null | undefined, fallback: number, max: number): number {
  if (raw === null || raw === undefined || raw.trim() === '') return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw invalidParam(`Param limit must be an integer, got "${raw}"`);
  return Math.min(max, Math.max(1, Number(raw.trim())));
}

// ---------------------------------------------------------------------------------------------
// Rendering

const CONVERSATION_FIELDS = new Set([
  'id',
  'updated_time',
  'message_count',
  'unread_count',
  'participants',
  'senders',
  'messages',
  'snippet',
  'link',
  'can_reply',
  'is_subscribed',
  'former_participants',
  'scoped_thread_key',
]);
const MESSAGE_FIELDS = new Set([
  'id',
  'created_time',
  'from',
  'to',
  'message',
  'attachments',
  'sticker',
  'tags',
  'is_unsupported',
  'reply_to',
  'story',
  'shares',
  'reactions',
]);
const PARTICIPANT_FIELDS = new Set(['id', 'name', 'email', 'username']);
const ATTACHMENT_FIELDS = new Set([
  'id',
  'mime_type',
  'name',
  'size',
  'image_data',
  'file_url',
  'video_data',
]);
const PAGE_FIELDS = new Set(['id', 'name', 'instagram_business_account']);
const IG_ACCOUNT_FIELDS = new Set(['id', 'username', 'name']);
const MESSENGER_PROFILE_FIELDS = new Set(['id', 'name', 'first_name', 'last_name', 'profile_pic']);
const INSTAGRAM_PROFILE_FIELDS = new Set([
  'id',
  'name',
  'username',
  'profile_pic',
  'follower_count',
  'is_user_follow_business',
  'is_business_follow_user',
  'is_verified_user',
]);

const plain = (names: string[]): FieldSpec[] => names.map((name) => ({ name, modifiers: {} }));

function checkFields(specs: readonly FieldSpec[] | undefined, allowed: Set<string>, nodeType: string): void {
  for (const spec of specs ?? []) if (!allowed.has(spec.name)) throw nonexistingField(spec.name, nodeType);
}

function parseFieldsParam(raw: string | null): FieldSpec[] | undefined {
  if (raw === null || raw.trim() === '') return undefined;
  try {
    return parseFields(raw);
  } catch (error) {
    if (error instanceof FieldSyntaxError) throw invalidParam(error.message);
    throw error;
  }
}

/** Copies the requested keys of a plain object (all of them without a selection), recursing into `{data}` lists. */
function pickObject(value: unknown, children: readonly FieldSpec[] | undefined): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => pickObject(item, children));
  const source = value as Record<string, unknown>;
  if (!children) return structuredClone(source);
  if (Array.isArray(source.data) && !children.some((c) => c.name === 'data')) {
    return { data: source.data.map((item) => pickObject(item, children)) };
  }
  const out: Record<string, unknown> = {};
  for (const child of children) {
    const field = source[child.name];
    if (field !== undefined) out[child.name] = pickObject(field, child.children);
  }
  return out;
}

function renderParticipants(list: readonly SimParticipant[], children: FieldSpec[] | undefined): unknown {
  checkFields(children, PARTICIPANT_FIELDS, 'User');
  return { data: list.map((p) => pickObject(p, children)) };
}

function renderAttachments(list: readonly SimAttachment[], mid: string, children: FieldSpec[] | undefined) {
  checkFields(children, ATTACHMENT_FIELDS, 'MessageAttachment');
  const scope = `attachments:${mid}`;
  return {
    data: list.map((a) => pickObject(a, children)),
    paging: { cursors: { before: encodeCursor(scope, 0), after: encodeCursor(scope, list.length - 1) } },
  };
}

function renderMessage(message: SimMessage, specs: FieldSpec[] | undefined): Record<string, unknown> {
  const selection = specs ?? plain(['id', 'created_time']);
  checkFields(selection, MESSAGE_FIELDS, 'Message');
  const out: Record<string, unknown> = { id: message.id };
  for (const spec of selection) {
    switch (spec.name) {
      case 'id':
        break;
      case 'created_time':
        out.created_time = message.created_time;
        break;
      case 'message':
        out.message = message.message;
        break;
      case 'from':
        out.from = pickObject(message.from, spec.children);
        break;
      case 'to':
        out.to = renderParticipants(message.to.data, spec.children);
        break;
      case 'attachments':
        if (message.attachments)
          out.attachments = renderAttachments(message.attachments.data, message.id, spec.children);
        break;
      case 'sticker':
        if (message.sticker !== undefined) out.sticker = message.sticker;
        break;
      case 'tags':
        if (message.tags) out.tags = pickObject(message.tags, spec.children);
        break;
      case 'is_unsupported':
        if (message.is_unsupported !== undefined) out.is_unsupported = message.is_unsupported;
        break;
      default:
        // reply_to, story, shares, reactions: no data in the simulator, so omitted as Graph does.
        break;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Object index

interface PageEntry {
  page: SimPage;
}

type Target =
  | { kind: 'page'; entry: PageEntry }
  | { kind: 'ig-account'; entry: PageEntry }
  | { kind: 'conversation'; entry: PageEntry; conversation: SimConversation }
  | { kind: 'user'; entry: PageEntry; conversation: SimConversation }
  | { kind: 'message'; entry: PageEntry; conversation: SimConversation; positionFromNewest: number };

interface Bucket {
  /** Object id the usage header is keyed by (page id or Instagram account id). */
  id: string;
  type: 'messenger' | 'instagram' | 'pages';
  /** Whether the Conversations API rate limit applies. */
  limited: boolean;
}

class SlidingWindow {
  private times: number[] = [];

  count(now: number): number {
    const cutoff = now - WINDOW_MS;
    let drop = 0;
    while (drop < this.times.length && (this.times[drop] ?? 0) <= cutoff) drop++;
    if (drop > 0) this.times.splice(0, drop);
    return this.times.length;
  }

  add(now: number): number {
    this.times.push(now);
    return this.count(now);
  }
}

function platformOf(raw: string | null): SimPlatform {
  if (raw === null || raw === '') return 'messenger';
  const value = raw.toLowerCase();
  if (value === 'messenger' || value === 'instagram') return value;
  throw invalidParam(`param platform must be one of {MESSENGER, INSTAGRAM} - got "${raw}"`);
}

interface Reply {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitUntil(deadline: number): Promise<void> {
  for (;;) {
    const remaining = deadline - performance.now();
    if (remaining <= 0) return;
    await sleep(Math.ceil(remaining));
  }
}

function emptyStats(): SimStats {
  return {
    totalCalls: 0,
    callsByPage: {},
    callsByPath: {},
    rateLimitRejections: 0,
    maxCallsInAnyOneSecondByPage: {},
    faultsInjected: 0,
  };
}

const bump = (record: Record<string, number>, key: string, by = 1) => {
  record[key] = (record[key] ?? 0) + by;
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// ---------------------------------------------------------------------------------------------
// Server

export async function startGraphSimulator(opts: GraphSimulatorOptions): Promise<GraphSimulator> {
  const host = opts.host ?? '127.0.0.1';
  const latencyMs = Math.max(0, opts.latencyMs ?? 0);
  const rateLimit = opts.rateLimitPerSecond === undefined ? 2 : opts.rateLimitPerSecond;
  if (rateLimit !== null && !(rateLimit > 0)) throw new Error('rateLimitPerSecond must be > 0 or null');

  // Index every object by id.
  const tokens = new Map<string, PageEntry>();
  const objects = new Map<string, Target>();
  const conversationsById = new Map<string, { entry: PageEntry; conversation: SimConversation }>();
  for (const page of opts.pages) {
    const entry: PageEntry = { page };
    tokens.set(page.accessToken, entry);
    objects.set(page.id, { kind: 'page', entry });
    if (page.instagramAccountId) objects.set(page.instagramAccountId, { kind: 'ig-account', entry });
    for (const list of [page.conversations.messenger, page.conversations.instagram]) {
      for (const conversation of list) {
        objects.set(conversation.id, { kind: 'conversation', entry, conversation });
        conversationsById.set(conversation.id, { entry, conversation });
        objects.set(conversationCustomer(conversation).id, { kind: 'user', entry, conversation });
      }
    }
  }

  let stats = emptyStats();
  let appWindow = new SlidingWindow();
  let acceptedWindows = new Map<string, SlidingWindow>();
  let attemptWindows = new Map<string, SlidingWindow>();
  let faults: SimFaults | null = opts.faults ?? null;
  let faultRng: Rng = mulberry32(faults?.seed ?? 1);
  let traceCounter = 0;
  let origin = '';

  const windowFor = (map: Map<string, SlidingWindow>, key: string) => {
    let window = map.get(key);
    if (!window) {
      window = new SlidingWindow();
      map.set(key, window);
    }
    return window;
  };

  const percent = (count: number, allowance: number | null) =>
    allowance === null ? 0 : Math.round((100 * count) / allowance);

  const usage = (callCount: number) => ({
    call_count: callCount,
    total_cputime: Math.floor(callCount / 4),
    total_time: Math.floor(callCount / 2),
  });

  const fbtraceId = () => {
    traceCounter++;
    const bytes = Buffer.alloc(8);
    bytes.writeUInt32BE(hash32(traceCounter, 'trace'));
    bytes.writeUInt32BE(hash32(traceCounter, 'trace2'), 4);
    return bytes.toString('base64').replace(/[+/=]/g, '').slice(0, 11);
  };

  const resolve = (id: string): Target | undefined => {
    const direct = objects.get(id);
    if (direct) return direct;
    const decoded = decodeMessageId(id);
    if (!decoded) return undefined;
    const found = conversationsById.get(decoded.conversationId);
    if (!found || decoded.positionFromOldest >= found.conversation.message_count) return undefined;
    return {
      kind: 'message',
      entry: found.entry,
      conversation: found.conversation,
      positionFromNewest: found.conversation.message_count - 1 - decoded.positionFromOldest,
    };
  };

  /** The route's GET handler; throws GraphError. */
  const handle = (
    target: Target,
    edge: string | undefined,
    url: URL,
    requestOrigin: string,
    versionPrefix: string,
    platform: SimPlatform,
  ): unknown => {
    const query = url.searchParams;
    const fields = parseFieldsParam(query.get('fields'));
    const selfLink = (param: 'after' | 'before', cursor: string, limit: number) => {
      const params = new URLSearchParams(query);
      params.delete('after');
      params.delete('before');
      params.set('limit', String(limit));
      params.set(param, cursor);
      return `${requestOrigin}${url.pathname}?${params}`;
    };

    const renderConversation = (conversation: SimConversation, specs: FieldSpec[] | undefined) => {
      const selection = specs ?? plain(['id', 'updated_time']);
      checkFields(selection, CONVERSATION_FIELDS, 'Conversation');
      let messages: SimMessage[] | undefined;
      const allMessages = () => {
        messages ??= conversationMessages(conversation);
        return messages;
      };
      const out: Record<string, unknown> = { id: conversation.id };
      for (const spec of selection) {
        switch (spec.name) {
          case 'id':
            break;
          case 'updated_time':
            out.updated_time = conversation.updated_time;
            break;
          case 'message_count':
            out.message_count = conversation.message_count;
            break;
          case 'unread_count':
            out.unread_count = conversation.unread_count;
            break;
          case 'participants':
          case 'senders':
            out[spec.name] = renderParticipants(conversation.participants.data, spec.children);
            break;
          case 'messages':
            out.messages = renderMessagesEdge(conversation, allMessages(), spec.children, {
              limit: parseLimit(spec.modifiers.limit, MESSAGE_DETAIL_LIMIT, MESSAGE_DETAIL_LIMIT),
              after: null,
              before: null,
              link: (param, cursor, limit) => {
                const params = new URLSearchParams();
                const token = query.get('access_token');
                if (token !== null) params.set('access_token', token);
                if (spec.children) params.set('fields', serializeFields(spec.children));
                params.set('limit', String(limit));
                params.set(param, cursor);
                return `${requestOrigin}${versionPrefix}/${conversation.id}/messages?${params}`;
              },
            });
            break;
          case 'snippet': {
            const text = allMessages()[0]?.message ?? '';
            if (text !== '') out.snippet = text.slice(0, 100);
            break;
          }
          case 'link':
            out.link = `/${target.entry.page.id}/inbox/?selected_item_id=${conversationCustomer(conversation).id}`;
            break;
          case 'can_reply':
            out.can_reply = (conversation.seed & 0xf) !== 0;
            break;
          case 'is_subscribed':
            out.is_subscribed = true;
            break;
          case 'scoped_thread_key':
            if (conversation.platform === 'messenger')
              out.scoped_thread_key = `t_${conversationCustomer(conversation).id}`;
            break;
          default:
            // former_participants: no data, omitted.
            break;
        }
      }
      return out;
    };

    const renderMessagesEdge = (
      conversation: SimConversation,
      messages: SimMessage[],
      specs: FieldSpec[] | undefined,
      page: {
        limit: number;
        after: string | null;
        before: string | null;
        link: (param: 'after' | 'before', cursor: string, limit: number) => string;
      },
    ) => {
      const scope = `messages:${conversation.id}`;
      const total = conversation.message_count;
      const window = listWindow(total, page.limit, page.after, page.before, scope, MESSAGE_DETAIL_LIMIT);
      const data = messages.slice(window.start, window.end).map((m) => renderMessage(m, specs));
      const paging = buildPaging(window, total, scope, (param, cursor) =>
        page.link(param, cursor, page.limit),
      );
      return paging ? { data, paging } : { data };
    };

    switch (target.kind) {
      case 'page': {
        if (edge === 'conversations') {
          const page = target.entry.page;
          if (platform === 'instagram' && !page.instagramAccountId) {
            throw invalidParam('This Page has no Instagram professional account connected');
          }
          const folder = query.get('folder') ?? 'inbox';
          if (!['inbox', 'page_done', 'other', 'pending', 'spam'].includes(folder)) {
            throw invalidParam(
              `param folder must be one of {inbox, page_done, other, pending, spam} - got "${folder}"`,
            );
          }
          let list = folder === 'inbox' ? page.conversations[platform] : [];
          const userId = query.get('user_id');
          if (userId) list = list.filter((c) => conversationCustomer(c).id === userId);
          const limit = parseLimit(query.get('limit'), DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT);
          const scope = `conversations:${page.id}:${platform}:${folder}:${userId ?? ''}`;
          const window = listWindow(list.length, limit, query.get('after'), query.get('before'), scope);
          const data = list.slice(window.start, window.end).map((c) => renderConversation(c, fields));
          const paging = buildPaging(window, list.length, scope, (param, cursor) =>
            selfLink(param, cursor, limit),
          );
          return paging ? { data, paging } : { data };
        }
        const selection = fields ?? plain(['id', 'name']);
        checkFields(selection, PAGE_FIELDS, 'Page');
        const page = target.entry.page;
        const out: Record<string, unknown> = { id: page.id };
        for (const spec of selection) {
          if (spec.name === 'name') out.name = page.name;
          if (spec.name === 'instagram_business_account' && page.instagramAccountId) {
            out.instagram_business_account = pickObject({ id: page.instagramAccountId }, spec.children);
          }
        }
        return out;
      }
      case 'ig-account': {
        const selection = fields ?? plain(['id', 'username']);
        checkFields(selection, IG_ACCOUNT_FIELDS, 'IGUser');
        const page = target.entry.page;
        const out: Record<string, unknown> = { id: page.instagramAccountId };
        for (const spec of selection) {
          if (spec.name === 'username') out.username = page.instagramUsername ?? 'mybusiness';
          if (spec.name === 'name') out.name = page.name;
        }
        return out;
      }
      case 'conversation': {
        const conversation = target.conversation;
        if (edge === 'messages') {
          const limit = parseLimit(query.get('limit'), MESSAGE_DETAIL_LIMIT, MAX_LIST_LIMIT);
          return renderMessagesEdge(conversation, conversationMessages(conversation), fields, {
            limit,
            after: query.get('after'),
            before: query.get('before'),
            link: (param, cursor, pageLimit) => selfLink(param, cursor, pageLimit),
          });
        }
        return renderConversation(conversation, fields);
      }
      case 'message': {
        if (target.positionFromNewest >= MESSAGE_DETAIL_LIMIT) throw messageDeleted();
        const message = conversationMessages(target.conversation)[target.positionFromNewest];
        if (!message) throw messageDeleted();
        return renderMessage(message, fields);
      }
      case 'user': {
        const conversation = target.conversation;
        const messenger = conversation.platform === 'messenger';
        const selection =
          fields ??
          plain(messenger ? ['first_name', 'last_name', 'profile_pic'] : ['name', 'username', 'profile_pic']);
        checkFields(selection, messenger ? MESSENGER_PROFILE_FIELDS : INSTAGRAM_PROFILE_FIELDS, 'User');
        const profile = customerProfile(conversation);
        if (profile.status === 'unavailable') {
          throw new GraphError({
            code: 100,
            subcode: 2018218,
            message: 'No profile available for this user',
          });
        }
        if (profile.status === 'empty') return {};
        const out: Record<string, unknown> = {};
        for (const spec of selection) {
          const value = profile.fields[spec.name];
          if (value !== undefined) out[spec.name] = value;
        }
        out.id = conversationCustomer(conversation).id;
        return out;
      }
    }
  };

  const handleGraph = (req: IncomingMessage, url: URL): Reply => {
    const now = performance.now();
    stats.totalCalls++;
    const appCount = appWindow.add(now);
    const headers: Record<string, string> = {
      'x-app-usage': JSON.stringify(usage(percent(appCount, rateLimit === null ? null : rateLimit * 10))),
    };
    const requestOrigin = req.headers.host ? `http://${req.headers.host}` : origin;
    let pathKey = 'unknown';
    try {
      const versionMatch = /^\/(v\d+\.\d+)(?=\/|$)/.exec(url.pathname);
      const version = versionMatch?.[1];
      headers['facebook-api-version'] = version ?? DEFAULT_VERSION;
      const versionPrefix = version ? `/${version}` : '';
      const rest = url.pathname.slice(versionPrefix.length);
      let segments: string[];
      try {
        segments = rest
          .split('/')
          .filter((s) => s.length > 0)
          .map(decodeURIComponent);
      } catch {
        throw unknownPath(rest);
      }
      const [id, edge] = segments;
      if (id === undefined || segments.length > 2) throw unknownPath(rest || '/');
      pathKey = edge ? `/{id}/${edge}` : '/{id}';
      if (req.method !== 'GET') {
        throw invalidParam(`Unsupported ${(req.method ?? '').toLowerCase()} request.`);
      }

      // Authentication.
      const bearer = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
      const token = url.searchParams.get('access_token') ?? bearer;
      if (!token) {
        throw new GraphError({
          code: 190,
          subcode: 467,
          message: 'An access token is required to request this resource.',
        });
      }
      const entry = tokens.get(token);
      if (!entry) {
        if (token === 'expired-token') {
          throw new GraphError({
            code: 190,
            subcode: 463,
            message:
              'Error validating access token: Session has expired. The current time is later than the expiry time.',
          });
        }
        throw new GraphError({
          code: 190,
          subcode: 467,
          message: 'Invalid OAuth access token - Cannot parse access token',
        });
      }
      bump(stats.callsByPage, entry.page.id);

      // Resolution.
      const target = id === 'me' ? ({ kind: 'page', entry } as const) : resolve(id);
      if (!target || target.entry !== entry) throw unsupportedGet(id);
      const allowedEdge =
        target.kind === 'page' ? 'conversations' : target.kind === 'conversation' ? 'messages' : null;
      if (edge !== undefined && edge !== allowedEdge) throw unknownPath(`/${edge}`);
      const template: Record<Target['kind'], string> = {
        page: '/{page-id}',
        'ig-account': '/{ig-user-id}',
        conversation: '/{conversation-id}',
        user: '/{user-id}',
        message: '/{message-id}',
      };
      pathKey = `${template[target.kind]}${edge ? `/${edge}` : ''}`;

      let platform: SimPlatform = 'messenger';
      let bucket: Bucket;
      const page = entry.page;
      const platformBucket = (p: SimPlatform): Bucket =>
        p === 'instagram'
          ? { id: page.instagramAccountId ?? page.id, type: 'instagram', limited: true }
          : { id: page.id, type: 'messenger', limited: true };
      switch (target.kind) {
        case 'page':
          if (edge === 'conversations') {
            platform = platformOf(url.searchParams.get('platform'));
            bucket = platformBucket(platform);
          } else {
            bucket = { id: page.id, type: 'pages', limited: false };
          }
          break;
        case 'conversation':
        case 'message':
          platform = target.conversation.platform;
          bucket = platformBucket(platform);
          break;
        default:
          bucket = { id: page.id, type: 'pages', limited: false };
      }

      // Rate limit.
      const bucketKey = `${bucket.type}:${bucket.id}`;
      let callCount: number;
      let rejected = false;
      if (bucket.limited) {
        const attempts = windowFor(attemptWindows, bucketKey).add(now);
        const peak = stats.maxCallsInAnyOneSecondByPage;
        peak[bucket.id] = Math.max(peak[bucket.id] ?? 0, attempts);
        const accepted = windowFor(acceptedWindows, bucketKey);
        const inWindow = accepted.count(now);
        if (rateLimit !== null && inWindow >= rateLimit) {
          rejected = true;
          callCount = percent(inWindow + 1, rateLimit);
        } else {
          callCount = percent(accepted.add(now), rateLimit);
        }
      } else {
        callCount = percent(
          windowFor(acceptedWindows, bucketKey).add(now),
          rateLimit === null ? null : rateLimit * 10,
        );
      }
      headers['x-business-use-case-usage'] = JSON.stringify({
        [bucket.id]: [{ type: bucket.type, ...usage(callCount), estimated_time_to_regain_access: 0 }],
      });
      if (rejected) {
        stats.rateLimitRejections++;
        const code = platform === 'instagram' ? 80002 : 80006;
        throw new GraphError({ code, message: RATE_LIMIT_MESSAGES[code] ?? '' });
      }

      // Fault injection.
      if (faults && faults.codes.length > 0 && faultRng() < faults.rate) {
        const code = faults.codes[Math.floor(faultRng() * faults.codes.length)] ?? 1;
        stats.faultsInjected++;
        throw faultError(code);
      }

      const body = handle(target, edge, url, requestOrigin, versionPrefix, platform);
      return { status: 200, body, headers };
    } catch (error) {
      if (!(error instanceof GraphError)) throw error;
      const body: Record<string, unknown> = { message: error.message, type: error.type, code: error.code };
      if (error.subcode !== undefined) body.error_subcode = error.subcode;
      body.fbtrace_id = fbtraceId();
      return { status: error.status, body: { error: body }, headers };
    } finally {
      bump(stats.callsByPath, pathKey);
    }
  };

  const handleAdmin = async (req: IncomingMessage, url: URL): Promise<Reply> => {
    const headers = {};
    if (url.pathname === '/__sim/stats' && req.method === 'GET')
      return { status: 200, body: structuredClone(stats), headers };
    if (url.pathname === '/__sim/reset' && req.method === 'POST') {
      resetStats();
      return { status: 200, body: { ok: true }, headers };
    }
    if (url.pathname === '/__sim/faults' && req.method === 'POST') {
      const raw = (await readBody(req)).trim();
      try {
        const parsed = raw === '' ? null : (JSON.parse(raw) as unknown);
        if (parsed !== null && !isFaults(parsed))
          throw new Error('expected {rate:number, codes:number[], seed?:number} or null');
        setFaults(parsed);
        return { status: 200, body: { ok: true, faults }, headers };
      } catch (error) {
        return { status: 400, body: { error: { message: String(error) } }, headers };
      }
    }
    return {
      status: 404,
      body: { error: { message: `Unknown simulator admin route ${req.method} ${url.pathname}` } },
      headers,
    };
  };

  const resetStats = () => {
    stats = emptyStats();
    appWindow = new SlidingWindow();
    acceptedWindows = new Map();
    attemptWindows = new Map();
  };

  const setFaults = (next: SimFaults | null) => {
    if (next && (!(next.rate >= 0 && next.rate <= 1) || !Array.isArray(next.codes))) {
      throw new Error('faults.rate must be within 0..1 and faults.codes an array');
    }
    faults = next ? { ...next, codes: [...next.codes] } : null;
    faultRng = mulberry32(faults?.seed ?? 1);
  };
  setFaults(faults);

  const send = (res: ServerResponse, reply: Reply) => {
    if (res.destroyed) return;
    const payload = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      'content-type': 'application/json; charset=UTF-8',
      'content-length': Buffer.byteLength(payload),
      'cache-control': 'private, no-cache, no-store, must-revalidate',
      ...reply.headers,
    });
    res.end(payload);
  };

  const server = createServer((req, res) => {
    const arrival = performance.now();
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    void (async () => {
      try {
        if (url.pathname.startsWith('/__sim/')) {
          send(res, await handleAdmin(req, url));
          return;
        }
        const reply = handleGraph(req, url);
        reply.headers['x-fb-trace-id'] = fbtraceId();
        await waitUntil(arrival + latencyMs);
        send(res, reply);
      } catch (error) {
        send(res, {
          status: 500,
          body: {
            error: {
              message: `Simulator failure: ${String(error)}`,
              type: 'OAuthException',
              code: 1,
              fbtrace_id: fbtraceId(),
            },
          },
          headers: {},
        });
      }
    })();
  });

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  origin = `http://${urlHost}:${port}`;

  return {
    url: origin,
    baseUrl: `${origin}/${DEFAULT_VERSION}`,
    port,
    close: () =>
      new Promise<void>((resolveClose, rejectClose) => {
        server.close((error) => (error ? rejectClose(error) : resolveClose()));
        server.closeAllConnections();
      }),
    stats: () => structuredClone(stats),
    resetStats,
    setFaults,
  };
}

function isFaults(value: unknown): value is SimFaults {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.rate === 'number' &&
    Array.isArray(v.codes) &&
    v.codes.every((c) => typeof c === 'number') &&
    (v.seed === undefined || typeof v.seed === 'number')
  );
}
