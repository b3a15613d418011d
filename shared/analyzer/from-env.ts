import { numberEnv, optionalEnv } from '../config.ts';
import type { ConversationAnalyzer } from './analyzer.ts';
import { LocalAnalyzer } from './local-analyzer.ts';

/** The analyzer chosen by ANALYZER (default `local`, the deterministic embedded one). */
export function analyzerFromEnv(): ConversationAnalyzer {
  const kind = optionalEnv('ANALYZER', 'local');
  if (kind === 'local') return new LocalAnalyzer(numberEnv('ANALYZER_LATENCY_MS', 0));
  throw new Error(`Unknown ANALYZER "${kind}"`);
}
