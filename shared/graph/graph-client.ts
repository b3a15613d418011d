import { numberEnv, optionalEnv } from '../config.ts';
import type { Platform } from '../schemas.ts';
import { sleep } from '../sleep.ts';
import { GraphApiError } from './errors.ts';
import { type Conversation, ConversationList, GraphErrorBody } from './schemas.ts';

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

export interface ListRequest {
  pageId: string;
  platform: Platform;
  accessToken: string;
  after: string | null;
  limit: number;
  signal?: AbortSignal;
}

/**
 * Spaces calls per Page (2 calls/s by default, the Conversations API limit). This limiter holds
 * within one process; the cross-worker bucket is a later refinement (issue 4).
 */
class PerPageLimiter {
  private readonly nextSlot = new Map<string, number>();
  constructor(private readonly minIntervalMs: number) {}

  async wait(pageId: string, signal?: AbortSignal): Promise<void> {
    const now = Date.now();
    const slot = Math.max(now, this.nextSlot.get(pageId) ?? 0);
    this.nextSlot.set(pageId, slot + this.minIntervalMs);
    if (slot > now) await sleep(slot - now, signal);
  }
}

/** Minutes to wait from X-Business-Use-Case-Usage, if Graph told us. */
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

export class GraphClient {
  private readonly limiter: PerPageLimiter;

  constructor(
    private readonly baseUrl = optionalEnv('GRAPH_API_URL', DEFAULT_GRAPH_API_URL),
    private readonly options = {
      callsPerSecondPerPage: numberEnv('GRAPH_CALLS_PER_SECOND', 2),
      maxAttempts: 5,
      backoffBaseMs: numberEnv('GRAPH_BACKOFF_BASE_MS', 500),
      maxWaitMs: 30_000,
    },
  ) {
    this.limiter = new PerPageLimiter(1000 / this.options.callsPerSecondPerPage);
  }

  /** Discovery: ids only, to count conversations and lay out chunk cursors cheaply. */
  listConversationIds(req: ListRequest): Promise<ConversationPage<string>> {
    return this.list(req, 'id').then((page) => ({ items: page.items.map((c) => c.id), after: page.after }));
  }

  /** A chunk of conversations with participants and recent messages, in one call. */
  listConversations(req: ListRequest): Promise<ConversationPage<Conversation>> {
    return this.list(req, CONVERSATION_FIELDS);
  }

  private async list(req: ListRequest, fields: string): Promise<ConversationPage<Conversation>> {
    const params = new URLSearchParams({ platform: req.platform, fields, limit: String(req.limit) });
    if (req.after) params.set('after', req.after);
    const body = await this.get(`${req.pageId}/conversations`, params, req);
    const parsed = ConversationList.parse(body);
    return { items: parsed.data, after: parsed.paging?.next ? (parsed.paging.cursors?.after ?? null) : null };
  }

  private async get(
    path: string,
    params: URLSearchParams,
    req: Pick<ListRequest, 'pageId' | 'accessToken' | 'signal'>,
  ): Promise<unknown> {
    const url = `${this.baseUrl.replace(/\/$/, '')}/${path}?${params}`;
    for (let attempt = 1; ; attempt++) {
      await this.limiter.wait(req.pageId, req.signal);
      // The token travels in a header, never in a URL that could be logged.
      const response = await fetch(url, {
        headers: { Authorization: `Bearer ${req.accessToken}` },
        signal: req.signal,
      });
      const body: unknown = await response.json().catch(() => ({}));
      if (response.ok) return body;

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
