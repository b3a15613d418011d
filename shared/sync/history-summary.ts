/**
 * An execution's history (GetExecutionHistory's events, oldest first, possibly several pages one
 * after the other) summarized into the contract's `ExecutionSummary`: one entry per state name
 * (however many visits), the Map's iterations, how the execution ended. Pure and linear: every
 * event is looked at once, and what an event needs of its predecessor is kept per event id.
 *
 * Only names, types, counts, times, error names and (shortened) causes are read from the events:
 * never an input, output or parameters, which carry the contacts' data.
 *
 * How events are tied to state visits. Task events carry no state name; every event has a
 * `previousEventId`, and following it leads back to the `<Type>StateEntered` of the visit it belongs
 * to: Entered -> Scheduled -> Started -> Failed -> Scheduled (a retry) -> Succeeded -> Exited. The
 * events of concurrent Map iterations interleave in id order, so the array order says nothing; the
 * chain does. For each event we keep the visit "open" after it (its context): an Entered opens its
 * own visit, an Exited closes its visit and returns to the visit that contains it (a Map or a
 * Parallel), any other event stays in the context of its predecessor. Closing a container this way
 * steps over the visits inside it, whose Exited events lie on the container's chain too.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { z } from 'zod';
import type { ExecutionSummary } from '../contract.ts';
import { PROCESS_CHUNK, WORKER_STOPPED_BY_CHECK } from './workflow-state-names.ts';

export type HistorySummary = z.infer<typeof ExecutionSummary>;
type StateSummaryOut = HistorySummary['states'][number];
type EndOut = NonNullable<HistorySummary['end']>;

export interface SummaryOptions {
  /** The execution had ended when its history was read (the summary is final). */
  complete: boolean;
  /** When the history was read. */
  readAt: Date;
}

/** Distinct error names kept per state. */
export const MAX_ERRORS_PER_STATE = 10;
/** Longest error name or cause kept (longer ones are cut, ending in an ellipsis). */
export const MAX_TEXT_LENGTH = 256;

const ENTERED = 'StateEntered';
const EXITED = 'StateExited';

/** Events that start an attempt of a Task state (its retries are the attempts beyond the first). */
const ATTEMPTS = new Set(['TaskScheduled', 'LambdaFunctionScheduled', 'ActivityScheduled']);
/** Events that end an attempt well. */
const SUCCESSES = new Set(['TaskSucceeded', 'LambdaFunctionSucceeded', 'ActivitySucceeded']);

interface ErrorDetails {
  error?: string | undefined;
  cause?: string | undefined;
}

/** Events that end an attempt badly, with where each keeps its error. */
const FAILURES = new Map<string, (e: HistoryEvent) => ErrorDetails | undefined>([
  ['TaskFailed', (e) => e.taskFailedEventDetails],
  ['TaskTimedOut', (e) => e.taskTimedOutEventDetails],
  ['TaskStartFailed', (e) => e.taskStartFailedEventDetails],
  ['TaskSubmitFailed', (e) => e.taskSubmitFailedEventDetails],
  ['LambdaFunctionFailed', (e) => e.lambdaFunctionFailedEventDetails],
  ['LambdaFunctionTimedOut', (e) => e.lambdaFunctionTimedOutEventDetails],
  ['LambdaFunctionStartFailed', (e) => e.lambdaFunctionStartFailedEventDetails],
  ['LambdaFunctionScheduleFailed', (e) => e.lambdaFunctionScheduleFailedEventDetails],
  ['ActivityFailed', (e) => e.activityFailedEventDetails],
  ['ActivityTimedOut', (e) => e.activityTimedOutEventDetails],
  ['ActivityScheduleFailed', (e) => e.activityScheduleFailedEventDetails],
]);

/** The events that end an execution, with where each keeps its error. */
const ENDS = new Map<string, (e: HistoryEvent) => ErrorDetails | undefined>([
  ['ExecutionSucceeded', () => undefined],
  ['ExecutionFailed', (e) => e.executionFailedEventDetails],
  ['ExecutionAborted', (e) => e.executionAbortedEventDetails],
  ['ExecutionTimedOut', (e) => e.executionTimedOutEventDetails],
]);

interface StateTotals {
  name: string;
  type: string;
  entered: number;
  exited: number;
  firstEnteredMs: number | null;
  lastExitedMs: number | null;
  totalMs: number;
  retries: number;
  caught: number;
  failed: number;
  errors: string[];
  /** Exits whose Entered is not in the history read (a missing first page, a malformed history). */
  exitsWithoutEntry: number;
}

