/** The Graph objects the simulator serves, in the shapes Graph returns them. */

/** Graph exposes only the 20 most recent messages of a conversation in detail. */
export const MESSAGE_DETAIL_LIMIT = 20;
export const MAX_MESSAGES_PER_CONVERSATION = 40;

export type SimPlatform = 'messenger' | 'instagram';

/**
 * A participant / `from` / `to` entry. Messenger entries carry `name` and `email`
 * (`<psid>@facebook.com`; the page's own entry has no email), Instagram entries carry `username` only.
 */
export interface SimParticipant {
  id: string;
  name?: string;
  email?: string;
  username?: string;
}

export interface SimImageData {
  url: string;
  preview_url: string;
  width: number;
  height: number;
  max_width: number;
  max_height: number;
  image_type: number;
  render_as_sticker: boolean;
}

export interface SimAttachment {
  id: string;
  mime_type: string;
  name: string;
  size: number;
  image_data?: SimImageData;
  file_url?: string;
}

/** A message, in the shape Graph returns it with every field requested. Absent fields have no data. */
export interface SimMessage {
  id: string;
  created_time: string;
  from: SimParticipant;
  to: { data: SimParticipant[] };
  /** The text; `""` when there is none (attachment or sticker only). */
  message: string;
  attachments?: { data: SimAttachment[] };
  sticker?: string;
  tags?: { data: { name: string }[] };
  is_unsupported?: false;
}

export type SimTopic =
  | 'pricing'
  | 'order_status'
  | 'complaint'
  | 'booking'
  | 'product'
  | 'returns'
  | 'shipping'
  | 'hours';

export const SIM_TOPICS: readonly SimTopic[] = [
  'pricing',
  'order_status',
  'complaint',
  'booking',
  'product',
  'returns',
  'shipping',
  'hours',
];

export interface SimConversation {
  /** `t_<digits>` on Messenger, a long base64url string on Instagram. */
  id: string;
  platform: SimPlatform;
  /** Time of the last message, e.g. `2026-07-12T19:11:07+0000`. */
  updated_time: string;
  /** 1..40. */
  message_count: number;
  unread_count: number;
  /** `[customer, page]`. */
  participants: { data: SimParticipant[] };
  /** What the customer mostly talks about (drives the generated text). Not a Graph field. */
  topic: SimTopic;
  /** PRNG seed of the lazily generated messages and profile. Not a Graph field. */
  seed: number;
}

export interface SimPage {
  id: string;
  name: string;
  accessToken: string;
  instagramAccountId?: string;
  /** Username of the page's Instagram account (default `'mybusiness'`). */
  instagramUsername?: string;
  /** Both lists are ordered by `updated_time`, newest first (as Graph returns them). */
  conversations: { messenger: SimConversation[]; instagram: SimConversation[] };
}

/**
 * What `GET /{psid-or-igsid}` answers: `unavailable` is error 2018218 ("No profile available for
 * this user"), `empty` is an empty object, `ok` carries the profile fields (Instagram `name` and
 * `profile_pic` may be null).
 */
export type SimProfile =
  | { status: 'unavailable' }
  | { status: 'empty' }
  | { status: 'ok'; fields: Record<string, string | number | boolean | null> };
