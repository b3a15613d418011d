/**
 * The Graph GET routes, once the caller is authenticated and within its rate limit:
 * `/{page-id}` and `/{page-id}/conversations`, `/{ig-user-id}`, `/{conversation-id}` and
 * `/{conversation-id}/messages`, `/{message-id}`, `/{user-id}` (a customer's profile).
 */

import { conversationCustomer } from './demo-data/conversation-basics.ts';
import { customerProfile } from './demo-data/customer-profile.ts';
import { parseGraphTimeSeconds } from './demo-data/graph-time.ts';
import { MESSAGE_DETAIL_LIMIT, type SimPlatform } from './demo-data/sim-types.ts';
import { GraphError, invalidParam, messageDeleted } from './error-responses.ts';
import { serializeFields } from './fields.ts';
import {
  buildPaging,
  encodeCursor,
  encodeKeyCursor,
  keyWindow,
  type ListKey,
  listWindow,
  parseLimit,
} from './paging.ts';
import {
  type ConversationContext,
  checkFields,
  IG_ACCOUNT_FIELDS,
  INSTAGRAM_PROFILE_FIELDS,
  MESSENGER_PROFILE_FIELDS,
  PAGE_FIELDS,
  parseFieldsParam,
  pickObject,
  plain,
  renderConversation,
  renderMessage,
  renderMessagesEdge,
} from './render.ts';
import type { SimState, Target } from './state.ts';

export const DEFAULT_LIST_LIMIT = 25;
/** The largest `limit` of a conversation list. */
export const MAX_LIST_LIMIT = 100;
/** The largest `limit` of a conversation list whose `fields` expand `messages`. */
export const MAX_EXPANDED_LIST_LIMIT = 50;

const FOLDERS = ['inbox', 'page_done', 'other', 'pending', 'spam'];

/**
 * How `/{page}/conversations` cursors point into the list: `keyset` (default) at a conversation's
 * place in the order, `offset` at a position (see docs/graph-simulator.md).
 */
export type ListCursors = 'keyset' | 'offset';

export interface RouteRequest {
  target: Target;
  edge: string | undefined;
  url: URL;
  /** `http://host:port` as the client called it, for paging links. */
  origin: string;
  /** `/v21.0`, or empty when the call had no version. */
  versionPrefix: string;
  platform: SimPlatform;
}

/** Answers a GET route; throws GraphError. */
export function handleRoute(state: SimState, listCursors: ListCursors, request: RouteRequest): unknown {
  const { target, edge, url, origin, versionPrefix, platform } = request;
  const query = url.searchParams;
  const fields = parseFieldsParam(query.get('fields'));
  const selfLink = (param: 'after' | 'before', cursor: string, limit: number) => {
    const params = new URLSearchParams(query);
    params.delete('after');
    params.delete('before');
    params.set('limit', String(limit));
    params.set(param, cursor);
    return `${origin}${url.pathname}?${params}`;
  };
  const context: ConversationContext = {
    pageId: target.entry.page.id,
    messages: (conversation) => state.messages(conversation),
    messagesLink: (conversation, children) => (param, cursor, limit) => {
      const params = new URLSearchParams();
      const token = query.get('access_token');
      if (token !== null) params.set('access_token', token);
      if (children) params.set('fields', serializeFields(children));
      params.set('limit', String(limit));
      params.set(param, cursor);
      return `${origin}${versionPrefix}/${conversation.id}/messages?${params}`;
    },
  };

  switch (target.kind) {
    case 'page': {
      const entry = target.entry;
      const page = entry.page;
      if (edge === 'conversations') {
        if (platform === 'instagram' && !page.instagramAccountId) {
          throw invalidParam('This Page has no Instagram professional account connected');
        }
        const folder = query.get('folder') ?? 'inbox';
        if (!FOLDERS.includes(folder)) {
          throw invalidParam(`param folder must be one of {${FOLDERS.join(', ')}} - got "${folder}"`);
        }
        let list = folder === 'inbox' ? entry.lists[platform] : [];
        const userId = query.get('user_id');
        if (userId) list = list.filter((c) => conversationCustomer(c).id === userId);
        const expandsMessages = fields?.some((f) => f.name === 'messages') ?? false;
        const max = expandsMessages ? MAX_EXPANDED_LIST_LIMIT : MAX_LIST_LIMIT;
        const limit = parseLimit(query.get('limit'), DEFAULT_LIST_LIMIT, max);
        const scope = `conversations:${page.id}:${platform}:${folder}:${userId ?? ''}`;
        const after = query.get('after');
        const before = query.get('before');
        const keyAt = (index: number): ListKey => {
          const conversation = list[index];
          if (!conversation) throw new Error(`no conversation at ${index}`);
          return { seconds: parseGraphTimeSeconds(conversation.updated_time), id: conversation.id };
        };
        const window =
          listCursors === 'keyset'
            ? keyWindow(list.length, keyAt, limit, after, before, scope)
            : listWindow(list.length, limit, after, before, scope);
        const data = list.slice(window.start, window.end).map((c) => renderConversation(c, fields, context));
        const cursorAt =
          listCursors === 'keyset'
            ? (index: number) => encodeKeyCursor(scope, keyAt(index))
            : (index: number) => encodeCursor(scope, index);
        const paging = buildPaging(window, list.length, cursorAt, (param, cursor) =>
          selfLink(param, cursor, limit),
        );
        return paging ? { data, paging } : { data };
      }
      const selection = fields ?? plain(['id', 'name']);
      checkFields(selection, PAGE_FIELDS, 'Page');
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
        return renderMessagesEdge(conversation, state.messages(conversation), fields, {
          limit,
          after: query.get('after'),
          before: query.get('before'),
          link: selfLink,
        });
      }
      return renderConversation(conversation, fields, context);
    }
    case 'message': {
      if (target.positionFromNewest >= MESSAGE_DETAIL_LIMIT) throw messageDeleted();
      const message = state.messages(target.conversation)[target.positionFromNewest];
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
}
