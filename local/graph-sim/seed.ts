/**
 * Deterministic demo data for the Graph API simulator.
 *
 * Everything derives from a numeric seed through a small PRNG (mulberry32), never Math.random or
 * Date.now: the same options always give the same page. Conversations are generated eagerly (ids,
 * participants, counts, times) but their messages and the customer's profile are generated lazily from
 * the conversation's own seed (`conversationMessages`, `customerProfile`), so pages of 100,000
 * conversations stay cheap in time and memory.
 *
 * Timestamps are spread over the year before a FIXED reference date (`REFERENCE_DATE`).
 */

/** All timestamps lie before this instant (2026-11-01T00:00:00Z). */
export const REFERENCE_DATE = new Date(Date.UTC(2026, 10, 1, 0, 0, 0));
const REFERENCE_SECONDS = Math.floor(REFERENCE_DATE.getTime() / 1000);
const YEAR_SECONDS = 365 * 24 * 3600;

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
  /** Seed of the lazily generated messages and profile. Not a Graph field. */
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

export interface GeneratePageOptions {
  id: string;
  name: string;
  accessToken: string;
  /** Number of Messenger conversations. */
  messenger: number;
  /** Number of Instagram conversations. */
  instagram: number;
  /** Defaults to a hash of `id`, so distinct pages get distinct data. */
  seed?: number;
  /** Defaults to an id derived from the seed. */
  instagramAccountId?: string;
  /** Defaults to `'mybusiness'`. */
  instagramUsername?: string;
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

// ---------------------------------------------------------------------------------------------
// PRNG and hashing

export type Rng = () => number;

/** mulberry32: a tiny, fast, good-enough 32-bit PRNG. Returns floats in [0, 1). */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes numbers and strings into one 32-bit hash (FNV-1a over the parts, then a murmur finalizer). */
export function hash32(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    const text = typeof part === 'number' ? `#${part >>> 0}` : `s${part}`;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0xff;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function int(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

// ---------------------------------------------------------------------------------------------
// Formatting helpers

/** Formats epoch seconds as a Graph timestamp: `2022-07-12T19:11:07+0000`. */
export function graphTime(epochSeconds: number): string {
  return `${new Date(epochSeconds * 1000).toISOString().slice(0, 19)}+0000`;
}

/** Parses a Graph timestamp back to epoch seconds. */
export function parseGraphTimeSeconds(value: string): number {
  return Math.floor(Date.parse(value.replace(/([+-]\d\d)(\d\d)$/, '$1:$2')) / 1000);
}

/**
 * A bijection of `index` onto [base, base + modulus): `mult` is an odd prime not dividing the
 * modulus, so distinct indexes (< modulus) always give distinct ids.
 */
function permutedId(index: number, mult: bigint, offset: bigint, modulus: bigint, base: bigint): string {
  return (base + ((BigInt(index) * mult + offset) % modulus)).toString();
}

// Multipliers: products of primes other than 2, 3 and 5, so coprime with every modulus below; large
// enough that consecutive indexes land far apart.
const P1 = 2654435761n * 1_000_003n;
const P2 = 2246822519n * 999_983n;
const P3 = 3266489917n * 1_000_033n;

function psidFor(seed: number, index: number): string {
  // 16 digits.
  return permutedId(
    index,
    P1,
    BigInt(hash32(seed, 'psid')) * 999_331n,
    4_000_000_000_000_000n,
    5_000_000_000_000_000n,
  );
}

function igsidFor(seed: number, index: number): string {
  // 17 digits.
  return permutedId(
    index,
    P3,
    BigInt(hash32(seed, 'igsid')) * 999_611n,
    80_000_000_000_000_000n,
    10_000_000_000_000_000n,
  );
}

function messengerThreadId(seed: number, index: number): string {
  // t_ + 15 digits.
  return `t_${permutedId(index, P2, BigInt(hash32(seed, 'thread')) * 1_000_211n, 900_000_000_000_000n, 100_000_000_000_000n)}`;
}

function instagramThreadId(igAccountId: string, igsid: string): string {
  return Buffer.from(`ig_conversation:1:IGMessageThread:${igAccountId}:${igsid}`).toString('base64url');
}

/** Message ids encode their conversation and position (0 = oldest), so the simulator can resolve them. */
export function messageId(conversationId: string, positionFromOldest: number): string {
  return `m_${Buffer.from(`${conversationId}|${positionFromOldest}`).toString('base64url')}`;
}

/** Inverse of `messageId`; null for anything else. */
export function decodeMessageId(id: string): { conversationId: string; positionFromOldest: number } | null {
  if (!/^m_[A-Za-z0-9_-]+$/.test(id)) return null;
  const decoded = Buffer.from(id.slice(2), 'base64url').toString('utf8');
  const match = /^(.+)\|(\d{1,6})$/.exec(decoded);
  if (!match?.[1] || !match[2]) return null;
  return { conversationId: match[1], positionFromOldest: Number(match[2]) };
}

// ---------------------------------------------------------------------------------------------
// Phrase banks

const FIRST_NAMES = [
  'Emma',
  'Liam',
  'Olivia',
  'Noah',
  'Ava',
  'Lucas',
  'Sophia',
  'Mateo',
  'Mia',
  'Ethan',
  'Isabella',
  'James',
  'Amelia',
  'Leo',
  'Harper',
  'Hugo',
  'Chloe',
  'Omar',
  'Fatima',
  'Yuki',
  'Hana',
  'Diego',
  'Lucia',
  'Arjun',
  'Priya',
  'Wei',
  'Mei',
  'Kwame',
  'Amara',
  'Sven',
  'Ingrid',
  'Pierre',
  'Camille',
  'Marco',
  'Giulia',
  'Tomasz',
  'Zofia',
  'Ahmed',
  'Layla',
  'Carlos',
  'Ana',
  'Jonas',
  'Lea',
  'Ibrahim',
  'Nora',
  'Daniel',
  'Sara',
  'Victor',
  'Elena',
  'Samuel',
] as const;

const LAST_NAMES = [
  'Smith',
  'Garcia',
  'Martin',
  'Muller',
  'Rossi',
  'Kowalski',
  'Nguyen',
  'Kim',
  'Tanaka',
  'Silva',
  'Johnson',
  'Brown',
  'Dubois',
  'Fischer',
  'Lopez',
  'Khan',
  'Patel',
  'Chen',
  'Wang',
  'Okafor',
  'Mensah',
  'Larsen',
  'Andersson',
  'Novak',
  'Horvat',
  'Petrov',
  'Yilmaz',
  'Haddad',
  'Costa',
  'Moreau',
  'Schmidt',
  'Ricci',
  'Jansen',
  'Nielsen',
  'Murphy',
  'Walsh',
  'Cohen',
  'Singh',
  'Sato',
  'Alves',
] as const;

const PRODUCTS = [
  'leather backpack',
  'ceramic mug set',
  'running shoes',
  'linen shirt',
  'desk lamp',
  'yoga mat',
  'gift card',
  'wireless speaker',
  'scented candle',
  'wool scarf',
  'phone case',
  'coffee grinder',
] as const;

const CITIES = [
  'Lisbon',
  'Berlin',
  'Lyon',
  'Austin',
  'Toronto',
  'Dublin',
  'Madrid',
  'Milan',
  'Krakow',
] as const;
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
const HOURS = ['9am', '10am', '11:30am', '2pm', '3pm', '4:30pm', '6pm'] as const;

const CUSTOMER_OPENERS: Record<SimTopic, readonly string[]> = {
  pricing: [
    'Hi, how much does the {product} cost?',
    "What's the price of the {product}?",
    'Hello! Do you have any discount on the {product}?',
    'Is there a bulk price if I order 10 of the {product}?',
    'How much is the {product} with shipping to {city}?',
  ],
  order_status: [
    'Hi, where is my order #{order}?',
    'I ordered a {product} last week and still have not received anything.',
    'Can you send me the tracking number for order #{order}?',
    'Has my order #{order} shipped yet?',
  ],
  complaint: [
    'The {product} I received is damaged. Really disappointed.',
    'This is the second time my order is late, this is unacceptable.',
    'Nobody answered my email about order #{order}, terrible service.',
    'The {product} stopped working after two days. I want my money back.',
  ],
  booking: [
    'Hi, can I book an appointment for {day} at {hour}?',
    'Do you have availability next {day}?',
    "I'd like to reschedule my booking to {day} please.",
    'Can I reserve a table for 4 on {day} at {hour}?',
  ],
  product: [
    'Is the {product} available in blue?',
    'Do you still have the {product} in stock?',
    'Does the {product} come in a bigger size?',
    'Is the {product} waterproof?',
  ],
  returns: [
    'How do I return the {product}?',
    "I'd like to cancel my order #{order}.",
    'Can I exchange the {product} for another colour?',
    'What is your refund policy?',
  ],
  shipping: [
    'Do you ship to {city}?',
    'How long does delivery to {city} take?',
    'Is express shipping available for the {product}?',
    'Can I pick up my order in store instead of delivery?',
  ],
  hours: [
    'What are your opening hours on {day}?',
    'Are you open on Sunday?',
    'Where is your shop located?',
    'Is the store in {city} open today?',
  ],
};

const CUSTOMER_FOLLOW_UPS: Record<SimTopic, readonly string[]> = {
  pricing: [
    'Is that price including VAT?',
    'Ok and if I buy two?',
    'That is a bit expensive.',
    'Any promo code?',
  ],
  order_status: ['Still nothing arrived today.', 'The tracking page says pending.', 'When will it arrive?'],
  complaint: [
    'I want a refund.',
    'This is really frustrating.',
    'I will leave a bad review if this is not fixed.',
  ],
  booking: ['Great, please confirm the booking.', 'Can I come 30 minutes later?', 'Is a deposit required?'],
  product: ['What about black?', 'Do you have a size chart?', 'When will it be back in stock?'],
  returns: ['Do I need the original box?', 'How long does the refund take?', 'I sent it back yesterday.'],
  shipping: ['How much is shipping?', 'Do you deliver on weekends?', 'Can you ship it today?'],
  hours: ['And on holidays?', 'Is there parking nearby?', 'Thanks, see you {day}!'],
};

const GENERIC_CUSTOMER = [
  'Hello?',
  'Thanks a lot!',
  'Perfect, thank you 🙏',
  'Ok',
  'Any update?',
  'Thank you for the quick reply!',
  '👍',
] as const;

const BUSINESS_REPLIES: Record<SimTopic, readonly string[]> = {
  pricing: [
    'Hi! The {product} is {price}.',
    'Thanks for reaching out! The {product} costs {price}, and shipping is free over $50.',
    'We have 10% off this week with code WELCOME10.',
  ],
  order_status: [
    'Sorry for the wait! Your order #{order} shipped yesterday, tracking: TRK{order}.',
    'Let me check order #{order} for you.',
    'Your order is on its way and should arrive within 2 business days.',
  ],
  complaint: [
    "We're so sorry to hear that. Could you send us a photo of the {product}?",
    'Apologies for the trouble, we will send a replacement right away.',
    'We have issued a full refund for order #{order}.',
  ],
  booking: [
    'Yes, {day} at {hour} is available. Shall I confirm it?',
    'Your booking is confirmed for {day} at {hour}. See you then!',
    "We're fully booked that day, would {day} work instead?",
  ],
  product: [
    'Yes, the {product} is in stock in blue, black and grey.',
    'It will be back in stock next week.',
    'Here is our size chart: https://example.com/size-chart',
  ],
  returns: [
    'You can return it within 30 days, here is the form: https://example.com/returns',
    'Your order #{order} has been cancelled.',
    'Refunds take 5 to 7 business days.',
  ],
  shipping: [
    'Yes, we ship to {city}! Delivery takes 3 to 5 business days.',
    'Express shipping is available for $9.90.',
    'You can pick it up at our store any day from 10am.',
  ],
  hours: [
    "We're open Monday to Saturday, 10am to 7pm.",
    'Our shop is at 12 Market Street, next to the station.',
    'Yes, we are open today until 7pm.',
  ],
};

const GENERIC_BUSINESS = [
  'Happy to help!',
  'You are welcome, have a great day!',
  'Thanks for your message, we will get back to you shortly.',
  'Is there anything else we can help with?',
] as const;

const STICKERS = [
  'https://scontent.xx.fbcdn.net/v/t39.1997-6/851557_369239266556155_759568595_n.png?_nc_cat=1&_nc_sid=ac3552',
  'https://scontent.xx.fbcdn.net/v/t39.1997-6/851582_369239386556143_1497813874_n.png?_nc_cat=1&_nc_sid=ac3552',
  'https://scontent.xx.fbcdn.net/v/t39.1997-6/39178562_1505197616293642_5411344281094848512_n.png?_nc_cat=1&_nc_sid=ac3552',
] as const;

function fillTemplate(rng: Rng, template: string): string {
  return template
    .replace(/\{product\}/g, () => pick(rng, PRODUCTS))
    .replace(/\{city\}/g, () => pick(rng, CITIES))
    .replace(/\{day\}/g, () => pick(rng, DAYS))
    .replace(/\{hour\}/g, () => pick(rng, HOURS))
    .replace(/\{order\}/g, () => String(int(rng, 10_000, 99_999)))
    .replace(/\{price\}/g, () => `$${int(rng, 9, 249)}.${pick(rng, ['00', '50', '90', '99'])}`);
}

// ---------------------------------------------------------------------------------------------
// Conversations

/** Conversation-level facts, all drawn from the conversation seed (so they can be recomputed lazily). */
interface ConversationBasics {
  firstName: string;
  lastName: string;
  topic: SimTopic;
  messageCount: number;
  ageSeconds: number;
  unreadRoll: number;
  profileRoll: number;
  nameRoll: number;
  picRoll: number;
  followers: number;
}

function conversationBasics(seed: number): ConversationBasics {
  const rng = mulberry32(seed);
  const firstName = pick(rng, FIRST_NAMES);
  const lastName = pick(rng, LAST_NAMES);
  const topic = pick(rng, SIM_TOPICS);
  // Skewed towards short threads, but with plenty above the 20-message detail limit.
  const messageCount = Math.min(
    MAX_MESSAGES_PER_CONVERSATION,
    1 + Math.floor(rng() ** 1.4 * MAX_MESSAGES_PER_CONVERSATION),
  );
  // Skewed towards recent activity, within the year before the reference date.
  const ageSeconds = 60 + Math.floor(rng() ** 1.6 * (YEAR_SECONDS - 30 * 86400));
  return {
    firstName,
    lastName,
    topic,
    messageCount,
    ageSeconds,
    unreadRoll: rng(),
    profileRoll: rng(),
    nameRoll: rng(),
    picRoll: rng(),
    followers: Math.floor(rng() ** 3 * 20_000),
  };
}

function messageRngSeed(seed: number): number {
  return hash32(seed, 'messages');
}

/** Who sent each message, oldest first: true = the customer. The first message is always the customer's. */
function senderPattern(rng: Rng, count: number): boolean[] {
  const senders: boolean[] = [];
  let customer = true;
  for (let i = 0; i < count; i++) {
    if (i > 0 && rng() < 0.55) customer = !customer;
    senders.push(customer);
  }
  return senders;
}

function usernameFor(first: string, last: string, index: number): string {
  const suffix = ((index * 7919 + 13) % 46656).toString(36);
  const style = index % 3;
  const base = style === 0 ? `${first}.${last}` : style === 1 ? `${first}_${last}` : `${first}${last}`;
  return `${base.toLowerCase()}${suffix}`;
}

function pageParticipant(page: { id: string; name: string }): SimParticipant {
  return { id: page.id, name: page.name };
}

function instagramPageParticipant(igAccountId: string, username: string): SimParticipant {
  return { id: igAccountId, username };
}

function makeConversations(
  platform: SimPlatform,
  count: number,
  pageSeed: number,
  owner: SimParticipant,
  igAccountId: string,
): SimConversation[] {
  const conversations: SimConversation[] = new Array(count);
  const updatedSeconds = new Float64Array(count);
  for (let index = 0; index < count; index++) {
    const seed = hash32(pageSeed, platform, index);
    const basics = conversationBasics(seed);
    const senders = senderPattern(mulberry32(messageRngSeed(seed)), basics.messageCount);
    let trailingCustomer = 0;
    for (let i = senders.length - 1; i >= 0 && senders[i]; i--) trailingCustomer++;
    const unread = basics.unreadRoll < 0.45 ? trailingCustomer : 0;

    let customer: SimParticipant;
    let id: string;
    if (platform === 'messenger') {
      const psid = psidFor(pageSeed, index);
      customer = { id: psid, name: `${basics.firstName} ${basics.lastName}`, email: `${psid}@facebook.com` };
      id = messengerThreadId(pageSeed, index);
    } else {
      const igsid = igsidFor(pageSeed, index);
      customer = { id: igsid, username: usernameFor(basics.firstName, basics.lastName, index) };
      id = instagramThreadId(igAccountId, igsid);
    }
    const updated = REFERENCE_SECONDS - basics.ageSeconds;
    updatedSeconds[index] = updated;
    conversations[index] = {
      id,
      platform,
      updated_time: graphTime(updated),
      message_count: basics.messageCount,
      unread_count: unread,
      participants: { data: [customer, owner] },
      topic: basics.topic,
      seed,
    };
  }
  // Newest first; ties broken by id so the order is total and stable.
  const order = Array.from({ length: count }, (_, i) => i);
  order.sort((a, b) => {
    const diff = (updatedSeconds[b] ?? 0) - (updatedSeconds[a] ?? 0);
    if (diff !== 0) return diff;
    const idA = conversations[a]?.id ?? '';
    const idB = conversations[b]?.id ?? '';
    return idA < idB ? -1 : idA > idB ? 1 : 0;
  });
  return order.map((i) => conversations[i] as SimConversation);
}

/** Builds a page of any size, deterministically from `seed`. */
export function generatePage(opts: GeneratePageOptions): SimPage {
  if (!Number.isInteger(opts.messenger) || opts.messenger < 0)
    throw new Error('messenger must be an integer >= 0');
  if (!Number.isInteger(opts.instagram) || opts.instagram < 0)
    throw new Error('instagram must be an integer >= 0');
  const seed = (opts.seed ?? hash32(opts.id)) >>> 0;
  const instagramAccountId =
    opts.instagramAccountId ??
    permutedId(hash32(seed, 'ig-account') % 1_000_000, 1n, 0n, 1_000_000n, 17_841_400_000_000_000n);
  const instagramUsername = opts.instagramUsername ?? 'mybusiness';
  const owner = pageParticipant(opts);
  const igOwner = instagramPageParticipant(instagramAccountId, instagramUsername);
  return {
    id: opts.id,
    name: opts.name,
    accessToken: opts.accessToken,
    instagramAccountId,
    instagramUsername,
    conversations: {
      messenger: makeConversations('messenger', opts.messenger, seed, owner, instagramAccountId),
      instagram: makeConversations('instagram', opts.instagram, seed, igOwner, instagramAccountId),
    },
  };
}

/** The demo page: 347 Messenger and 150 Instagram conversations. */
export function demoPage(): SimPage {
  return generatePage({
    id: '104729384756192',
    name: 'My Business Page',
    accessToken: 'demo-page-token',
    instagramAccountId: '17841400000000001',
    instagramUsername: 'mybusiness',
    messenger: 347,
    instagram: 150,
    seed: 20261101,
  });
}

function customerOf(conversation: SimConversation): SimParticipant {
  const customer = conversation.participants.data[0];
  if (!customer) throw new Error(`conversation ${conversation.id} has no customer`);
  return customer;
}

function ownerOf(conversation: SimConversation): SimParticipant {
  const owner = conversation.participants.data[1];
  if (!owner) throw new Error(`conversation ${conversation.id} has no page participant`);
  return owner;
}

/** The conversation's customer (participant 0). */
export function conversationCustomer(conversation: SimConversation): SimParticipant {
  return customerOf(conversation);
}

function gapSeconds(rng: Rng): number {
  const roll = rng();
  if (roll < 0.7) return int(rng, 20, 600);
  if (roll < 0.95) return int(rng, 600, 8 * 3600);
  return int(rng, 86400, 3 * 86400);
}

function imageAttachment(rng: Rng, platform: SimPlatform, mid: string): SimAttachment {
  const id = String(int(rng, 100_000_000, 999_999_999)) + String(int(rng, 1_000_000, 9_999_999));
  const width = pick(rng, [720, 960, 1080, 1440]);
  const height = pick(rng, [720, 960, 1280, 1920]);
  const url =
    platform === 'messenger'
      ? `https://scontent.xx.fbcdn.net/v/t1.15752-9/${id}_n.jpg?_nc_cat=1&oh=${hash32(mid).toString(16)}&oe=${(REFERENCE_SECONDS + 14 * 86400).toString(16)}`
      : `https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=${id}&signature=${hash32(mid, 'sig').toString(36)}`;
  return {
    id,
    mime_type: 'image/jpeg',
    name: `image-${id.slice(-6)}.jpg`,
    size: int(rng, 40_000, 2_500_000),
    image_data: {
      url,
      preview_url: `${url}&stp=dst-jpg_p100x100`,
      width,
      height,
      max_width: width,
      max_height: height,
      image_type: 1,
      render_as_sticker: false,
    },
  };
}

function fileAttachment(rng: Rng, mid: string): SimAttachment {
  const id = String(int(rng, 100_000_000, 999_999_999)) + String(int(rng, 1_000_000, 9_999_999));
  return {
    id,
    mime_type: 'application/pdf',
    name: pick(rng, ['invoice.pdf', 'receipt.pdf', 'order-details.pdf']),
    size: int(rng, 20_000, 900_000),
    file_url: `https://cdn.fbsbx.com/v/t59.2708-21/${id}/invoice.pdf?_nc_cat=1&oh=${hash32(mid).toString(16)}`,
  };
}

/**
 * All messages of a conversation, newest first (`message_count` of them), generated from its seed.
 * Graph only lets clients read the first `MESSAGE_DETAIL_LIMIT` of this list.
 */
export function conversationMessages(conversation: SimConversation): SimMessage[] {
  const rng = mulberry32(messageRngSeed(conversation.seed));
  const count = conversation.message_count;
  const senders = senderPattern(rng, count); // same draws as when the conversation was generated
  const customer = customerOf(conversation);
  const owner = ownerOf(conversation);
  const platform = conversation.platform;
  const topic = conversation.topic;

  // Times, newest first, walking back from updated_time.
  const times = new Array<number>(count);
  let t = parseGraphTimeSeconds(conversation.updated_time);
  for (let i = count - 1; i >= 0; i--) {
    times[i] = t;
    t -= gapSeconds(rng);
  }

  const messages: SimMessage[] = [];
  for (let i = 0; i < count; i++) {
    const fromCustomer = senders[i] ?? true;
    const mid = messageId(conversation.id, i);
    let text: string;
    if (fromCustomer) {
      const openerRoll = rng();
      if (i === 0) {
        const opener = fillTemplate(rng, pick(rng, CUSTOMER_OPENERS[topic]));
        text = openerRoll < 0.25 ? `Hello! ${opener}` : opener;
      } else if (openerRoll < 0.55) {
        text = fillTemplate(rng, pick(rng, CUSTOMER_FOLLOW_UPS[topic]));
      } else if (openerRoll < 0.75) {
        text = fillTemplate(rng, pick(rng, CUSTOMER_OPENERS[topic]));
      } else {
        text = pick(rng, GENERIC_CUSTOMER);
      }
    } else {
      text =
        rng() < 0.8 ? fillTemplate(rng, pick(rng, BUSINESS_REPLIES[topic])) : pick(rng, GENERIC_BUSINESS);
    }

    const message: SimMessage = {
      id: mid,
      created_time: graphTime(times[i] ?? 0),
      from: fromCustomer ? customer : owner,
      to: { data: [fromCustomer ? owner : customer] },
      message: text,
    };

    const extra = rng();
    if (fromCustomer && i > 0 && extra < 0.08) {
      // A photo, usually without text.
      message.attachments = { data: [imageAttachment(rng, platform, mid)] };
      if (rng() < 0.7) message.message = '';
    } else if (!fromCustomer && extra < 0.04) {
      message.attachments = { data: [fileAttachment(rng, mid)] };
    } else if (platform === 'messenger' && fromCustomer && i > 0 && extra < 0.11) {
      message.sticker = pick(rng, STICKERS);
      message.message = '';
    }
    if (platform === 'messenger') {
      message.tags = {
        data: fromCustomer
          ? [{ name: 'inbox' }, { name: 'source:chat' }]
          : [{ name: 'sent' }, { name: 'source:web' }],
      };
    }
    if (rng() < 0.3) message.is_unsupported = false;
    messages.push(message);
  }
  return messages.reverse();
}

/** What `GET /{customer-id}` returns for the conversation's customer (deterministic). */
export function customerProfile(conversation: SimConversation): SimProfile {
  const basics = conversationBasics(conversation.seed);
  const customer = customerOf(conversation);
  const expiry = REFERENCE_SECONDS + 10 * 86400;
  if (conversation.platform === 'messenger') {
    if (basics.profileRoll < 0.05) return { status: 'unavailable' };
    if (basics.profileRoll < 0.07) return { status: 'empty' };
    return {
      status: 'ok',
      fields: {
        id: customer.id,
        name: `${basics.firstName} ${basics.lastName}`,
        first_name: basics.firstName,
        last_name: basics.lastName,
        profile_pic: `https://platform-lookaside.fbsbx.com/platform/profilepic/?psid=${customer.id}&width=1024&ext=${expiry}&hash=${hash32(customer.id, 'pic').toString(36)}`,
      },
    };
  }
  return {
    status: 'ok',
    fields: {
      id: customer.id,
      name: basics.nameRoll < 0.25 ? null : `${basics.firstName} ${basics.lastName}`,
      username: customer.username ?? '',
      profile_pic:
        basics.picRoll < 0.15
          ? null
          : `https://scontent.cdninstagram.com/v/t51.2885-19/${hash32(customer.id, 'igpic')}_n.jpg?_nc_ht=scontent.cdninstagram.com&oh=${hash32(customer.id, 'oh').toString(16)}&oe=${expiry.toString(16).toUpperCase()}`,
      follower_count: basics.followers,
      is_user_follow_business: basics.profileRoll < 0.6,
      is_business_follow_user: basics.profileRoll < 0.1,
      is_verified_user: basics.followers > 15_000,
    },
  };
}

/**
 * A customer message added to a conversation after it was generated (the simulator's new-messages
 * knob): the message at `positionFromOldest` (its id follows the generated ones), sent at
 * `createdSeconds`, with text drawn from the conversation's topic. Deterministic.
 */
export function addedCustomerMessage(
  conversation: SimConversation,
  positionFromOldest: number,
  createdSeconds: number,
): SimMessage {
  const rng = mulberry32(hash32(conversation.seed, 'added', positionFromOldest));
  const roll = rng();
  const text =
    roll < 0.5
      ? fillTemplate(rng, pick(rng, CUSTOMER_FOLLOW_UPS[conversation.topic]))
      : roll < 0.8
        ? fillTemplate(rng, pick(rng, CUSTOMER_OPENERS[conversation.topic]))
        : pick(rng, GENERIC_CUSTOMER);
  const customer = customerOf(conversation);
  const message: SimMessage = {
    id: messageId(conversation.id, positionFromOldest),
    created_time: graphTime(createdSeconds),
    from: customer,
    to: { data: [ownerOf(conversation)] },
    message: text,
  };
  if (conversation.platform === 'messenger') {
    message.tags = { data: [{ name: 'inbox' }, { name: 'source:chat' }] };
  }
  return message;
}
