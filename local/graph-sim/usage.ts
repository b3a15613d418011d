/**
 * Rate limits and usage headers: sliding 1-second windows per rate-limit account and for the app,
 * the percentages of `X-App-Usage` / `X-Business-Use-Case-Usage`, and the throttling decision.
 *
 * - Conversations-API calls (`/{page}/conversations`, `/{conversation}`, `/{conversation}/messages`,
 *   `/{message}`) count against a rate-limit account: the Page for Messenger, the Instagram account for
 *   Instagram. Each account has a sliding window of 1 s; when `rateLimitPerSecond` is a number, a call
 *   finding that many accepted calls in the last second is rejected (HTTP 400, code 80006 for
 *   Messenger, 80002 for Instagram). Rejected calls do not extend the window. `null` disables it.
 * - `X-Business-Use-Case-Usage` on those calls: `{"<page-or-ig-id>":[{"type":"messenger"|"instagram",
 *   "call_count":P,"total_cputime":P/4,"total_time":P/2,"estimated_time_to_regain_access":0}]}` where
 *   P = 100 × (accepted calls in the last second) / rateLimitPerSecond (so 100 = the next call is
 *   throttled; a rejected call reports above 100). `estimated_time_to_regain_access` is in minutes, as
 *   in Graph: the simulator's block lasts under a second, so it is 0.
 * - Other calls with a page token (page and profile reads) report `{"<page-id>":[{"type":"pages",...}]}`
 *   against an allowance of 10 × rateLimitPerSecond per second, never enforced.
 * - `X-App-Usage` `{"call_count":P,"total_time":P/2,"total_cputime":P/4}`: every Graph call in the
 *   last second against an allowance of 10 × rateLimitPerSecond, never enforced.
 * - With `rateLimitPerSecond: null` every percentage is 0 (no allowance in force).
 */

const WINDOW_MS = 1000;

export interface Bucket {
  /** Object id the usage header is keyed by (page id or Instagram account id). */
  id: string;
  type: 'messenger' | 'instagram' | 'pages';
  /** Whether the Conversations API rate limit applies. */
  limited: boolean;
}

class SlidingWindow {
  private times: number[] = [];

  count(now: number): number {
    const cutoff = now - WINDOW_MS;
    let drop = 0;
    while (drop < this.times.length && (this.times[drop] ?? 0) <= cutoff) drop++;
    if (drop > 0) this.times.splice(0, drop);
    return this.times.length;
  }

  add(now: number): number {
    this.times.push(now);
    return this.count(now);
  }
}

export const usage = (callCount: number) => ({
  call_count: callCount,
  total_cputime: Math.floor(callCount / 4),
  total_time: Math.floor(callCount / 2),
});

export interface Metered {
  /** The `call_count` percentage of the bucket's usage header. */
  callCount: number;
  /** Calls (accepted or rejected) in the last second, for limited buckets. */
  attempts?: number;
  rejected: boolean;
}

export class UsageMeter {
  private app = new SlidingWindow();
  private accepted = new Map<string, SlidingWindow>();
  private attempts = new Map<string, SlidingWindow>();

  /** Calls per second per rate-limit account; null: nothing enforced and every percentage 0. */
  constructor(private readonly rateLimit: number | null) {}

  private percent(count: number, allowance: number | null): number {
    return allowance === null ? 0 : Math.round((100 * count) / allowance);
  }

  private windowFor(map: Map<string, SlidingWindow>, key: string): SlidingWindow {
    let window = map.get(key);
    if (!window) {
      window = new SlidingWindow();
      map.set(key, window);
    }
    return window;
  }

  private get wideAllowance(): number | null {
    return this.rateLimit === null ? null : this.rateLimit * 10;
  }

  /** Counts a Graph call against the app; returns the `X-App-Usage` percentage. */
  appCall(now: number): number {
    return this.percent(this.app.add(now), this.wideAllowance);
  }

  /** Counts a call against its bucket and decides whether the rate limit rejects it. */
  bucketCall(bucket: Bucket, now: number): Metered {
    const key = `${bucket.type}:${bucket.id}`;
    if (!bucket.limited) {
      return {
        callCount: this.percent(this.windowFor(this.accepted, key).add(now), this.wideAllowance),
        rejected: false,
      };
    }
    const attempts = this.windowFor(this.attempts, key).add(now);
    const accepted = this.windowFor(this.accepted, key);
    const inWindow = accepted.count(now);
    if (this.rateLimit !== null && inWindow >= this.rateLimit) {
      return { callCount: this.percent(inWindow + 1, this.rateLimit), attempts, rejected: true };
    }
    return { callCount: this.percent(accepted.add(now), this.rateLimit), attempts, rejected: false };
  }

  reset(): void {
    this.app = new SlidingWindow();
    this.accepted = new Map();
    this.attempts = new Map();
  }
}
