import type { HistoryEvent, HistoryEventType } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { ExecutionSummary } from '#shared/contract.ts';
import {
  HistorySummarizer,
  type HistorySummary,
  MAX_ERRORS_PER_STATE,
  MAX_TEXT_LENGTH,
  summarizeHistory,
} from '#shared/sync/history-summary.ts';
import { PROCESS_CHUNK, WORKER_STOPPED_BY_CHECK } from '#shared/sync/workflow-state-names.ts';

/** Histories as GetExecutionHistory answers them: ids from 1, each event pointing at the one it follows. */
const T0 = Date.parse('2025-03-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const READ_AT = new Date(T0 + 3_600_000);

/** What the states carry in their inputs and outputs: a contact, which the summary must never show. */
const EMAIL = 'jane.doe@example.com';
const DATA = JSON.stringify({ contact: { name: 'Jane Doe', email: EMAIL } });
const LAMBDA = { resourceType: 'lambda', resource: 'invoke' };

type StateType = 'Task' | 'Choice' | 'Pass' | 'Succeed' | 'Fail' | 'Wait' | 'Map' | 'Parallel';

class HistoryBuilder {
  readonly events: HistoryEvent[] = [];

  /** Appends an event that follows `previous`, `ms` after T0, and answers its id. */
  push(type: HistoryEventType, previous: number, ms: number, details: Partial<HistoryEvent> = {}): number {
    const id = this.events.length + 1;
    this.events.push({ id, previousEventId: previous, type, timestamp: new Date(T0 + ms), ...details });
    return id;
  }

  /** Starts the execution: answers its main path. */
  start(): Path {
    const path = new Path(this, 0);
    return path.emit('ExecutionStarted', 0, {
      executionStartedEventDetails: { input: DATA, roleArn: 'arn:aws:iam::123456789012:role/sfn' },
    });
  }

  /** A path of events each following the one before: the main path, a Map iteration. */
  path(from: number): Path {
    return new Path(this, from);
  }
}

class Path {
  readonly #history: HistoryBuilder;
  last: number;

  constructor(history: HistoryBuilder, last: number) {
    this.#history = history;
    this.last = last;
  }

  emit(type: HistoryEventType, ms: number, details: Partial<HistoryEvent> = {}): this {
    this.last = this.#history.push(type, this.last, ms, details);
    return this;
  }

  enter(type: StateType, name: string, ms: number): this {
    return this.emit(`${type}StateEntered` as HistoryEventType, ms, {
      stateEnteredEventDetails: { name, input: DATA, inputDetails: { truncated: false } },
    });
  }

  exit(type: Exclude<StateType, 'Fail'>, name: string, ms: number): this {
    return this.emit(`${type}StateExited` as HistoryEventType, ms, {
      stateExitedEventDetails: { name, output: DATA, outputDetails: { truncated: false } },
    });
  }

  /** A state passed through at once (a Pass, a Choice, a Succeed). */
  through(type: 'Pass' | 'Choice' | 'Succeed' | 'Wait', name: string, ms: number): this {
    return this.enter(type, name, ms).exit(type, name, ms);
  }

  scheduled(ms: number): this {
    return this.emit('TaskScheduled', ms, {
      taskScheduledEventDetails: {
        ...LAMBDA,
        region: 'eu-west-1',
        parameters: JSON.stringify({ FunctionName: 'process', Payload: { email: EMAIL } }),
      },
    });
  }

  started(ms: number): this {
    return this.emit('TaskStarted', ms, { taskStartedEventDetails: LAMBDA });
  }

  succeeded(ms: number): this {
    return this.emit('TaskSucceeded', ms, { taskSucceededEventDetails: { ...LAMBDA, output: DATA } });
  }

  failed(ms: number, error: string, cause = `${error}: could not reach ${EMAIL}`): this {
    return this.emit('TaskFailed', ms, { taskFailedEventDetails: { ...LAMBDA, error, cause } });
  }

  /** A Task state's visit: an attempt failing with each of `failures`, then one succeeding. */
  task(name: string, from: number, to: number, failures: string[] = []): this {
    this.enter('Task', name, from);
    for (const error of failures) this.scheduled(from).started(from).failed(from, error);
    return this.scheduled(from).started(from).succeeded(to).exit('Task', name, to);
  }

  iteration(ms: number, index: number): this {
    return this.emit('MapIterationStarted', ms, {
      mapIterationStartedEventDetails: { name: 'Workers', index },
    });
  }
}

/** Summarizes and proves the summary is the contract's shape. */
function summarize(events: HistoryEvent[], complete = true): HistorySummary {
  const summary = summarizeHistory(events, { complete, readAt: READ_AT });
  return ExecutionSummary.parse(summary);
}

function stateOf(summary: HistorySummary, name: string) {
  const state = summary.states.find((s) => s.name === name);
  if (!state) throw new Error(`no state ${name} in the summary`);
  return state;
}

const MORE = 'More chunks for this worker?';
const NEXT = 'Take the next chunk';
const CHECK = 'Check if cancelled before the chunk';
const RUNNING = 'Is job still running? (chunk)';
const THROTTLED = 'Lambda.TooManyRequestsException';

/**
 * Three worker slots at once, their events interleaved in id order:
 * - slot 2 enters its chunk first (0 ms), fails, is retried and fails again at 1500: the iteration
 *   fails, the Map fails and its Catch takes it on;
 * - slot 0 processes a chunk (100-1100 ms), checks, processes another (1120-1320) and is done;
 * - slot 1 processes a chunk (200-400), checks and finds the job no longer running.
 * Paired through the chain the chunk visits last 1000 + 200 + 200 ms; paired first in first out by
 * name they would be 400 + 1000 + 1120.
 */
function mapHistory(): HistoryBuilder {
  const h = new HistoryBuilder();
  const main = h.start().through('Pass', 'Worker slots', 0).enter('Map', 'Workers', 0);
  main.emit('MapStateStarted', 0, { mapStateStartedEventDetails: { length: 3 } });
  const a = h.path(main.last).iteration(0, 0);
  const b = h.path(main.last).iteration(0, 1);
  const c = h.path(main.last).iteration(0, 2);

  c.enter('Task', PROCESS_CHUNK, 0).scheduled(0).started(5);
  a.enter('Task', PROCESS_CHUNK, 100).scheduled(100).started(105);
  c.failed(150, THROTTLED);
  b.enter('Task', PROCESS_CHUNK, 200).scheduled(200).started(205);
  c.scheduled(250).started(255);
  b.succeeded(400).exit('Task', PROCESS_CHUNK, 400);
  b.through('Choice', MORE, 400).through('Pass', NEXT, 400).task(CHECK, 400, 420);
  b.through('Choice', RUNNING, 420).through('Succeed', WORKER_STOPPED_BY_CHECK, 420);
  b.emit('MapIterationSucceeded', 420, { mapIterationSucceededEventDetails: { name: 'Workers', index: 1 } });
  a.succeeded(1100).exit('Task', PROCESS_CHUNK, 1100);
  a.through('Choice', MORE, 1100).through('Pass', NEXT, 1100).task(CHECK, 1100, 1120);
  a.through('Choice', RUNNING, 1120).task(PROCESS_CHUNK, 1120, 1320);
  a.through('Choice', MORE, 1320).through('Succeed', 'Worker done', 1320);
  a.emit('MapIterationSucceeded', 1320, { mapIterationSucceededEventDetails: { name: 'Workers', index: 0 } });
  c.failed(1500, THROTTLED);
  c.emit('MapIterationFailed', 1500, { mapIterationFailedEventDetails: { name: 'Workers', index: 2 } });
  const end = h.path(c.last).emit('MapStateFailed', 1500).exit('Map', 'Workers', 1500);
  end.through('Pass', 'Record the failure', 1500).enter('Fail', 'Sync failed', 1500);
  end.emit('ExecutionFailed', 1500, {
    executionFailedEventDetails: { error: THROTTLED, cause: 'throttled' },
  });
  return h;
}

/** A plain run: a Pass, a Task, a Choice, the Succeed state. */
function plainHistory(): HistoryBuilder {
  const h = new HistoryBuilder();
  h.start()
    .enter('Pass', 'Prepare', 0)
    .exit('Pass', 'Prepare', 10)
    .task('Read the conversations', 10, 260)
    .through('Choice', 'Anything left?', 260)
    .through('Succeed', 'Done', 270)
    .emit('ExecutionSucceeded', 270, { executionSucceededEventDetails: { output: DATA } });
  return h;
}

describe('summarizeHistory', () => {
  it('summarizes a plain run, one entry per state in the order entered', () => {
    const h = plainHistory();
    const summary = summarize(h.events);

    expect(summary).toMatchObject({
      complete: true,
      readAt: READ_AT.toISOString(),
      eventCount: h.events.length,
      map: null,
      end: { type: 'ExecutionSucceeded', at: at(270), error: null, cause: null },
    });
    expect(summary.states.map((s) => [s.name, s.type])).toEqual([
      ['Prepare', 'Pass'],
      ['Read the conversations', 'Task'],
      ['Anything left?', 'Choice'],
      ['Done', 'Succeed'],
    ]);
    expect(stateOf(summary, 'Read the conversations')).toEqual({
      name: 'Read the conversations',
      type: 'Task',
      entered: 1,
      exited: 1,
      firstEnteredAt: at(10),
      lastExitedAt: at(260),
      totalMs: 250,
      retries: 0,
      caught: 0,
      failed: 0,
      errors: [],
    });
    expect(stateOf(summary, 'Prepare')).toMatchObject({ entered: 1, exited: 1, totalMs: 10 });
  });

  it('counts a Lambda retried twice before it succeeded (the legacy Lambda events)', () => {
    const h = new HistoryBuilder();
    const path = h.start().enter('Task', 'Fetch the page', 0);
    path.emit('LambdaFunctionScheduled', 0, {
      lambdaFunctionScheduledEventDetails: { resource: 'arn:aws:lambda:fetch', input: DATA },
    });
    path.emit('LambdaFunctionStarted', 5);
    path.emit('LambdaFunctionFailed', 50, {
      lambdaFunctionFailedEventDetails: { error: THROTTLED, cause: 'Rate exceeded' },
    });
    path.emit('LambdaFunctionScheduled', 1050, {
      lambdaFunctionScheduledEventDetails: { resource: 'arn:aws:lambda:fetch', input: DATA },
    });
    path.emit('LambdaFunctionStarted', 1055);
    path.emit('LambdaFunctionTimedOut', 4055, {
      lambdaFunctionTimedOutEventDetails: { error: 'States.Timeout', cause: 'timed out' },
    });
    path.emit('LambdaFunctionScheduled', 6055, {
      lambdaFunctionScheduledEventDetails: { resource: 'arn:aws:lambda:fetch', input: DATA },
    });
    path.emit('LambdaFunctionStarted', 6060);
    path.emit('LambdaFunctionSucceeded', 6100, { lambdaFunctionSucceededEventDetails: { output: DATA } });
    path.exit('Task', 'Fetch the page', 6100).through('Succeed', 'Done', 6100);
    path.emit('ExecutionSucceeded', 6100);

    expect(stateOf(summarize(h.events), 'Fetch the page')).toMatchObject({
      entered: 1,
      exited: 1,
      totalMs: 6100,
      retries: 2,
      failed: 2,
      caught: 0,
      errors: [THROTTLED, 'States.Timeout'],
    });
  });

  it('counts a failed task that its Catch took on, and the state the Catch went to', () => {
    const h = new HistoryBuilder();
    const path = h.start().enter('Task', 'Commit the contacts', 0).scheduled(0).started(5);
    path.failed(300, 'CrmUnavailable', 'The CRM answered 503').exit('Task', 'Commit the contacts', 300);
    path.through('Pass', 'Record the failure', 300).enter('Fail', 'Sync failed', 310);
    path.emit('ExecutionFailed', 310, {
      executionFailedEventDetails: { error: 'CrmUnavailable', cause: 'The CRM answered 503' },
    });
    const summary = summarize(h.events);

    expect(stateOf(summary, 'Commit the contacts')).toMatchObject({
      entered: 1,
      exited: 1,
      totalMs: 300,
      retries: 0,
      failed: 1,
      caught: 1,
      errors: ['CrmUnavailable'],
    });
    expect(stateOf(summary, 'Record the failure')).toMatchObject({ entered: 1, exited: 1, caught: 0 });
    expect(stateOf(summary, 'Sync failed')).toMatchObject({
      type: 'Fail',
      entered: 1,
      exited: 0,
      lastExitedAt: null,
      totalMs: 0,
    });
    expect(summary.end).toEqual({
      type: 'ExecutionFailed',
      at: at(310),
      error: 'CrmUnavailable',
      cause: 'The CRM answered 503',
    });
  });

  it('pairs the visits of concurrent Map iterations through the chain, not first in first out', () => {
    const summary = summarize(mapHistory().events);

    expect(stateOf(summary, PROCESS_CHUNK)).toEqual({
      name: PROCESS_CHUNK,
      type: 'Task',
      entered: 4,
      exited: 3,
      firstEnteredAt: at(0),
      lastExitedAt: at(1320),
      totalMs: 1000 + 200 + 200,
      retries: 1,
      caught: 0,
      failed: 2,
      errors: [THROTTLED],
    });
    expect(summary.map).toEqual({
      iterations: 3,
      succeeded: 2,
      failed: 1,
      aborted: 0,
      stoppedByCancelCheck: 1,
      chunksProcessed: 3,
    });
    // The Map's Catch left it from inside the failed iteration's chunk visit, which never exited.
    expect(stateOf(summary, 'Workers')).toMatchObject({ type: 'Map', entered: 1, exited: 1, totalMs: 1500 });
    expect(stateOf(summary, CHECK)).toMatchObject({ entered: 2, exited: 2, totalMs: 40 });
    expect(stateOf(summary, WORKER_STOPPED_BY_CHECK)).toMatchObject({ type: 'Succeed', entered: 1 });
    expect(summary.states.map((s) => s.name)).toEqual([
      'Worker slots',
      'Workers',
      PROCESS_CHUNK,
      MORE,
      NEXT,
      CHECK,
      RUNNING,
      WORKER_STOPPED_BY_CHECK,
      'Worker done',
      'Record the failure',
      'Sync failed',
    ]);
    expect(summary.end).toMatchObject({ type: 'ExecutionFailed', error: THROTTLED, cause: 'throttled' });
  });

  it('summarizes an aborted execution: its end, and the visits it left open', () => {
    const h = new HistoryBuilder();
    const main = h.start().through('Pass', 'Worker slots', 0).enter('Map', 'Workers', 0);
    main.emit('MapStateStarted', 0, { mapStateStartedEventDetails: { length: 2 } });
    const a = h.path(main.last).iteration(0, 0);
    const b = h.path(main.last).iteration(0, 1);
    a.enter('Task', PROCESS_CHUNK, 10).scheduled(10).started(15);
    b.enter('Task', PROCESS_CHUNK, 20).scheduled(20).started(25);
    b.succeeded(300).exit('Task', PROCESS_CHUNK, 300).through('Choice', MORE, 300).through('Pass', NEXT, 300);
    b.enter('Task', CHECK, 300).scheduled(300).started(305);
    const stop = h.path(b.last);
    stop.emit('MapIterationAborted', 500, { mapIterationAbortedEventDetails: { name: 'Workers', index: 0 } });
    stop.emit('MapIterationAborted', 500, { mapIterationAbortedEventDetails: { name: 'Workers', index: 1 } });
    stop.emit('MapStateAborted', 500);
    stop.emit('ExecutionAborted', 500, {
      executionAbortedEventDetails: { error: 'SyncCancelled', cause: 'Cancelled by the user' },
    });
    const summary = summarize(h.events);

    expect(summary.end).toEqual({
      type: 'ExecutionAborted',
      at: at(500),
      error: 'SyncCancelled',
      cause: 'Cancelled by the user',
    });
    expect(summary.map).toMatchObject({
      iterations: 2,
      succeeded: 0,
      failed: 0,
      aborted: 2,
      chunksProcessed: 1,
    });
    expect(stateOf(summary, 'Workers')).toMatchObject({
      entered: 1,
      exited: 0,
      lastExitedAt: null,
      totalMs: 0,
    });
    expect(stateOf(summary, PROCESS_CHUNK)).toMatchObject({
      entered: 2,
      exited: 1,
      lastExitedAt: at(300),
      totalMs: 280,
    });
    expect(stateOf(summary, CHECK)).toMatchObject({ entered: 1, exited: 0, lastExitedAt: null });
    for (const state of summary.states) expect(state.exited).toBeLessThanOrEqual(state.entered);
  });

  it('summarizes a history whose first page is missing, without durations it cannot know', () => {
    const full = mapHistory().events;
    // The first page held the execution's start, the Map's Entered and the first chunk's Entered.
    const events = full.slice(10);
    const summary = summarize(events, false);

    expect(summary.eventCount).toBe(events.length);
    expect(summary.complete).toBe(false);
    expect(summary.states.some((s) => s.name === 'Worker slots')).toBe(false);
    // The Map's exit counts; its Entered was not read, so it has no duration, and it began at the latest
    // when the first event read happened.
    expect(stateOf(summary, 'Workers')).toMatchObject({
      entered: 0,
      exited: 1,
      totalMs: 0,
      firstEnteredAt: at(5),
    });
    // The three chunk visits whose Entered was read still pair; the first one's attempts are unknown.
    expect(stateOf(summary, PROCESS_CHUNK)).toMatchObject({
      entered: 3,
      exited: 3,
      totalMs: 1400,
      retries: 0,
    });
    expect(summary.map).toMatchObject({ iterations: 0, succeeded: 2, failed: 1, chunksProcessed: 3 });
    expect(summary.end).toMatchObject({ type: 'ExecutionFailed' });

    // Whatever page is missing, the summary is still one.
    for (let from = 1; from < full.length; from += 7) summarize(full.slice(from));
  });

  it('summarizes page by page as it does all at once, and in either order', () => {
    const events = mapHistory().events;
    const whole = summarize(events);
    const summarizer = new HistorySummarizer();
    for (let i = 0; i < events.length; i += 10) summarizer.add(events.slice(i, i + 10));
    expect(summarizer.summary({ complete: true, readAt: READ_AT })).toEqual(whole);
    expect(summarize([...events].reverse())).toEqual(whole);
  });

  it.each<[HistoryEventType, Partial<HistoryEvent>, string | null, string | null]>([
    ['ExecutionSucceeded', { executionSucceededEventDetails: { output: DATA } }, null, null],
    ['ExecutionFailed', { executionFailedEventDetails: { error: 'E', cause: 'C' } }, 'E', 'C'],
    ['ExecutionAborted', { executionAbortedEventDetails: {} }, null, null],
    [
      'ExecutionTimedOut',
      { executionTimedOutEventDetails: { error: 'States.Timeout', cause: 'too long' } },
      'States.Timeout',
      'too long',
    ],
  ])('reads the end from %s', (type, details, error, cause) => {
    const h = new HistoryBuilder();
    h.start().through('Pass', 'Prepare', 0).emit(type, 40, details);
    expect(summarize(h.events).end).toEqual({ type, at: at(40), error, cause });
  });

  it('has no end while the execution runs, nor once it is redriven', () => {
    const h = new HistoryBuilder();
    const path = h.start().enter('Task', 'Work', 0).scheduled(0).started(0);
    expect(summarize(h.events, false).end).toBeNull();
    path.failed(10, 'Boom').emit('ExecutionFailed', 10, { executionFailedEventDetails: { error: 'Boom' } });
    expect(summarize(h.events).end).toMatchObject({ type: 'ExecutionFailed', error: 'Boom', cause: null });
    path.emit('ExecutionRedriven', 20, { executionRedrivenEventDetails: { redriveCount: 1 } });
    expect(summarize(h.events, false).end).toBeNull();
    path.scheduled(20).started(20).succeeded(30).exit('Task', 'Work', 30).emit('ExecutionSucceeded', 30);
    expect(summarize(h.events).end).toMatchObject({ type: 'ExecutionSucceeded' });
  });

  it('keeps a bounded list of error names and shortens long causes', () => {
    const h = new HistoryBuilder();
    const path = h.start();
    for (let i = 0; i < 12; i++) {
      path
        .enter('Task', 'Send to the CRM', i * 10)
        .scheduled(i * 10)
        .started(i * 10);
      path.failed(i * 10 + 5, `Error${i % 11}`).exit('Task', 'Send to the CRM', i * 10 + 5);
      path.through('Wait', 'Back off', i * 10 + 5);
    }
    path.enter('Fail', 'Sync failed', 200);
    path.emit('ExecutionFailed', 200, {
      executionFailedEventDetails: { error: 'E'.repeat(1000), cause: 'x'.repeat(1000) },
    });
    const summary = summarize(h.events);

    expect(stateOf(summary, 'Send to the CRM')).toMatchObject({
      entered: 12,
      exited: 12,
      failed: 12,
      caught: 12,
      retries: 0,
      totalMs: 60,
      errors: Array.from({ length: MAX_ERRORS_PER_STATE }, (_, i) => `Error${i}`),
    });
    expect(stateOf(summary, 'Back off')).toMatchObject({ type: 'Wait', entered: 12, exited: 12 });
    expect(summary.end?.cause?.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
    expect(summary.end?.error?.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
  });

  it('summarizes a history of 25,000 events, one entry per state name', () => {
    const slots = 10;
    const loops = 156;
    const h = new HistoryBuilder();
    let clock = 0;
    const tick = () => clock++;
    const main = h.start().enter('Map', 'Workers', tick());
    main.emit('MapStateStarted', tick(), { mapStateStartedEventDetails: { length: slots } });
    const paths = Array.from({ length: slots }, (_, i) => h.path(main.last).iteration(tick(), i));

    /** One worker slot, one event a step: every chunk, then the check before the next one. */
    function* worker(path: Path, slot: number): Generator<void> {
      for (let loop = 0; loop < loops; loop++) {
        path.enter('Task', PROCESS_CHUNK, tick());
        yield;
        if (slot < 7 && loop % 40 === 0) {
          for (const step of [() => path.scheduled(tick()), () => path.started(tick())]) {
            step();
            yield;
          }
          path.failed(tick(), THROTTLED);
          yield;
        }
        for (const step of [
          () => path.scheduled(tick()),
          () => path.started(tick()),
          () => path.succeeded(tick()),
          () => path.exit('Task', PROCESS_CHUNK, tick()),
          () => path.enter('Choice', MORE, tick()),
          () => path.exit('Choice', MORE, tick()),
        ]) {
          step();
          yield;
        }
        const steps =
          loop < loops - 1
            ? [
                () => path.through('Pass', NEXT, tick()),
                () => path.enter('Task', CHECK, tick()),
                () => path.scheduled(tick()).started(tick()).succeeded(tick()),
                () => path.exit('Task', CHECK, tick()),
                () => path.through('Choice', RUNNING, tick()),
              ]
            : [
                () => path.through('Succeed', 'Worker done', tick()),
                () => path.emit('MapIterationSucceeded', tick()),
              ];
        for (const step of steps) {
          step();
          yield;
        }
      }
    }
    // The slots take turns, so that their events interleave.
    const running = paths.map((path, slot) => worker(path, slot));
    while (running.length > 0) {
      for (let i = running.length - 1; i >= 0; i--) if (running[i]?.next().done) running.splice(i, 1);
    }
    h.path(h.events.length)
      .emit('MapStateSucceeded', tick())
      .exit('Map', 'Workers', tick())
      .emit('ExecutionSucceeded', tick());
    expect(h.events).toHaveLength(25_000);

    const summary = summarize(h.events);
    expect(summary.eventCount).toBe(25_000);
    expect(summary.states.map((s) => s.name)).toEqual([
      'Workers',
      PROCESS_CHUNK,
      MORE,
      NEXT,
      CHECK,
      RUNNING,
      'Worker done',
    ]);
    expect(stateOf(summary, PROCESS_CHUNK)).toMatchObject({
      entered: slots * loops,
      exited: slots * loops,
      retries: 28,
      failed: 28,
      caught: 0,
      errors: [THROTTLED],
    });
    expect(stateOf(summary, CHECK)).toMatchObject({
      entered: slots * (loops - 1),
      exited: slots * (loops - 1),
    });
    expect(stateOf(summary, 'Workers')).toMatchObject({ entered: 1, exited: 1, totalMs: clock - 2 });
    expect(summary.map).toEqual({
      iterations: slots,
      succeeded: slots,
      failed: 0,
      aborted: 0,
      stoppedByCancelCheck: 0,
      chunksProcessed: slots * loops,
    });
    expect(summary.end).toMatchObject({ type: 'ExecutionSucceeded' });
  });

  it('copies no input, output or parameters into the summary', () => {
    const histories = [plainHistory().events, mapHistory().events, mapHistory().events.slice(10)];
    for (const events of histories) {
      expect(JSON.stringify(events)).toContain(EMAIL);
      const json = JSON.stringify(summarize(events));
      expect(json).not.toContain(EMAIL);
      expect(json).not.toContain('Jane Doe');
      expect(json).not.toContain('FunctionName');
    }
  });
});
