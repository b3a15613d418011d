import { numberEnv, optionalEnv } from '../config.ts';
import type { Platform } from '../schemas.ts';
import { sleep } from '../sleep.ts';
import { GraphApiError } from './graph-api-error.ts';
import { Conversation, ConversationList, GraphErrorBody, TokenOwner } from './graph-responses.ts';
import { budgetSlots, type CallLimiter, DynamoRateLimiter } from './rate-limiter.ts';

export const DEFAULT_GRAPH_API_URL = 'https://graph.facebook.com/v21.0';

/**
 * Field expansion: one list call brings a page of conversations with their participants and the
 * 20 most recent messages (the only ones Graph exposes in detail). No call per conversation.
 */
export const CONVERSATION_FIELDS =
  'id,updated_time,message_count,participants,messages.limit(20){id,created_time,from,to,message,attachments,sticker,is_unsupported}';

export interface ConversationPage<T> {
  items: T[];
  /** Cursor for the next page; null only when Graph sent no `paging.next`. */
  after: string | null;
}

export interface ConversationRequest {
  conversationId: string;
  pageId: string;
  /**
   * Whose rate-limit budget the call draws from. When omitted it follows from the id: Messenger
   * conversation ids start with `t_`, Instagram ones do not.
   */
  platform?: Platform;
  accessToken: string;
  signal?: AbortSignal;
}

export interface ListRequest {
  pageId: string;
  platform: Platform;
  accessToken: string;
  after: string | null;
  limit: number;
  signal?: AbortSignal;
}

/**
 * Keeps calls per budget (a Page's Messenger inbox, or its Instagram account) under the limit (2
 * calls/s by default, the Conversations API limit): at most `capacity` calls per `windowMs`. Graph counts a call when it *arrives*, which is somewhere between
 * our send and our receipt of the answer, so a slot is only free again `windowMs` after the answer
 * came back. Spacing sends alone is not enough: a call that travels slower than the one sent a window
 * later (a cold connection, a GC pause) lands in the same window and is throttled.
 * This limiter holds within one process; the cross-worker budget is shared/graph/rate-limiter.ts.
 */
class PerPageLimiter {
  private readonly capacity: number;
  private readonly windowMs: number;
  private readonly pages = new Map<string, PageSlots>();

  constructor(callsPerSecond: number) {
    ({ capacity: this.capacity, windowMs: this.windowMs } = budgetSlots(
      callsPerSecond,
      'callsPerSecondPerPage',
    ));
  }

  /** Runs `call` in a free slot of `pageId`, waiting (abortably) for one; callers are served in order. */
  async run<T>(pageId: string, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
    let slots = this.pages.get(pageId);
    if (!slots) {
      slots = { freeAt: new Array<number>(this.capacity).fill(0), turn: Promise.resolve(), released: [] };
      this.pages.set(pageId, slots);
    }
    const page = slots;
    const acquired = page.turn.then(() => this.acquire(page, signal));
    page.turn = acquired.then(
      () => undefined,
      () => undefined,
    );
    const slot = await acquired;
    try {
      return await call();
    } finally {
      page.freeAt[slot] = performance.now() + this.windowMs;
      for (const wake of page.released.splice(0)) wake();
    }
  }

  private async acquire(page: PageSlots, signal: AbortSignal | undefined): Promise<number> {
    for (;;) {
      signal?.throwIfAborted();
      let slot = 0;
      page.freeAt.forEach((freeAt, i) => {
        if (freeAt < (page.freeAt[slot] ?? 0)) slot = i;
      });
      const freeAt = page.freeAt[slot] ?? 0;
      const now = performance.now();
      if (freeAt <= now) {
        page.freeAt[slot] = Number.POSITIVE_INFINITY; // in flight: free again once answered
        return slot;
      }
      if (freeAt === Number.POSITIVE_INFINITY) await nextRelease(page, signal);
      else await sleep(Math.ceil(freeAt - now), signal);
    }
  }
}

interface PageSlots {
  /** Per slot, when it may be used again (performance.now() clock); +Infinity while its call is in flight. */
  freeAt: number[];
  /** The queue of callers waiting for a slot. */
  turn: Promise<void>;
  /** Wakes a caller waiting for an in-flight call to finish. */
  released: (() => void)[];
}

