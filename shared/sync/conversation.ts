import type { Conversation, Participant } from '../graph/graph-responses.ts';

/** A page's own ids: the participants who are not its customers. */
interface PageIds {
  pageId: string;
  instagramAccountId?: string;
}

/** The conversation's customer: the participant who is not the page (nor its Instagram account). */
export function customerOf(page: PageIds, conversation: Conversation): Participant | undefined {
  const ownIds = new Set([page.pageId, page.instagramAccountId].filter(Boolean));
  return conversation.participants?.data.find((p) => !ownIds.has(p.id));
}

export function displayNameOf(p: Participant): string {
  return p.name || p.username || p.id;
}

export function lastMessageAtOf(conversation: Conversation): string {
  return (
    conversation.updated_time ?? conversation.messages?.data[0]?.created_time ?? new Date(0).toISOString()
  );
}

export function messageCountOf(conversation: Conversation): number {
  return conversation.message_count ?? conversation.messages?.data.length ?? 0;
}
