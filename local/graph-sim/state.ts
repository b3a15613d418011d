/**
 * What the simulator serves, and how it changes while it runs: the pages' conversation lists (newest
 * first), an index of every object by id, and new customer messages added through `addMessages`.
 *
 * The `SimPage` objects the simulator was started with are never modified: a conversation that gets a
 * new message is copied first, and the lists are the simulator's own.
 */

import { hash32, mulberry32, type Rng } from '../prng.ts';
import { conversationCustomer } from './demo-data/conversation-basics.ts';
import { graphTime, parseGraphTimeSeconds } from './demo-data/graph-time.ts';
import { decodeMessageId } from './demo-data/ids.ts';
import { addedCustomerMessage, conversationMessages } from './demo-data/messages.ts';
import type { SimConversation, SimMessage, SimPage, SimPlatform } from './demo-data/sim-types.ts';

export interface PageEntry {
  page: SimPage;
  /** The lists as served: ordered by updated_time (newest first), then by id. */
  lists: Record<SimPlatform, SimConversation[]>;
  /** The newest updated_time on the page, in epoch seconds. */
  newestSeconds: number;
}

export type Target =
  | { kind: 'page'; entry: PageEntry }
  | { kind: 'ig-account'; entry: PageEntry }
  | { kind: 'conversation'; entry: PageEntry; conversation: SimConversation }
  | { kind: 'user'; entry: PageEntry; conversation: SimConversation }
  | { kind: 'message'; entry: PageEntry; conversation: SimConversation; positionFromNewest: number };

/** One conversation: as served now, as generated, and the messages added since (newest first). */
interface Thread {
  entry: PageEntry;
  conversation: SimConversation;
  generated: SimConversation;
  added: SimMessage[];
}

type Indexed = { kind: 'page' | 'ig-account'; entry: PageEntry } | { kind: 'user'; thread: Thread };

export interface AddMessagesRequest {
  pageId: string;
  /**
   * With `count`: the list to draw from (default `messenger`). With `conversationIds`: optional, and
   * then every id must be a conversation of that platform.
   */
  platform?: SimPlatform;
  /** How many conversations (drawn at random, without repeats) get a new message. */
  count?: number;
  /** Exactly these conversations get a new message (instead of `count`). */
  conversationIds?: string[];
  /**
   * The new `updated_time` (Date, ISO string or epoch milliseconds; default now). Used only when it is
   * later than every conversation of the page; otherwise the newest time on the page plus one second.
   */
  at?: Date | string | number;
}

/** A bad `addMessages` request: 404 when the page or a conversation does not exist, else 400. */
export class SimRequestError extends Error {
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
    this.name = 'SimRequestError';
  }
}

const PLATFORMS: readonly SimPlatform[] = ['messenger', 'instagram'];

const newestOf = (list: readonly SimConversation[]) =>
  list[0] ? parseGraphTimeSeconds(list[0].updated_time) : Number.NEGATIVE_INFINITY;

export class SimState {
  private readonly tokens = new Map<string, PageEntry>();
  private readonly pagesById = new Map<string, PageEntry>();
  private readonly objects = new Map<string, Indexed>();
  private readonly threads = new Map<string, Thread>();
  private readonly pickRng: Rng = mulberry32(hash32('new-messages'));

  constructor(pages: readonly SimPage[]) {
    for (const page of pages) {
      const lists = {
        messenger: [...page.conversations.messenger],
        instagram: [...page.conversations.instagram],
      };
      const entry: PageEntry = {
        page,
        lists,
        newestSeconds: Math.max(newestOf(lists.messenger), newestOf(lists.instagram), 0),
      };
      this.tokens.set(page.accessToken, entry);
      this.pagesById.set(page.id, entry);
      this.objects.set(page.id, { kind: 'page', entry });
      if (page.instagramAccountId) this.objects.set(page.instagramAccountId, { kind: 'ig-account', entry });
      for (const list of [lists.messenger, lists.instagram]) {
        for (const conversation of list) {
          const thread: Thread = { entry, conversation, generated: conversation, added: [] };
          this.threads.set(conversation.id, thread);
          this.objects.set(conversationCustomer(conversation).id, { kind: 'user', thread });
        }
      }
    }
  }

  /** The page a token belongs to. */
  pageByToken(token: string): PageEntry | undefined {
    return this.tokens.get(token);
  }

  /** A Graph object by id: page, Instagram account, conversation, customer or message. */
  resolve(id: string): Target | undefined {
    const indexed = this.objects.get(id);
    if (indexed) {
      if (indexed.kind === 'user') {
        return { kind: 'user', entry: indexed.thread.entry, conversation: indexed.thread.conversation };
      }
      return indexed;
    }
    const thread = this.threads.get(id);
    if (thread) return { kind: 'conversation', entry: thread.entry, conversation: thread.conversation };
    const decoded = decodeMessageId(id);
    if (!decoded) return undefined;
    const owner = this.threads.get(decoded.conversationId);
    if (!owner || decoded.positionFromOldest >= owner.conversation.message_count) return undefined;
    return {
      kind: 'message',
      entry: owner.entry,
      conversation: owner.conversation,
      positionFromNewest: owner.conversation.message_count - 1 - decoded.positionFromOldest,
    };
  }

