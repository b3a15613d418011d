import { type DefinitionIndex, mapLength } from './sfn-definition.ts';
import type { TaskCall, TaskCallSink } from './sfn-task-calls.ts';

/**
 * Execution history for the local Step Functions: aws-local-stepfunctions' event log (state
 * entries, exits, failures, retries and catches, Map iterations), together with the calls of the
 * Task states (sfn-task-calls.ts), recorded as the events AWS records (`GetExecutionHistory`):
 *
 * - a state visit is `<Type>StateEntered` ... `<Type>StateExited`; a Task state's attempts in it are
 *   `TaskScheduled`, `TaskStarted`, then `TaskSucceeded`, `TaskFailed` or `TaskTimedOut` (a retry is
 *   another `TaskScheduled`); a failure caught by a Catch is followed by the state's exit;
 * - a Map visit has `MapStateStarted` {length}, `MapIterationStarted`/`Succeeded`/`Failed`/`Aborted`
 *   {name, index} per iteration and `MapStateSucceeded` (or `MapStateFailed`); a Parallel visit
 *   `ParallelStateStarted` and `ParallelStateSucceeded` (or `ParallelStateFailed`); when an iteration
 *   or branch fails, the states still running in the others get `<Type>StateAborted`;
 * - the execution starts with `ExecutionStarted` and ends with `ExecutionSucceeded`, `ExecutionFailed`,
 *   `ExecutionTimedOut` or, when stopped, `ExecutionAborted` (the Map iterations still running get
 *   `MapIterationAborted`; the states still running get no exit).
 *
 * Every event points at the one before it in its visit, and a visit's first event at the end of
 * the previous visit of its sequence (the first state of the execution at 0, the first of a Map
 * iteration at its `MapIterationStarted`, of a Parallel branch at `ParallelStateStarted`), as AWS
 * chains them: walking `previousEventId` back from a Task event reaches its state's Entered, also
 * when Map iterations interleave. Visits are told apart by state name and Map iteration index,
 * which is all the engine's log says (a Map nested in a Map's iterations is not told apart).
 */
type Json = Record<string, unknown>;

export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

export type ExecutionEnd =
  | { status: 'SUCCEEDED'; output: string }
  | { status: 'FAILED' | 'TIMED_OUT'; error?: string; cause?: string };

const REGION = 'us-east-1';
const NOT_TRUNCATED = { truncated: false };
/** The states that can be in flight when their iteration, branch or execution stops. */
const ABORTABLE = new Set(['Task', 'Wait', 'Map', 'Parallel']);

/** `TaskStateEntered` has `stateEnteredEventDetails`, `TaskScheduled` `taskScheduledEventDetails`. */
const detailsName = (type: string) =>
  /State(Entered|Exited)$/.test(type)
    ? type.replace(/^.*State(Entered|Exited)$/, 'state$1')
    : `${type[0]?.toLowerCase()}${type.slice(1)}`;
const json = (value: unknown) => JSON.stringify(value ?? null);
const text = (value: unknown) =>
  value === undefined || value === null || value === ''
    ? undefined
    : typeof value === 'string'
      ? value
      : json(value);

interface EngineState {
  name: string;
  type: string;
  input?: unknown;
  output?: unknown;
}

/** A sequence of states: the execution's top level, a Map iteration or a Parallel branch. */
interface Scope {
  key: string;
  /** The event the next state's Entered points at. */
  last: number;
  open?: Visit;
}

interface Visit {
  name: string;
  type: string;
  index: number | undefined;
  last: number;
  attempt?: { call: TaskCall; done: boolean };
  failed?: boolean;
  /** A Map or Parallel that failed: its `<Type>StateFailed` is due unless it is retried. */
  containerFailed?: boolean;
  /** Its Failed (or Aborted) event is recorded: nothing more for this visit. */
  ended?: boolean;
  map?: { started: number; iterations: Map<number, Scope>; freed: number[]; lastEnd?: number; over: boolean };
  branches?: Scope[];
}

export class HistoryRecorder implements TaskCallSink {
  readonly events: HistoryEvent[] = [];
  private readonly scopes = new Map<string, Scope>();
  private readonly openMaps = new Map<string, Visit>();
  private readonly calls = new Map<string, TaskCall[]>();
  private lastTimestamp = 0;
  private closed = false;

  constructor(
    private readonly definition: DefinitionIndex,
    private readonly execution: { input: string; roleArn: string; onEnd: (end: ExecutionEnd) => void },
  ) {
    this.scopes.set('top', { key: 'top', last: 0 });
  }

