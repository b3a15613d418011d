import { describe, expect, it } from 'vitest';
import { harnessForFile } from './harness.ts';
import { runLoad } from './load.ts';

/**
 * The load section at its bounded size: 1,500 requests, most of them the UI's polls (autocannon),
 * the rest start/cancel cycles on 20 pages at once. No 5xx, and every job's invariants hold after.
 */
const harness = harnessForFile({ pages: 20 });

describe('reliability: load', () => {
  it('1,500 requests of polling and start/cancel on 20 pages: no 5xx, every job ends once, counts exact', async () => {
    const result = await runLoad(harness(), { requests: 1500, pages: 20 });
    console.info(
      `[load] p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; ${result.requests} requests, ` +
        `${result.trials} start/cancel cycles, ${result.violations.length} violations`,
    );
    expect(result.violations).toEqual([]);
    expect(result.section).toBe('load');
    expect(result.requests).toBeGreaterThanOrEqual(1500);
    expect(result.trials).toBeGreaterThan(0);
  }, 90_000);
});