  /** All messages of a conversation, newest first: the added ones, then the generated ones. */
  messages(conversation: SimConversation): SimMessage[] {
    const thread = this.threads.get(conversation.id);
    if (!thread || thread.added.length === 0) return conversationMessages(conversation);
    return [...thread.added, ...conversationMessages(thread.generated)];
  }

  /**
   * Gives conversations a new customer message each, all at one new `updated_time` later than
   * anything on the page, and moves them to the top of their list. Returns their ids, top first.
   */
  addMessages(request: AddMessagesRequest): { conversationIds: string[]; updatedTime: string } {
    const entry = this.pagesById.get(request.pageId);
    if (!entry) throw new SimRequestError(404, `Unknown page ${request.pageId}`);
    if (request.platform !== undefined && !PLATFORMS.includes(request.platform)) {
      throw new SimRequestError(
        400,
        `platform must be messenger or instagram, got ${String(request.platform)}`,
      );
    }
    const threads = this.choose(entry, request);

    const atMs = request.at === undefined ? Date.now() : new Date(request.at).getTime();
    if (Number.isNaN(atMs)) throw new SimRequestError(400, `at is not a valid time: ${String(request.at)}`);
    const seconds = Math.max(Math.floor(atMs / 1000), entry.newestSeconds + 1);
    entry.newestSeconds = seconds;
    const updatedTime = graphTime(seconds);

    for (const thread of threads) {
      if (thread.conversation === thread.generated) thread.conversation = { ...thread.generated };
      const conversation = thread.conversation;
      thread.added.unshift(addedCustomerMessage(thread.generated, conversation.message_count, seconds));
      conversation.message_count++;
      conversation.unread_count++;
      conversation.updated_time = updatedTime;
    }

    // Same time for all of them: among themselves they are ordered by id, as the generated lists are.
    const moved = threads.map((t) => t.conversation).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const conversationIds: string[] = [];
    for (const platform of PLATFORMS) {
      const top = moved.filter((c) => c.platform === platform);
      if (top.length === 0) continue;
      const ids = new Set(top.map((c) => c.id));
      entry.lists[platform] = [...top, ...entry.lists[platform].filter((c) => !ids.has(c.id))];
      conversationIds.push(...top.map((c) => c.id));
    }
    return { conversationIds, updatedTime };
  }

  private choose(entry: PageEntry, request: AddMessagesRequest): Thread[] {
    const { count, conversationIds } = request;
    if ((count === undefined) === (conversationIds === undefined)) {
      throw new SimRequestError(400, 'Give either count or conversationIds');
    }
    if (conversationIds !== undefined) {
      if (!Array.isArray(conversationIds) || conversationIds.length === 0) {
        throw new SimRequestError(400, 'conversationIds must be a non-empty array of conversation ids');
      }
      return [...new Set(conversationIds)].map((id) => {
        const thread = typeof id === 'string' ? this.threads.get(id) : undefined;
        if (!thread || thread.entry !== entry) {
          throw new SimRequestError(404, `Page ${entry.page.id} has no conversation ${String(id)}`);
        }
        if (request.platform !== undefined && thread.conversation.platform !== request.platform) {
          throw new SimRequestError(400, `Conversation ${id} is not a ${request.platform} conversation`);
        }
        return thread;
      });
    }
    const list = entry.lists[request.platform ?? 'messenger'];
    if (!Number.isInteger(count) || (count ?? 0) < 1 || (count ?? 0) > list.length) {
      throw new SimRequestError(
        400,
        `count must be an integer from 1 to ${list.length}, got ${String(count)}`,
      );
    }
    return this.drawIndexes(list.length, count ?? 0).map((index) => {
      const thread = this.threads.get(list[index]?.id ?? '');
      if (!thread) throw new Error(`conversation at ${index} is not indexed`);
      return thread;
    });
  }

  /** `count` distinct indexes below `total`, at random (seeded, so a run can be replayed). */
  private drawIndexes(total: number, count: number): number[] {
    const chosen = new Set<number>();
    if (count * 2 <= total) {
      while (chosen.size < count) chosen.add(Math.floor(this.pickRng() * total));
      return [...chosen];
    }
    const all = Array.from({ length: total }, (_, i) => i);
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(this.pickRng() * (total - i));
      [all[i], all[j]] = [all[j] ?? 0, all[i] ?? 0];
    }
    return all.slice(0, count);
  }
}