  taskCalled(state: string, index: number | undefined, call: TaskCall): void {
    const key = `${state}#${index ?? ''}`;
    const queue = this.calls.get(key) ?? [];
    queue.push(call);
    this.calls.set(key, queue);
  }

  /** Records the engine's event log until the execution ends (or is stopped). */
  async record(log: AsyncIterable<unknown>): Promise<void> {
    for await (const event of log) {
      if (this.closed) return;
      this.take(event as Json);
    }
  }

  /** StopExecution: the iterations still running are aborted, then the execution. */
  abort(error?: string, cause?: string): void {
    if (this.closed) return;
    for (const visit of this.openMaps.values()) {
      if (visit.map?.over) continue;
      for (const [index, scope] of [...(visit.map?.iterations ?? [])].sort(([a], [b]) => a - b))
        this.emit('MapIterationAborted', { name: visit.name, index }, scope.open?.last ?? scope.last);
    }
    this.emit('ExecutionAborted', { error, cause }, 0);
    this.closed = true;
  }

  private take(event: Json): void {
    const at = typeof event.timestamp === 'number' ? event.timestamp : Date.now();
    const state = event.state as EngineState | undefined;
    const index = event.index as number | undefined;
    const mapName = (event.parentState as EngineState | undefined)?.name ?? '';
    switch (event.type) {
      case 'ExecutionStarted':
        this.emit(
          'ExecutionStarted',
          { input: this.execution.input, inputDetails: NOT_TRUNCATED, roleArn: this.execution.roleArn },
          0,
          at,
        );
        return;
      case 'StateEntered':
        if (state) this.entered(state, index, at);
        return;
      case 'StateExited':
        if (state) this.exited(state, index, at);
        return;
      case 'StateFailed':
        if (state) this.failed(state, index, { error: String(event.Error), cause: text(event.Cause) }, at);
        return;
      case 'StateRetried':
        if (state) this.retried(state, index, at);
        return;
      case 'StateCaught':
        if (state) this.caught(state, index, at);
        return;
      case 'MapIterationStarted':
        this.iterationStarted(mapName, Number(index), at);
        return;
      case 'MapIterationSucceeded':
        this.iterationSucceeded(mapName, Number(index), at);
        return;
      case 'MapIterationFailed': {
        const visit = this.openMaps.get(mapName);
        const scope = visit?.map?.iterations.get(Number(index));
        if (visit && scope) this.iterationFailed(visit, Number(index), scope, at);
        return;
      }
      case 'ExecutionSucceeded': {
        const output = json(event.output);
        this.emit('ExecutionSucceeded', { output, outputDetails: NOT_TRUNCATED }, this.top.last, at);
        this.end({ status: 'SUCCEEDED', output });
        return;
      }
      case 'ExecutionFailed': {
        const failure = { error: String(event.Error), cause: text(event.Cause) };
        this.emit('ExecutionFailed', failure, this.failurePoint(this.top), at);
        this.end({ status: 'FAILED', ...failure });
        return;
      }
      case 'ExecutionTimeout': {
        const failure = { error: 'States.Timeout', cause: 'The execution timed out (TimeoutSeconds)' };
        this.emit('ExecutionTimedOut', failure, this.top.open?.last ?? this.top.last, at);
        this.end({ status: 'TIMED_OUT', ...failure });
        return;
      }
    }
  }

  private get top(): Scope {
    return this.scopes.get('top') as Scope;
  }

  private end(end: ExecutionEnd): void {
    this.closed = true;
    this.execution.onEnd(end);
  }

  /** The sequence a visit of `state` belongs to (undefined once its iteration or branch ended). */
  private scopeOf(state: string, index: number | undefined): Scope | undefined {
    const container = this.definition.state(state)?.container ?? { kind: 'top' };
    if (container.kind === 'top') return this.top;
    if (container.kind === 'map') return this.scopes.get(`${container.map}#${index}`);
    return this.scopes.get(`${container.parallel}/${container.branch}#${index ?? ''}`);
  }

  private visitOf(state: EngineState, index: number | undefined): Visit | undefined {
    const visit = this.scopeOf(state.name, index)?.open;
    return visit?.name === state.name ? visit : undefined;
  }

  private entered(state: EngineState, index: number | undefined, at: number): void {
    const scope = this.scopeOf(state.name, index);
    if (!scope) return;
    const id = this.emit(
      `${state.type}StateEntered`,
      { name: state.name, input: json(state.input), inputDetails: NOT_TRUNCATED },
      scope.last,
      at,
    );
    const visit: Visit = { name: state.name, type: state.type, index, last: id };
    scope.open = visit;
    if (state.type === 'Task') this.schedule(visit);
    if (state.type === 'Map') this.startMap(visit, state.input, at);
    if (state.type === 'Parallel') this.startParallel(visit, at);
  }

