import { describe, expect, it } from 'vitest';
import { planPauseResume, runPauseResume } from './pause-resume.ts';

/**
 * The pause/resume equivalence property, bounded for `npm test`: 8 seeded trials on 2 page shapes
 * (each compared with an uninterrupted sync of the same conversations), one or two pauses each.
 * `npm run test:pause-resume` runs the full size (110 trials, over 100 pause points).
 */
const TRIALS = 8;
const SEED = 3;

describe('pause/resume equivalence', () => {
  it('the plan is deterministic per seed, with one or two pauses within the range per trial', () => {
    const plan = planPauseResume(TRIALS, 2, SEED, 4000);
    expect(plan).toEqual(planPauseResume(TRIALS, 2, SEED, 4000));
    expect(planPauseResume(TRIALS, 2, SEED + 1, 4000)).not.toEqual(plan);
    for (const t of plan) {
      expect(t.pauseAfterMs.length).toBeGreaterThanOrEqual(1);
      expect(t.pauseAfterMs.length).toBeLessThanOrEqual(2);
      for (const d of t.pauseAfterMs) expect(d).toSatisfy((ms: number) => ms >= 0 && ms <= 4000);
    }
  });

  it(`a sync paused and resumed ends like an uninterrupted one (${TRIALS} trials)`, async () => {
    const result = await runPauseResume({ trials: TRIALS, shapes: 2, concurrency: 4, seed: SEED });
    console.info(
      `pause/resume: ${result.trials} trials, ${result.pausePoints} pause points, ${result.completedFirst} after completion, ${Math.round(result.durationMs / 1000)} s`,
    );

    expect(result.violations).toEqual([]);
    expect(result.trials).toBe(TRIALS);
    // Most pauses land while the sync runs: the property is about those.
    expect(result.pausePoints).toBeGreaterThanOrEqual(TRIALS / 4);
  }, 240_000);
});
