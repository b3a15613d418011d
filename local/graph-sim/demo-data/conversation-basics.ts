import { hash32, mulberry32, pick, type Rng } from '../../prng.ts';
import { YEAR_SECONDS } from './graph-time.ts';
import { FIRST_NAMES, LAST_NAMES } from './phrases.ts';
import {
  MAX_MESSAGES_PER_CONVERSATION,
  SIM_TOPICS,
  type SimConversation,
  type SimParticipant,
  type SimTopic,
} from './sim-types.ts';

/**
 * What a demo conversation is made of, drawn from its own PRNG seed: the page's list is generated
 * eagerly from it, its messages and its customer's profile lazily, from the same draws.
 */

/** Conversation-level facts, all drawn from the conversation seed (so they can be recomputed lazily). */
export interface ConversationBasics {
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

export function conversationBasics(seed: number): ConversationBasics {
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

/** The PRNG of a conversation's messages, from the conversation's seed. */
export function messageRng(seed: number): Rng {
  return mulberry32(hash32(seed, 'messages'));
}

/** Who sent each message, oldest first: true = the customer. The first message is always the customer's. */
export function senderPattern(rng: Rng, count: number): boolean[] {
  const senders: boolean[] = [];
  let customer = true;
  for (let i = 0; i < count; i++) {
    if (i > 0 && rng() < 0.55) customer = !customer;
    senders.push(customer);
  }
  return senders;
}

/** The conversation's customer (participant 0). */
export function conversationCustomer(conversation: SimConversation): SimParticipant {
  const customer = conversation.participants.data[0];
  if (!customer) throw new Error(`conversation ${conversation.id} has no customer`);
  return customer;
}

/** The page's own participant in the conversation (participant 1). */
export function conversationOwner(conversation: SimConversation): SimParticipant {
  const owner = conversation.participants.data[1];
  if (!owner) throw new Error(`conversation ${conversation.id} has no page participant`);
  return owner;
}
