/**
 * Tabs of the same console tell each other that something changed (a sync started or stopped, a
 * page was disconnected), so the others refresh at once instead of at their next poll.
 */
export type TabMessage = { type: 'changed'; pageId?: string };

const CHANNEL = 'contact-sync';

export function openTabChannel(onMessage: (message: TabMessage) => void): {
  post(message: TabMessage): void;
  close(): void;
} {
  if (typeof BroadcastChannel === 'undefined') return { post() {}, close() {} };
  const channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = (event: MessageEvent<TabMessage>) => {
    if (event.data?.type === 'changed') onMessage(event.data);
  };
  return { post: (message) => channel.postMessage(message), close: () => channel.close() };
}
