import type { ConversationPage, GraphClient } from '#shared/graph/graph-client.ts';

/** The ids of one list page as the product reads it (conversations with their messages). */
export const listIds = (
  client: GraphClient,
  req: Parameters<GraphClient['listConversations']>[0],
): Promise<ConversationPage<string>> =>
  client.listConversations(req).then((page) => ({ items: page.items.map((c) => c.id), after: page.after }));
