import { describe, expect, it } from 'vitest';
import { MAX_POLL_MS, MIN_POLL_MS, nextPollDelay, type PollOutcome } from '../../web/src/use-polling.ts';

/** The waits between polls after a run of outcomes, starting from the first poll's. */
const waits = (outcomes: PollOutcome[]) => {
  let delay = MIN_POLL_MS;
  return outcomes.map((outcome) => {
    delay = nextPollDelay(delay, outcome);
    return delay;
  });
};

describe('the pace of the polling', () => {
  it('slows by half again while nothing changes, up to its slowest, and is fastest again after a change', () => {
    expect(waits(['unchanged', 'unchanged', 'unchanged', 'unchanged', 'changed', 'unchanged'])).toEqual([
      750,
      1125,
      MAX_POLL_MS,
      MAX_POLL_MS,
      MIN_POLL_MS,
      750,
    ]);
  });

  it('backs off from 2 s to 10 s, doubling, while the API does not answer, and recovers at once', () => {
    expect(waits(['failed', 'failed', 'failed', 'failed', 'failed', 'changed'])).toEqual([
      2000,
      4000,
      8000,
      10_000,
      10_000,
      MIN_POLL_MS,
    ]);
    // After a failure an unchanged list keeps the slow pace only up to the usual slowest.
    expect(waits(['failed', 'unchanged'])).toEqual([2000, MAX_POLL_MS]);
  });
});
