import { hash32 } from '../../prng.ts';
import { conversationBasics, conversationCustomer } from './conversation-basics.ts';
import { REFERENCE_SECONDS } from './graph-time.ts';
import type { SimConversation, SimProfile } from './sim-types.ts';

/** What `GET /{customer-id}` returns for the conversation's customer (deterministic). */
export function customerProfile(conversation: SimConversation): SimProfile {
  const basics = conversationBasics(conversation.seed);
  const customer = conversationCustomer(conversation);
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