  private exited(state: EngineState, index: number | undefined, at: number): void {
    const scope = this.scopeOf(state.name, index);
    const visit = scope?.open;
    if (!scope || visit?.name !== state.name) return;
    if (visit.type === 'Task') this.settleAttempt(visit, undefined, at);
    let exitFrom = visit.last;
    // AWS points both a container's Succeeded and its Exited at the end of its last iteration or branch.
    if (visit.map && !visit.containerFailed) {
      exitFrom = visit.map.lastEnd ?? visit.map.started;
      this.emit('MapStateSucceeded', undefined, exitFrom, at);
    }
    if (visit.branches && !visit.containerFailed) {
      exitFrom = Math.max(...visit.branches.map((b) => b.last));
      this.emit('ParallelStateSucceeded', undefined, exitFrom, at);
    }
    this.closeChildren(visit);
    scope.open = undefined;
    scope.last = this.emit(
      `${state.type}StateExited`,
      { name: state.name, output: json(state.output), outputDetails: NOT_TRUNCATED },
      exitFrom,
      at,
    );
  }

  private failed(
    state: EngineState,
    index: number | undefined,
    failure: { error: string; cause?: string },
    at: number,
  ): void {
    const visit = this.visitOf(state, index);
    if (!visit) return;
    visit.failed = true;
    if (visit.type === 'Task') this.settleAttempt(visit, failure, at);
    if (visit.map) {
      visit.containerFailed = true;
      if (!visit.map.over) {
        // The Map failed before its failed iteration was logged (or with none: its items were wrong).
        const failedIteration = [...visit.map.iterations].find(([, s]) => s.open?.failed);
        if (failedIteration) this.iterationFailed(visit, failedIteration[0], failedIteration[1], at);
        else this.abortIterations(visit, visit.last, at);
      }
    }
    if (visit.branches) {
      visit.containerFailed = true;
      const failedBranch = visit.branches.find((b) => b.open?.failed);
      const point = failedBranch ? this.failurePoint(failedBranch) : visit.last;
      for (const branch of visit.branches) if (branch.open) this.abortVisit(branch.open, point, at);
      this.closeChildren(visit);
      visit.last = point;
    }
  }

  private retried(state: EngineState, index: number | undefined, at: number): void {
    const visit = this.visitOf(state, index);
    if (!visit) return;
    visit.failed = false;
    visit.containerFailed = false;
    if (visit.type === 'Task') this.schedule(visit);
    if (visit.type === 'Map') this.startMap(visit, state.input, at);
    if (visit.type === 'Parallel') this.startParallel(visit, at);
  }

  private caught(state: EngineState, index: number | undefined, at: number): void {
    const visit = this.visitOf(state, index);
    if (!visit?.containerFailed || visit.ended) return;
    visit.last = this.emit(`${visit.type}StateFailed`, undefined, visit.last, at);
    visit.ended = true;
  }

  /** A Task attempt: the call its handler got, as TaskScheduled and TaskStarted. */
  private schedule(visit: Visit): void {
    const calls = this.calls.get(`${visit.name}#${visit.index ?? ''}`);
    const call = calls?.shift();
    const task = this.definition.state(visit.name)?.task;
    visit.attempt = undefined;
    if (!call || !task) return; // the engine failed the state before calling its task
    visit.last = this.emit(
      'TaskScheduled',
      { ...task, region: REGION, parameters: call.parameters },
      visit.last,
      call.startedAt,
    );
    visit.last = this.emit('TaskStarted', { ...task }, visit.last, call.startedAt);
    visit.attempt = { call, done: false };
  }

  /** Ends the attempt: succeeded (no `failure`, or the state failed after its call succeeded) or not. */
  private settleAttempt(visit: Visit, failure: { error: string; cause?: string } | undefined, at: number) {
    const attempt = visit.attempt;
    const task = this.definition.state(visit.name)?.task;
    if (!attempt || attempt.done || !task) return;
    attempt.done = true;
    const { call } = attempt;
    const callSucceeded = call.endedAt !== undefined && !call.failed;
    if (!failure || (callSucceeded && failure.error !== 'States.Timeout')) {
      const details = { ...task, output: json(call.output), outputDetails: NOT_TRUNCATED };
      visit.last = this.emit('TaskSucceeded', details, visit.last, call.endedAt ?? at);
    } else {
      const type = failure.error === 'States.Timeout' ? 'TaskTimedOut' : 'TaskFailed';
      visit.last = this.emit(type, { ...task, ...failure }, visit.last, at);
    }
  }

