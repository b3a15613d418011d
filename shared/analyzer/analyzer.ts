import type { AiContext } from '../schemas.ts';

export interface AnalyzerMessage {
  fromCustomer: boolean;
  text: string;
  createdAt: string;
}

/** Turns a conversation's messages into an `aiContext`. Implementations honour `signal`. */
export interface ConversationAnalyzer {
  analyze(messages: AnalyzerMessage[], signal?: AbortSignal): Promise<AiContext>;
}
