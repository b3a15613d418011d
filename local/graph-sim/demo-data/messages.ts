import { hash32, mulberry32, pick, type Rng, randomInt } from '../../prng.ts';
import { conversationCustomer, conversationOwner, messageRng, senderPattern } from './conversation-basics.ts';
import { graphTime, parseGraphTimeSeconds, REFERENCE_SECONDS } from './graph-time.ts';
import { messageId } from './ids.ts';
import {
  BUSINESS_REPLIES,
  CUSTOMER_OPENERS,
  fillTemplate,
  GENERIC_BUSINESS,
  laterCustomerText,
  STICKERS,
} from './phrases.ts';
import type { SimAttachment, SimConversation, SimMessage, SimPlatform } from './sim-types.ts';

/** The messages of a demo conversation, generated lazily from its seed, and those added later. */

function gapSeconds(rng: Rng): number {
  const roll = rng();
  if (roll < 0.7) return randomInt(rng, 20, 600);
  if (roll < 0.95) return randomInt(rng, 600, 8 * 3600);
  return randomInt(rng, 86400, 3 * 86400);
}

function imageAttachment(rng: Rng, platform: SimPlatform, mid: string): SimAttachment {
  const id = String(randomInt(rng, 100_000_000, 999_999_999)) + String(randomInt(rng, 1_000_000, 9_999_999));
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
    size: randomInt(rng, 40_000, 2_500_000),
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
  const id = String(randomInt(rng, 100_000_000, 999_999_999)) + String(randomInt(rng, 1_000_000, 9_999_999));
  return {
    id,
    mime_type: 'application/pdf',
    name: pick(rng, ['invoice.pdf', 'receipt.pdf', 'order-details.pdf']),
    size: randomInt(rng, 20_000, 900_000),
    file_url: `https://cdn.fbsbx.com/v/t59.2708-21/${id}/invoice.pdf?_nc_cat=1&oh=${hash32(mid).toString(16)}`,
  };
}

/**
 * All messages of a conversation, newest first (`message_count` of them), generated from its seed.
 * Graph only lets clients read the first `MESSAGE_DETAIL_LIMIT` of this list.
 */
export function conversationMessages(conversation: SimConversation): SimMessage[] {
  const rng = messageRng(conversation.seed);
  const count = conversation.message_count;
  const senders = senderPattern(rng, count); // same draws as when the conversation was generated
  const customer = conversationCustomer(conversation);
  const owner = conversationOwner(conversation);
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
      } else {
        text = laterCustomerText(rng, topic, openerRoll, 0.55, 0.75);
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
  const text = laterCustomerText(rng, conversation.topic, rng(), 0.5, 0.8);
  const message: SimMessage = {
    id: messageId(conversation.id, positionFromOldest),
    created_time: graphTime(createdSeconds),
    from: conversationCustomer(conversation),
    to: { data: [conversationOwner(conversation)] },
    message: text,
  };
  if (conversation.platform === 'messenger') {
    message.tags = { data: [{ name: 'inbox' }, { name: 'source:chat' }] };
  }
  return message;
}