interface Visit {
  state: StateTotals;
  enteredMs: number | null;
  /** The visit containing this one (a Map's or a Parallel's), as the context before its Entered. */
  parent: number | null;
  open: boolean;
  attempts: number;
  lastAttemptFailed: boolean;
}

/**
 * Summarizes a history page by page, in the order GetExecutionHistory returns them (oldest first):
 * `add` each page, then take the `summary`. It keeps a few numbers per event and per visit, never
 * the events themselves.
 */
export class HistorySummarizer {
  /** Event id -> the visit open after it (the id of that visit's Entered), null when unknown. */
  readonly #context = new Map<number, number | null>();
  /** Entered event id -> that visit. */
  readonly #visits = new Map<number, Visit>();
  /** By name, in the order first seen. */
  readonly #states = new Map<string, StateTotals>();
  readonly #map = { seen: false, iterations: 0, succeeded: 0, failed: 0, aborted: 0 };
  #eventCount = 0;
  #earliestMs: number | null = null;
  #end: { type: string; ms: number | null; error: string | null; cause: string | null } | null = null;

  /** Takes the next events of the history (a page, ascending ids). Events seen before are skipped. */
  add(events: readonly HistoryEvent[]): this {
    this.#eventCount += events.length;
    for (const event of isAscending(events) ? events : [...events].sort(byId)) this.#take(event);
    return this;
  }

  summary(opts: SummaryOptions): HistorySummary {
    const states = [...this.#states.values()].map((s) => this.#stateOut(s, opts.readAt));
    const chunkTask = this.#states.get(PROCESS_CHUNK);
    const map = this.#map.seen
      ? {
          iterations: this.#map.iterations,
          succeeded: this.#map.succeeded,
          failed: this.#map.failed,
          aborted: this.#map.aborted,
          stoppedByCancelCheck: this.#states.get(WORKER_STOPPED_BY_CHECK)?.entered ?? 0,
          chunksProcessed: chunkTask ? chunkTask.exited - chunkTask.caught : 0,
        }
      : null;
    const end: EndOut | null = this.#end && {
      type: this.#end.type,
      at: iso(this.#end.ms ?? opts.readAt.getTime()),
      error: this.#end.error,
      cause: this.#end.cause,
    };
    return {
      complete: opts.complete,
      readAt: opts.readAt.toISOString(),
      eventCount: this.#eventCount,
      states,
      map,
      end,
    };
  }

  #take(event: HistoryEvent): void {
    const id = event.id;
    if (id !== undefined && this.#context.has(id)) return;
    const ms = msOf(event);
    if (ms !== null && (this.#earliestMs === null || ms < this.#earliestMs)) this.#earliestMs = ms;
    const before = this.#contextOf(event.previousEventId);
    const after = this.#apply(event, before, id, ms);
    if (id !== undefined) this.#context.set(id, after);
  }

  /** Counts what the event says and answers the context after it. */
  #apply(event: HistoryEvent, before: number | null, id: number | undefined, ms: number | null) {
    const type = event.type ?? '';

    if (type.endsWith(ENTERED)) {
      const name = event.stateEnteredEventDetails?.name;
      if (name === undefined) return before;
      const state = this.#state(name, type.slice(0, -ENTERED.length));
      state.entered += 1;
      if (state.firstEnteredMs === null) state.firstEnteredMs = ms;
      if (id === undefined) return before;
      this.#visits.set(id, {
        state,
        enteredMs: ms,
        parent: before,
        open: true,
        attempts: 0,
        lastAttemptFailed: false,
      });
      return id;
    }

    if (type.endsWith(EXITED)) {
      const name = event.stateExitedEventDetails?.name;
      if (name === undefined) return before;
      const state = this.#state(name, type.slice(0, -EXITED.length));
      state.exited += 1;
      if (ms !== null && (state.lastExitedMs === null || ms > state.lastExitedMs)) state.lastExitedMs = ms;
      const visitId = this.#openVisitNamed(name, before);
      const visit = visitId === null ? undefined : this.#visits.get(visitId);
      if (!visit) {
        state.exitsWithoutEntry += 1;
        return null;
      }
      visit.open = false;
      if (ms !== null && visit.enteredMs !== null) state.totalMs += Math.max(0, ms - visit.enteredMs);
      if (visit.lastAttemptFailed) state.caught += 1;
      return visit.parent;
    }

    const visit = before === null ? undefined : this.#visits.get(before);
    if (ATTEMPTS.has(type)) {
      if (visit) {
        visit.attempts += 1;
        if (visit.attempts > 1) visit.state.retries += 1;
        visit.lastAttemptFailed = false;
      }
      return before;
    }
    if (SUCCESSES.has(type)) {
      if (visit) visit.lastAttemptFailed = false;
      return before;
    }
    const failure = FAILURES.get(type);
    if (failure) {
      if (visit) {
        visit.state.failed += 1;
        visit.lastAttemptFailed = true;
        const error = failure(event)?.error;
        if (error) addError(visit.state, error);
      }
      return before;
    }

    switch (type) {
      case 'MapStateStarted':
        this.#map.seen = true;
        break;
      case 'MapIterationStarted':
        this.#map.seen = true;
        this.#map.iterations += 1;
        break;
      // A history read without its first page may lack the starts: what ends a Map still shows one ran.
      case 'MapIterationSucceeded':
        this.#map.seen = true;
        this.#map.succeeded += 1;
        break;
      case 'MapIterationFailed':
        this.#map.seen = true;
        this.#map.failed += 1;
        break;
      case 'MapIterationAborted':
        this.#map.seen = true;
        this.#map.aborted += 1;
        break;
      case 'ExecutionRedriven':
        // A redriven execution runs again: the failure it had ended with is no longer its end.
        this.#end = null;
        break;
      default: {
        const end = ENDS.get(type);
        if (end) {
          const details = end(event);
          this.#end = { type, ms, error: shorten(details?.error), cause: shorten(details?.cause) };
        }
      }
    }
    return before;
  }

