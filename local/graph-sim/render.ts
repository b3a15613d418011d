/**
 * Rendering of Graph objects with field selection: which fields each node type has, `fields`
 * parsing, and the JSON of conversations, messages, participants and attachments.
 */

import { conversationCustomer } from './demo-data/conversation-basics.ts';
import {
  MESSAGE_DETAIL_LIMIT,
  type SimAttachment,
  type SimConversation,
  type SimMessage,
  type SimParticipant,
} from './demo-data/sim-types.ts';
import { invalidParam, nonexistingField } from './error-responses.ts';
import { type FieldSpec, FieldSyntaxError, parseFields } from './fields.ts';
import { buildPaging, encodeCursor, listWindow, parseLimit } from './paging.ts';

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
export const PAGE_FIELDS = new Set(['id', 'name', 'instagram_business_account']);
export const IG_ACCOUNT_FIELDS = new Set(['id', 'username', 'name']);
export const MESSENGER_PROFILE_FIELDS = new Set(['id', 'name', 'first_name', 'last_name', 'profile_pic']);
export const INSTAGRAM_PROFILE_FIELDS = new Set([
  'id',
  'name',
  'username',
  'profile_pic',
  'follower_count',
  'is_user_follow_business',
  'is_business_follow_user',
  'is_verified_user',
]);

/** The fields of each node type that are copied as they are, when they have data. */
const MESSAGE_SCALARS = new Set(['id', 'created_time', 'message', 'sticker', 'is_unsupported']);
const CONVERSATION_SCALARS = new Set(['id', 'updated_time', 'message_count', 'unread_count']);

/** Copies `name` from `source` when it is one of `scalars` (omitted without data); false for other fields. */
function copyScalar(
  out: Record<string, unknown>,
  source: object,
  name: string,
  scalars: Set<string>,
): boolean {
  if (!scalars.has(name)) return false;
  const value = (source as Record<string, unknown>)[name];
  if (value !== undefined) out[name] = value;
  return true;
}

export const plain = (names: string[]): FieldSpec[] => names.map((name) => ({ name, modifiers: {} }));

export function checkFields(
  specs: readonly FieldSpec[] | undefined,
  allowed: Set<string>,
  nodeType: string,
): void {
  for (const spec of specs ?? []) if (!allowed.has(spec.name)) throw nonexistingField(spec.name, nodeType);
}

export function parseFieldsParam(raw: string | null): FieldSpec[] | undefined {
  if (raw === null || raw.trim() === '') return undefined;
  try {
    return parseFields(raw);
  } catch (error) {
    if (error instanceof FieldSyntaxError) throw invalidParam(error.message);
    throw error;
  }
}

/** Copies the requested keys of a plain object (all of them without a selection), recursing into `{data}` lists. */
export function pickObject(value: unknown, children: readonly FieldSpec[] | undefined): unknown {
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

export function renderMessage(message: SimMessage, specs: FieldSpec[] | undefined): Record<string, unknown> {
  const selection = specs ?? plain(['id', 'created_time']);
  checkFields(selection, MESSAGE_FIELDS, 'Message');
  const out: Record<string, unknown> = { id: message.id };
  for (const spec of selection) {
    if (copyScalar(out, message, spec.name, MESSAGE_SCALARS)) continue;
    switch (spec.name) {
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
      case 'tags':
        if (message.tags) out.tags = pickObject(message.tags, spec.children);
        break;
      default:
        // reply_to, story, shares, reactions: no data in the simulator, so omitted as Graph does.
        break;
    }
  }
  return out;
}

/** Builds the URL of another page of a list: `param` is `after` or `before`. */
export type PageLink = (param: 'after' | 'before', cursor: string, limit: number) => string;

export interface EdgeRequest {
  limit: number;
  after: string | null;
  before: string | null;
  link: PageLink;
}

/** `/{conversation}/messages` (or the `messages` field): newest first, only the 20 most recent readable. */
export function renderMessagesEdge(
  conversation: SimConversation,
  messages: readonly SimMessage[],
  specs: FieldSpec[] | undefined,
  request: EdgeRequest,
) {
  const scope = `messages:${conversation.id}`;
  const total = conversation.message_count;
  const window = listWindow(total, request.limit, request.after, request.before, scope, MESSAGE_DETAIL_LIMIT);
  const data = messages.slice(window.start, window.end).map((m) => renderMessage(m, specs));
  const paging = buildPaging(
    window,
    total,
    (index) => encodeCursor(scope, index),
    (param, cursor) => request.link(param, cursor, request.limit),
  );
  return paging ? { data, paging } : { data };
}

export interface ConversationContext {
  pageId: string;
  /** The conversation's messages, newest first. */
  messages: (conversation: SimConversation) => readonly SimMessage[];
  /** The `/{conversation}/messages` URL of the `messages` field's next pages. */
  messagesLink: (conversation: SimConversation, children: FieldSpec[] | undefined) => PageLink;
}

/** One conversation, as a list item of `/{page}/conversations` and as `GET /{conversation-id}`. */
export function renderConversation(
  conversation: SimConversation,
  specs: FieldSpec[] | undefined,
  context: ConversationContext,
): Record<string, unknown> {
  const selection = specs ?? plain(['id', 'updated_time']);
  checkFields(selection, CONVERSATION_FIELDS, 'Conversation');
  let messages: readonly SimMessage[] | undefined;
  const allMessages = () => {
    messages ??= context.messages(conversation);
    return messages;
  };
  const out: Record<string, unknown> = { id: conversation.id };
  for (const spec of selection) {
    if (copyScalar(out, conversation, spec.name, CONVERSATION_SCALARS)) continue;
    switch (spec.name) {
      case 'participants':
      case 'senders':
        out[spec.name] = renderParticipants(conversation.participants.data, spec.children);
        break;
      case 'messages':
        out.messages = renderMessagesEdge(conversation, allMessages(), spec.children, {
          limit: parseLimit(spec.modifiers.limit, MESSAGE_DETAIL_LIMIT, MESSAGE_DETAIL_LIMIT),
          after: null,
          before: null,
          link: context.messagesLink(conversation, spec.children),
        });
        break;
      case 'snippet': {
        const text = allMessages()[0]?.message ?? '';
        if (text !== '') out.snippet = text.slice(0, 100);
        break;
      }
      case 'link':
        out.link = `/${context.pageId}/inbox/?selected_item_id=${conversationCustomer(conversation).id}`;
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
}
