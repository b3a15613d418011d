import { useEffect, useRef } from 'react';

/**
 * Polling while something is worth watching: the first poll after half a second, then 1.5x slower
 * while nothing changes, never slower than MAX_POLL_MS, so a change made anywhere (another tab,
 * another device, curl) shows within 2 s; back to the fastest pace whenever something moves.
 */
export const MIN_POLL_MS = 500;
export const MAX_POLL_MS = 1500;
/** After a failed poll: doubling from 2 s up to 10 s, until the API answers again. */
const MIN_ERROR_POLL_MS = 2000;
const MAX_ERROR_POLL_MS = 10_000;

export type PollOutcome = 'changed' | 'unchanged' | 'failed';

/** The wait before the next poll, given the wait before this one and what this one saw. */
export function nextPollDelay(delay: number, outcome: PollOutcome): number {
  if (outcome === 'changed') return MIN_POLL_MS;
  if (outcome === 'unchanged') return Math.min(delay * 1.5, MAX_POLL_MS);
  return Math.min(Math.max(delay * 2, MIN_ERROR_POLL_MS), MAX_ERROR_POLL_MS);
}

export interface Polling {
  /** Reads what is watched. */
  poll(): Promise<void>;
  /** What was last read, as a string that differs whenever anything watched differs. */
  signature(): string;
  /** A poll failed; the next one comes later. */
  onError(error: unknown): void;
  /**
   * The least wait before the next poll (ms) that what was last read asks for, such as a
   * Retry-After; the pace above applies when it is shorter (or absent).
   */
  minDelay?(): number;
}

/** Polls while `enabled`, at the pace above; stops at once when it turns false or on unmount. */
export function usePolling(enabled: boolean, polling: Polling): void {
  const latest = useRef(polling);
  latest.current = polling;

  useEffect(() => {
    if (!enabled) return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let delay = MIN_POLL_MS;
    let last = latest.current.signature();
    const wait = () => Math.max(delay, latest.current.minDelay?.() ?? 0);
    const tick = async () => {
      try {
        await latest.current.poll();
        const now = latest.current.signature();
        delay = nextPollDelay(delay, now === last ? 'unchanged' : 'changed');
        last = now;
      } catch (error) {
        latest.current.onError(error);
        delay = nextPollDelay(delay, 'failed');
      }
      if (!cancelled) timer = setTimeout(tick, wait());
    };
    timer = setTimeout(tick, wait());
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [enabled]);
}