  #contextOf(eventId: number | undefined): number | null {
    return eventId === undefined ? null : (this.#context.get(eventId) ?? null);
  }

  /**
   * The visit an Exited named `name` closes: the context before it, or, when a failure inside a
   * container was caught by the container (the inner visit never exited), the nearest enclosing one.
   */
  #openVisitNamed(name: string, context: number | null): number | null {
    let current = context;
    while (current !== null) {
      const visit = this.#visits.get(current);
      if (!visit) return null;
      if (visit.open && visit.state.name === name) return current;
      current = visit.parent;
    }
    return null;
  }

  #state(name: string, type: string): StateTotals {
    let state = this.#states.get(name);
    if (!state) {
      state = {
        name,
        type,
        entered: 0,
        exited: 0,
        firstEnteredMs: null,
        lastExitedMs: null,
        totalMs: 0,
        retries: 0,
        caught: 0,
        failed: 0,
        errors: [],
        exitsWithoutEntry: 0,
      };
      this.#states.set(name, state);
    }
    return state;
  }

  #stateOut(s: StateTotals, readAt: Date): StateSummaryOut {
    // A visit whose Entered was not read began before the first event read: that is the best known bound.
    const firstEnteredMs =
      (s.exitsWithoutEntry > 0 ? this.#earliestMs : s.firstEnteredMs) ??
      s.firstEnteredMs ??
      this.#earliestMs ??
      readAt.getTime();
    return {
      name: s.name,
      type: s.type,
      entered: s.entered,
      exited: s.exited,
      firstEnteredAt: iso(firstEnteredMs),
      lastExitedAt: s.lastExitedMs === null ? null : iso(s.lastExitedMs),
      totalMs: s.totalMs,
      retries: s.retries,
      caught: s.caught,
      failed: s.failed,
      errors: [...s.errors],
    };
  }
}

/** Summarizes a whole history (all its pages, oldest first) at once. */
export function summarizeHistory(events: readonly HistoryEvent[], opts: SummaryOptions): HistorySummary {
  return new HistorySummarizer().add(events).summary(opts);
}

function addError(state: StateTotals, error: string): void {
  const name = shorten(error) ?? '';
  if (state.errors.length < MAX_ERRORS_PER_STATE && !state.errors.includes(name)) state.errors.push(name);
}

function shorten(text: string | undefined): string | null {
  if (text === undefined) return null;
  return text.length <= MAX_TEXT_LENGTH ? text : `${text.slice(0, MAX_TEXT_LENGTH - 1)}…`;
}

function msOf(event: HistoryEvent): number | null {
  if (event.timestamp === undefined) return null;
  const ms = new Date(event.timestamp).getTime();
  return Number.isNaN(ms) ? null : ms;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function isAscending(events: readonly HistoryEvent[]): boolean {
  for (let i = 1; i < events.length; i++) {
    if ((events[i]?.id ?? 0) < (events[i - 1]?.id ?? 0)) return false;
  }
  return true;
}

function byId(a: HistoryEvent, b: HistoryEvent): number {
  return (a.id ?? 0) - (b.id ?? 0);
}
