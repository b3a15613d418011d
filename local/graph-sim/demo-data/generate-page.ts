import { hash32 } from '../../prng.ts';
import { conversationBasics, messageRng, senderPattern } from './conversation-basics.ts';
import { graphTime, REFERENCE_SECONDS } from './graph-time.ts';
import { igsidFor, instagramAccountIdFor, instagramThreadId, messengerThreadId, psidFor } from './ids.ts';
import type { SimConversation, SimPage, SimParticipant, SimPlatform } from './sim-types.ts';

/**
 * The simulator's pages, deterministic: everything derives from a numeric PRNG seed, so the same
 * options always give the same page. Conversations are generated eagerly (ids, participants,
 * counts, times) but their messages and the customer's profile lazily from the conversation's own
 * seed (messages.ts, customer-profile.ts), so pages of 100,000 conversations stay cheap in time
 * and memory.
 */

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
    const senders = senderPattern(messageRng(seed), basics.messageCount);
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
  const instagramAccountId = opts.instagramAccountId ?? instagramAccountIdFor(seed);
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
