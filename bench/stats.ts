/** Pure figures of the benchmark: percentiles, medians and the AWS cost model. */

/** The p-th percentile (0..100) by nearest rank; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile must be within 0..100, got ${p}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** The median (mean of the two middle values for an even count); NaN for no samples. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export const round = (value: number, digits = 2) => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

/**
 * AWS list prices, us-east-1, on-demand (checked 2025): Step Functions Standard per state
 * transition; Lambda arm64 per GB-second and per request; DynamoDB on-demand per read/write
 * request unit; Bedrock Claude 3 Haiku per input/output token.
 */
export const PRICES = {
  stepFunctionsPerTransition: 0.025 / 1000,
  lambdaArmPerGbSecond: 0.0000133334,
  lambdaPerRequest: 0.2 / 1_000_000,
  dynamoPerWriteUnit: 0.625 / 1_000_000,
  dynamoPerReadUnit: 0.125 / 1_000_000,
  bedrockPerInputToken: 0.00025 / 1000,
  bedrockPerOutputToken: 0.00125 / 1000,
} as const;

/** What one measured sync consumed, as counted by the benchmark. */
export interface MeasuredUsage {
  conversations: number;
  stateTransitions: number;
  lambdaInvocations: number;
  /** Sum over invocations of duration (s) x memory (GB). */
  lambdaGbSeconds: number;
  readUnits: number;
  writeUnits: number;
  bedrockInputTokens: number;
  bedrockOutputTokens: number;
}

export interface CostPer1000 {
  stepFunctionsUsd: number;
  lambdaUsd: number;
  dynamoDbUsd: number;
  /** Everything but the model. */
  totalUsd: number;
  /** The model, on its own line. */
  bedrockUsd: number;
}

/** Cost per 1,000 conversations of a measured sync, split by service. */
export function costPer1000(usage: MeasuredUsage, prices = PRICES): CostPer1000 {
  if (!(usage.conversations > 0)) throw new Error('a cost per conversation needs conversations');
  const per = 1000 / usage.conversations;
  const stepFunctionsUsd = usage.stateTransitions * prices.stepFunctionsPerTransition * per;
  const lambdaUsd =
    (usage.lambdaGbSeconds * prices.lambdaArmPerGbSecond +
      usage.lambdaInvocations * prices.lambdaPerRequest) *
    per;
  const dynamoDbUsd =
    (usage.writeUnits * prices.dynamoPerWriteUnit + usage.readUnits * prices.dynamoPerReadUnit) * per;
  const bedrockUsd =
    (usage.bedrockInputTokens * prices.bedrockPerInputToken +
      usage.bedrockOutputTokens * prices.bedrockPerOutputToken) *
    per;
  return {
    stepFunctionsUsd,
    lambdaUsd,
    dynamoDbUsd,
    totalUsd: stepFunctionsUsd + lambdaUsd + dynamoDbUsd,
    bedrockUsd,
  };
}

/**
 * Adds up DynamoDB ConsumedCapacity, whatever shape an operation returns it in (one entry or a
 * list). With TOTAL, single-item operations report only `CapacityUnits`, so `kind` (the
 * operation's nature) says whether those are read or write units.
 */
export function capacityUnits(consumed: unknown, kind: 'read' | 'write'): { read: number; write: number } {
  const out = { read: 0, write: 0 };
  for (const entry of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
    const c = entry as { ReadCapacityUnits?: number; WriteCapacityUnits?: number; CapacityUnits?: number };
    if (c.ReadCapacityUnits === undefined && c.WriteCapacityUnits === undefined) {
      out[kind] += c.CapacityUnits ?? 0;
    } else {
      out.read += c.ReadCapacityUnits ?? 0;
      out.write += c.WriteCapacityUnits ?? 0;
    }
  }
  return out;
}

/**
 * How many conversations one execution can hold before the 25,000-event history limit, from the
 * measured events per chunk and the fixed events of an execution.
 */
export function conversationsPerExecution(opts: {
  eventLimit: number;
  fixedEvents: number;
  eventsPerChunk: number;
  chunkSize: number;
}): number {
  if (!(opts.eventsPerChunk > 0)) throw new Error('eventsPerChunk must be > 0');
  const chunks = Math.floor((opts.eventLimit - opts.fixedEvents) / opts.eventsPerChunk);
  return Math.max(0, chunks) * opts.chunkSize;
}