function nextRelease(page: PageSlots, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    page.released.push(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

/** The wait X-Business-Use-Case-Usage asks for (Graph gives minutes), in ms; 0 if it names none. */
function regainAccessMs(headers: Headers): number {
  const raw = headers.get('x-business-use-case-usage');
  if (!raw) return 0;
  try {
    const usage = JSON.parse(raw) as Record<string, { estimated_time_to_regain_access?: number }[]>;
    const minutes = Object.values(usage)
      .flat()
      .map((u) => u.estimated_time_to_regain_access ?? 0);
    return Math.max(0, ...minutes) * 60_000;
  } catch {
    return 0;
  }
}

/**
 * How long to pause after a successful call so usage never reaches 100%: nothing below 80%, then
 * rising to 2.5 s at 100%. It reads the budgets the per-Page limiter does not pace: the app's
 * (X-App-Usage) and the Page's time and CPU (X-Business-Use-Case-Usage total_time/total_cputime);
 * the Page's call_count is the limiter's job.
 */
export function slowDownMs(headers: Headers): number {
  const percents: number[] = [];
  try {
    const app = headers.get('x-app-usage');
    if (app) percents.push(...Object.values(JSON.parse(app) as Record<string, number>));
    const buc = headers.get('x-business-use-case-usage');
    if (buc) {
      for (const u of Object.values(JSON.parse(buc) as Record<string, Record<string, number>[]>).flat()) {
        percents.push(u.total_time ?? 0, u.total_cputime ?? 0);
      }
    }
  } catch {
    return 0;
  }
  const peak = Math.max(0, ...percents.filter((n) => Number.isFinite(n)));
  return peak < 80 ? 0 : Math.round((Math.min(peak, 100) - 75) * 100);
}

/**
 * The cursor of the next page, or null at the end. The list ends only when `paging.next` is absent
 * (a short or even empty page is not the end); any other part of `paging` may be missing, so the
 * cursor falls back to the `after` parameter of the `next` URL.
 */
function nextCursor(paging: ConversationList['paging']): string | null {
  if (!paging?.next) return null;
  if (paging.cursors?.after) return paging.cursors.after;
  let after: string | null = null;
  try {
    after = new URL(paging.next).searchParams.get('after');
  } catch {
    // not a URL: handled below
  }
  // Stopping here would silently drop the rest of the list.
  if (!after) throw new Error('Graph sent paging.next without an after cursor');
  return after;
}

/**
 * Without a shared table: one limiter per rate for the whole process, so every client in it draws
 * from the same per-Page budget.
 */
const limiters = new Map<number, PerPageLimiter>();
function limiterFor(callsPerSecond: number): PerPageLimiter {
  let limiter = limiters.get(callsPerSecond);
  if (!limiter) {
    limiter = new PerPageLimiter(callsPerSecond);
    limiters.set(callsPerSecond, limiter);
  }
  return limiter;
}

/**
 * Where the calls of all workers are counted: DynamoDB when RATE_LIMIT_TABLE is set (Lambda and
 * the embedded stack), else this process only (unit tests).
 */
let sharedLimiter: CallLimiter | undefined;
function defaultLimiter(callsPerSecond: number): CallLimiter {
  const table = process.env.RATE_LIMIT_TABLE;
  if (!table) return limiterFor(callsPerSecond);
  sharedLimiter ??= new DynamoRateLimiter(table, callsPerSecond);
  return sharedLimiter;
}

export class GraphClient {
  private readonly limiter: CallLimiter;

  constructor(
    private readonly baseUrl = optionalEnv('GRAPH_API_URL', DEFAULT_GRAPH_API_URL),
    private readonly options: {
      callsPerSecondPerPage: number;
      maxAttempts: number;
      backoffBaseMs: number;
      maxWaitMs: number;
      requestTimeoutMs?: number;
      limiter?: CallLimiter;
    } = {
      callsPerSecondPerPage: numberEnv('GRAPH_CALLS_PER_SECOND', 2),
      maxAttempts: 5,
      backoffBaseMs: numberEnv('GRAPH_BACKOFF_BASE_MS', 500),
      maxWaitMs: 30_000,
    },
  ) {
    this.limiter = this.options.limiter ?? defaultLimiter(this.options.callsPerSecondPerPage);
  }

  /** A chunk of conversations with participants and recent messages, in one call. */
  listConversations(req: ListRequest): Promise<ConversationPage<Conversation>> {
    return this.list(req, CONVERSATION_FIELDS);
  }

  /**
   * One conversation by id, in the shape of a `listConversations` item (same fields, limiter and
   * error handling): to read again a conversation whose last read failed.
   */
  async getConversation(req: ConversationRequest): Promise<Conversation> {
    const platform = req.platform ?? (req.conversationId.startsWith('t_') ? 'messenger' : 'instagram');
    const params = new URLSearchParams({ fields: CONVERSATION_FIELDS });
    const body = await this.get(encodeURIComponent(req.conversationId), params, { ...req, platform });
    return Conversation.parse(body);
  }

  /**
   * Who the token speaks for: `/me` with a Page token is the page (its id, name and Instagram
   * account). The call counts against `pageId`'s budget, the page the caller says the token is of.
   */
  async tokenOwner(req: { pageId: string; accessToken: string; signal?: AbortSignal }): Promise<TokenOwner> {
    const params = new URLSearchParams({ fields: 'id,name,instagram_business_account' });
    return TokenOwner.parse(await this.get('me', params, { ...req, platform: 'messenger' }));
  }

  /** Reads one conversation id of `platform`'s inbox: proves the token has messaging access. */
  async probeConversations(req: {
    pageId: string;
    platform: Platform;
    accessToken: string;
    signal?: AbortSignal;
  }): Promise<void> {
    const params = new URLSearchParams({ platform: req.platform, fields: 'id', limit: '1' });
    ConversationList.parse(await this.get(`${encodeURIComponent(req.pageId)}/conversations`, params, req));
  }

  private async list(req: ListRequest, fields: string): Promise<ConversationPage<Conversation>> {
    const params = new URLSearchParams({ platform: req.platform, fields, limit: String(req.limit) });
    if (req.after) params.set('after', req.after);
    const body = await this.get(`${req.pageId}/conversations`, params, req);
    const parsed = ConversationList.parse(body);
    return { items: parsed.data, after: nextCursor(parsed.paging) };
  }

  private async get(
    path: string,
    params: URLSearchParams,
    req: Pick<ListRequest, 'pageId' | 'platform' | 'accessToken' | 'signal'>,
  ): Promise<unknown> {
    // Messenger calls count against the Page, Instagram calls against its Instagram account.
    const budget = `${req.pageId}#${req.platform}`;
    const url = `${this.baseUrl.replace(/\/$/, '')}/${path}?${params}`;
    for (let attempt = 1; ; attempt++) {
      const { response, body } = await this.limiter.run(budget, req.signal, async () => {
        // The token travels in a header, never in a URL that could be logged.
        // A hung connection must not hold the page's slot forever.
        const timeout = AbortSignal.timeout(this.options.requestTimeoutMs ?? 30_000);
        const response = await fetch(url, {
          headers: { Authorization: `Bearer ${req.accessToken}` },
          signal: req.signal ? AbortSignal.any([req.signal, timeout]) : timeout,
        });
        const body: unknown = await response.json().catch(() => ({}));
        return { response, body };
      });
      if (response.ok) {
        const pause = slowDownMs(response.headers);
        if (pause > 0) await sleep(Math.min(pause, this.options.maxWaitMs), req.signal);
        return body;
      }

      const parsed = GraphErrorBody.safeParse(body);
      const error = parsed.success
        ? new GraphApiError(
            parsed.data.error.code,
            parsed.data.error.error_subcode,
            response.status,
            parsed.data.error.message,
          )
        : new GraphApiError(1, undefined, response.status, `HTTP ${response.status}`);
      if (error.kind !== 'retryable' || attempt >= this.options.maxAttempts) throw error;

      const backoff = this.options.backoffBaseMs * 2 ** (attempt - 1);
      const jitter = Math.random() * backoff;
      await sleep(
        Math.min(this.options.maxWaitMs, Math.max(backoff + jitter, regainAccessMs(response.headers))),
        req.signal,
      );
    }
  }
}
