import { numberEnv, optionalEnv, requiredEnv } from '../config.ts';
import type { ConversationAnalyzer } from './analyzer.ts';
import { BedrockAnalyzer } from './bedrock-analyzer.ts';
import { LocalAnalyzer } from './local-analyzer.ts';

/**
 * The analyzer chosen by ANALYZER: `local` (default, the deterministic embedded one) or
 * `bedrock` (Converse with BEDROCK_MODEL_ID). Read once at cold start; a bad value fails fast.
 */
export function analyzerFromEnv(): ConversationAnalyzer {
  const kind = optionalEnv('ANALYZER', 'local');
  switch (kind) {
    case 'local':
      return new LocalAnalyzer(numberEnv('ANALYZER_LATENCY_MS', 0), numberEnv('ANALYZER_SUMMARY_CHARS', 0));
    case 'bedrock':
      return new BedrockAnalyzer({
        modelId: requiredEnv('BEDROCK_MODEL_ID'),
        timeoutMs: numberEnv('ANALYZER_TIMEOUT_MS', 20_000),
      });
    default:
      throw new Error(`Unknown ANALYZER "${kind}": expected "local" or "bedrock"`);
  }
}
