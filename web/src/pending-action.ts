/**
 * A request this tab sends for one page, by what its card shows while it is in flight: `sync` and
 * `full` start (or retry) a sync, `stop`, `pause` and `resume` act on its job.
 */
export type PendingAction = 'sync' | 'full' | 'stop' | 'pause' | 'resume';

/** Whether a request in flight keeps the polling going: a start has no job to watch yet. */
export const keepsPolling = (action: PendingAction) => action !== 'sync' && action !== 'full';

export interface PageRequest<T> {
  /** What the card shows meanwhile; none for a request without a state of its own (a disconnect). */
  pending?: PendingAction;
  send(): Promise<T>;
  /** The answer: what to remember of it, what to tell the user. */
  onDone?(answer: T): void;
  /** A refusal, a network error, or a failure of `onDone`. */
  onFailed(error: unknown): void;
  /** Reports the outcome once the list shows the final state rather than as soon as the answer arrives. */
  reportAfterRefresh?: boolean;
}

export interface PageRequestEffects {
  /** Marks the page with the request in flight, or clears the mark (null). */
  mark(action: PendingAction | null): void;
  /** Reads the list again; never throws (a failure shows as a poll error). */
  refresh(): Promise<void>;
  /** Tells the console's other tabs that the page changed. */
  tellOtherTabs(): void;
}

/**
 * The one way the console acts on a page: mark it pending, send the request, report the answer or
 * the error, read the list again, clear the mark, and tell the other tabs. The mark is cleared
 * whatever happens, so a card never stays busy.
 */
export async function runPendingAction<T>(
  request: PageRequest<T>,
  effects: PageRequestEffects,
): Promise<void> {
  if (request.pending) effects.mark(request.pending);
  const outcome = await request.send().then(
    (answer) => ({ answer }),
    (error: unknown) => ({ error }),
  );
  const report = () => {
    if ('error' in outcome) return request.onFailed(outcome.error);
    try {
      request.onDone?.(outcome.answer);
    } catch (error) {
      request.onFailed(error);
    }
  };
  if (!request.reportAfterRefresh) report();
  await effects.refresh();
  if (request.pending) effects.mark(null);
  if (request.reportAfterRefresh) report();
  effects.tellOtherTabs();
}
