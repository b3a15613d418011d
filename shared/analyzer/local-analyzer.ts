import { AiContext } from '../schemas.ts';
import { sleep } from '../sleep.ts';
import type { AnalyzerMessage, ConversationAnalyzer } from './analyzer.ts';

const INTENTS: [AiContext['intent'], RegExp][] = [
  ['complaint', /\b(refund|broken|damaged|complain|terrible|worst|angry|disappointed|late)\b/i],
  ['booking', /\b(book|booking|appointment|reserve|reservation|schedule|table)\b/i],
  ['purchase', /\b(price|pricing|cost|buy|order|purchase|discount|quote|how much)\b/i],
  ['support', /\b(help|issue|problem|not working|status|tracking|delivery|shipping)\b/i],
  ['question', /\?/],
];
const POSITIVE = /\b(thanks|thank you|great|love|awesome|perfect|amazing|happy)\b/gi;
const NEGATIVE = /\b(bad|terrible|worst|angry|disappointed|broken|late|refund|never)\b/gi;

/**
 * The embedded default: deterministic keyword rules, no network. `latencyMs` simulates a model
 * call for benchmarks; the wait ends early when `signal` aborts. `summaryChars` pads the summary
 * to the size a real model writes, so that a benchmark stores Bedrock-sized contacts.
 */
export class LocalAnalyzer implements ConversationAnalyzer {
  constructor(
    private readonly latencyMs = 0,
    private readonly summaryChars = 0,
  ) {}

  async analyze(messages: AnalyzerMessage[], signal?: AbortSignal): Promise<AiContext> {
    if (this.latencyMs > 0) await sleep(this.latencyMs, signal);
    signal?.throwIfAborted();

    const customerText = messages
      .filter((m) => m.fromCustomer)
      .map((m) => m.text)
      .join(' ');
    const intent = INTENTS.find(([, pattern]) => pattern.test(customerText))?.[0] ?? 'other';
    const score = (customerText.match(POSITIVE)?.length ?? 0) - (customerText.match(NEGATIVE)?.length ?? 0);
    const sentiment = score > 0 ? 'positive' : score < 0 ? 'negative' : 'neutral';
    const base = { purchase: 70, booking: 60, question: 40, support: 30, complaint: 20, other: 10 }[intent];
    const leadScore = Math.max(0, Math.min(100, base + score * 5 + Math.min(messages.length, 20)));
    const first = messages.find((m) => m.fromCustomer && m.text)?.text ?? '';
    const tags = [intent, sentiment, ...(messages.length >= 10 ? ['engaged'] : [])];
    const written = first
      ? `${messages.length} messages; customer wrote: "${first.slice(0, 120)}"`
      : `${messages.length} messages without text`;
    const summary =
      written.length < this.summaryChars
        ? `${written} ${'.'.repeat(this.summaryChars - written.length - 1)}`
        : written;
    return AiContext.parse({ summary, intent, sentiment, leadScore, tags });
  }
}
