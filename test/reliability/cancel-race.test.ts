import { describe, expect, it } from 'vitest';
import {
  CANCEL_POINTS,
  type CancelRaceResult,
  describeOutcomes,
  MAX_EXTRA_DELAY_MS,
  planCancelRace,
  runCancelRace,
} from './cancel-race.ts';
import { harnessForFile } from './harness.ts';

/**
 * The cancel-race section on its own, bounded for `npm test`: 14 seeded trials, 6 at a time on
 * 6 small pages (12 Messenger + 6 Instagram conversations, chunks of 3, continue-as-new after 3
 * chunks), every cancel point drawn twice. The section reports violations instead of throwing;
 * the test asserts there are none, and that the cancels landed where they were aimed.
 */

const TRIALS = 14;
const CONCURRENCY = 6;
const SEED = 1;

const harness = harnessForFile({ pages: 6 });

describe('cancel races', () => {
  it('the plan is deterministic per seed and covers every cancel point', () => {
    const plan = planCancelRace(TRIALS, SEED);
    expect(plan).toEqual(planCancelRace(TRIALS, SEED));
    expect(plan).toHaveLength(TRIALS);
    for (const point of CANCEL_POINTS)
      expect(plan.filter((t) => t.point === point).length, point).toBeGreaterThan(0);
    for (const t of plan) expect(t.delayMs).toSatisfy((d: number) => d >= 0 && d <= MAX_EXTRA_DELAY_MS);
    expect(planCancelRace(TRIALS, SEED + 1)).not.toEqual(plan);
  });

  it(`a cancel at any point keeps every invariant (${TRIALS} trials, ${CONCURRENCY} at a time)`, async () => {
    const result: CancelRaceResult = await runCancelRace(harness(), {
      trials: TRIALS,
      concurrency: CONCURRENCY,
      seed: SEED,
    });
    console.info(
      `[cancel races] ${result.trials} trials, ${result.requests} requests in ${result.durationMs} ms\n${describeOutcomes(result.outcomes)}`,
    );
    expect(result.section).toBe('cancel races');
    expect(result.violations).toEqual([]);
    expect(result.trials).toBe(TRIALS);
    expect(result.faults).toBe(0);
    expect(result.inputs).toBe(0);
    expect(result.requests).toBeGreaterThan(TRIALS * 5);

    // Every cancel point was drawn and run.
    for (const point of CANCEL_POINTS)
      expect(result.outcomes.filter((o) => o.plan.point === point).length, point).toBeGreaterThan(0);
    // The cancels landed where they were aimed. Before StartExecution returned: the cancel found
    // no execution to stop (a very loaded machine may push one of them past it, not all).
    const early = result.outcomes.filter((o) => o.plan.point === 'before-start');
    expect(
      early.some((o) => o.landed.startsWith('CANCELLED before StartExecution returned')),
      describeOutcomes(early),
    ).toBe(true);
    // During finalize: every conversation counted, and the cancel wins over finalize's commit
    // (a very loaded machine may let one of them complete first, not all).
    const finalizing = result.outcomes.filter((o) => o.plan.point === 'finalize');
    expect(
      finalizing.some((o) => o.finalStatus === 'CANCELLED' && /^CANCELLED at (\d+)\+0\/\1 /.test(o.landed)),
      describeOutcomes(finalizing),
    ).toBe(true);
    // After completion: the documented 400.
    for (const o of result.outcomes.filter((o) => o.plan.point === 'after-completion'))
      expect(o.cancelStatus, `trial ${o.plan.trial}`).toBe(400);
    // The mid-run points end CANCELLED.
    for (const o of result.outcomes.filter((o) => ['discovery', 'mid-chunk'].includes(o.plan.point)))
      expect(o.finalStatus, `trial ${o.plan.trial}: ${o.landed}`).toBe('CANCELLED');
  }, 90_000);
});