  private startMap(visit: Visit, input: unknown, at: number): void {
    const items = this.definition.state(visit.name)?.items;
    const length = items && mapLength(items, input);
    const started = this.emit('MapStateStarted', length === undefined ? {} : { length }, visit.last, at);
    visit.last = started;
    visit.map = { started, iterations: new Map(), freed: [], over: false };
    this.openMaps.set(visit.name, visit);
  }

  private startParallel(visit: Visit, at: number): void {
    const started = this.emit('ParallelStateStarted', undefined, visit.last, at);
    visit.last = started;
    const count = this.definition.state(visit.name)?.branches ?? 0;
    visit.branches = Array.from({ length: count }, (_, branch) => {
      const scope = { key: `${visit.name}/${branch}#${visit.index ?? ''}`, last: started };
      this.scopes.set(scope.key, scope);
      return scope;
    });
  }

  private iterationStarted(map: string, index: number, at: number): void {
    const visit = this.openMaps.get(map);
    if (!visit?.map || visit.map.over) return;
    // An iteration takes the slot its predecessor freed (AWS chains it there), else the Map's start.
    const from = visit.map.freed.shift() ?? visit.map.started;
    const scope = {
      key: `${map}#${index}`,
      last: this.emit('MapIterationStarted', { name: map, index }, from, at),
    };
    visit.map.iterations.set(index, scope);
    this.scopes.set(scope.key, scope);
  }

  private iterationSucceeded(map: string, index: number, at: number): void {
    const visit = this.openMaps.get(map);
    const scope = visit?.map?.iterations.get(index);
    if (!visit?.map || !scope) return;
    visit.map.lastEnd = this.emit('MapIterationSucceeded', { name: map, index }, scope.last, at);
    visit.map.freed.push(scope.last);
    visit.map.iterations.delete(index);
    this.scopes.delete(scope.key);
  }

  /** An iteration failed: the Map fails, and its other iterations are aborted. */
  private iterationFailed(visit: Visit, index: number, scope: Scope, at: number): void {
    if (!visit.map) return;
    const point = this.failurePoint(scope);
    this.emit('MapIterationFailed', { name: visit.name, index }, point, at);
    if (scope.open) this.abortVisit(scope.open, point, at);
    visit.map.iterations.delete(index);
    this.scopes.delete(scope.key);
    this.abortIterations(visit, point, at);
    visit.last = point;
  }

  private abortIterations(visit: Visit, from: number, at: number): void {
    if (!visit.map) return;
    for (const [index, scope] of [...visit.map.iterations].sort(([a], [b]) => a - b)) {
      if (scope.open) this.abortVisit(scope.open, from, at);
      this.emit('MapIterationAborted', { name: visit.name, index }, from, at);
      this.scopes.delete(scope.key);
    }
    visit.map.iterations.clear();
    visit.map.over = true;
  }

  private abortVisit(visit: Visit, from: number, at: number): void {
    if (visit.ended) return;
    if (visit.map && !visit.map.over) this.abortIterations(visit, from, at);
    for (const branch of visit.branches ?? []) if (branch.open) this.abortVisit(branch.open, from, at);
    this.closeChildren(visit);
    if (ABORTABLE.has(visit.type)) this.emit(`${visit.type}StateAborted`, undefined, from, at);
    visit.ended = true;
  }

  /** The event a failure of the scope's open visit ends with (a failed container's Failed event). */
  private failurePoint(scope: Scope): number {
    const visit = scope.open;
    if (!visit) return scope.last;
    if (visit.containerFailed && !visit.ended) {
      visit.last = this.emit(`${visit.type}StateFailed`, undefined, visit.last);
      visit.ended = true;
    }
    return visit.last;
  }

  private closeChildren(visit: Visit): void {
    for (const branch of visit.branches ?? []) this.scopes.delete(branch.key);
    for (const scope of visit.map?.iterations.values() ?? []) this.scopes.delete(scope.key);
    if (visit.map && this.openMaps.get(visit.name) === visit) this.openMaps.delete(visit.name);
  }

  /** Appends an event of `type` with its `<lowerCamelType>EventDetails` (none for some types). */
  private emit(type: string, details: Json | undefined, previousEventId: number, atMs = Date.now()): number {
    const id = this.events.length + 1;
    // Ids and times go up together, as in an AWS history.
    this.lastTimestamp = Math.max(this.lastTimestamp, atMs / 1000);
    const event: HistoryEvent = { id, previousEventId, timestamp: this.lastTimestamp, type };
    if (details) event[`${detailsName(type)}EventDetails`] = details;
    this.events.push(event);
    return id;
  }
}
