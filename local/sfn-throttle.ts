import { AwsJsonError } from './aws-json-server.ts';

/**
 * The token buckets Step Functions throttles its API actions with, per account and Region. The
 * defaults are AWS's published quotas for Standard workflows in US East (N. Virginia), the
 * Region of the local stack: the Step Functions Developer Guide, "Step Functions service quotas",
 * tables "Quotas related to API action throttling" (StartExecution) and "Other quotas" (the
 * rest). A call that finds its bucket empty is answered as AWS answers it: HTTP 400
 * `ThrottlingException` "Rate exceeded", which the SDKs and the CLI retry with backoff.
 */
export const AWS_API_QUOTAS = {
  StartExecution: { bucket: 1300, refillPerSecond: 300 },
  StopExecution: { bucket: 1000, refillPerSecond: 200 },
  DescribeExecution: { bucket: 300, refillPerSecond: 15 },
  DescribeStateMachine: { bucket: 200, refillPerSecond: 20 },
  DescribeStateMachineForExecution: { bucket: 200, refillPerSecond: 1 },
  GetExecutionHistory: { bucket: 400, refillPerSecond: 20 },
  ListExecutions: { bucket: 200, refillPerSecond: 5 },
  ListStateMachines: { bucket: 100, refillPerSecond: 5 },
} as const satisfies Record<string, BucketLimits>;

export type ThrottledAction = keyof typeof AWS_API_QUOTAS;

export interface BucketLimits {
  /** Tokens the bucket holds when full: the burst a caller gets after a quiet spell. */
  bucket: number;
  /** Tokens added back per second, up to `bucket`: the sustained rate. */
  refillPerSecond: number;
}

class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    readonly limits: BucketLimits,
    private readonly now: () => number,
  ) {
    this.tokens = limits.bucket;
    this.refilledAt = now();
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    const now = this.now();
    const refill = ((now - this.refilledAt) / 1000) * this.limits.refillPerSecond;
    this.tokens = Math.min(this.limits.bucket, this.tokens + refill);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * One bucket per throttled action, full at first. Test knob: `set(action, limits)` replaces an
 * action's bucket with a full one of other limits (a small bucket proves a caller degrades
 * gracefully when throttled), `reset()` goes back to AWS's quotas.
 */
export class SfnThrottle {
  private readonly buckets = new Map<ThrottledAction, TokenBucket>();

  constructor(private readonly now: () => number = () => performance.now()) {
    this.reset();
  }

  set(action: ThrottledAction, limits: BucketLimits): void {
    if (!(limits.bucket >= 0) || !(limits.refillPerSecond >= 0))
      throw new Error(`Invalid bucket limits for ${action}: ${JSON.stringify(limits)}`);
    this.buckets.set(action, new TokenBucket(limits, this.now));
  }

  /** Back to AWS's quotas, every bucket full. */
  reset(): void {
    for (const [action, limits] of Object.entries(AWS_API_QUOTAS))
      this.buckets.set(action as ThrottledAction, new TokenBucket(limits, this.now));
  }

  limits(action: ThrottledAction): BucketLimits {
    return (this.buckets.get(action) as TokenBucket).limits;
  }

  /** Spends a token of `operation` (when it is throttled at all), else fails as AWS does. */
  admit(operation: string): void {
    const bucket = this.buckets.get(operation as ThrottledAction);
    if (bucket && !bucket.take()) throw new AwsJsonError('ThrottlingException', 'Rate exceeded');
  }
}
