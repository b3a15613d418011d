import { AsyncLocalStorage } from 'node:async_hooks';
import { StateMachine } from 'aws-local-stepfunctions';
import type { TaskHandler } from './sfn-tasks.ts';

/**
 * Which execution, and which Map iteration, a task handler runs for. The engine calls a Task
 * state's handler with its parameters only; the history needs them (TaskScheduled) and the raw
 * result (TaskSucceeded) for the right state visit, also when several iterations of a Map are in
 * the same state at once. So each execution runs in an AsyncLocalStorage frame, and each Map
 * iteration in a frame of its own that knows its index: the engine starts a Map visit's iterations
 * in index order (its p-limit queue is first in, first out), each with `run` on the iterator
 * machine it built for that visit, so the n-th `run` of that machine is iteration n.
 *
 * The index kept is the outermost Map's, as in the engine's own event log (a nested Map's events
 * carry its parent iteration's index): visits are told apart by (state name, that index).
 */
export interface TaskCall {
  /** The parameters the task was given, as JSON. */
  parameters: string;
  startedAt: number;
  endedAt?: number;
  /** The raw result of the integration, when it succeeded. */
  output?: unknown;
  failed?: boolean;
}

export interface TaskCallSink {
  taskCalled(state: string, index: number | undefined, call: TaskCall): void;
}

interface Frame {
  sink: TaskCallSink;
  index?: number;
}

const frames = new AsyncLocalStorage<Frame>();
/** The iterator definitions (ItemProcessor/Iterator) of every registered machine's Map states. */
const itemProcessors = new WeakSet<object>();
const runsSoFar = new WeakMap<object, number>();

const engineRun = StateMachine.prototype.run;
StateMachine.prototype.run = function run(this: StateMachine, ...args: Parameters<typeof engineRun>) {
  const parent = frames.getStore();
  const definition = (this as unknown as { definition: object }).definition;
  if (!parent || !itemProcessors.has(definition)) return engineRun.apply(this, args);
  const index = runsSoFar.get(this) ?? 0;
  runsSoFar.set(this, index + 1);
  return frames.run({ sink: parent.sink, index: parent.index ?? index }, () => engineRun.apply(this, args));
};

/** Marks the Map iterators of `definition` (the very object the engine runs) as iterations. */
export function trackIterations(definition: Record<string, unknown>): void {
  for (const state of Object.values(definition.States as Record<string, Record<string, unknown>>)) {
    if (state.Type === 'Map') {
      const iterator = (state.ItemProcessor ?? state.Iterator) as Record<string, unknown>;
      itemProcessors.add(iterator);
      trackIterations(iterator);
    }
    if (state.Type === 'Parallel')
      for (const branch of state.Branches as Record<string, unknown>[]) trackIterations(branch);
  }
}

/** Runs `start` (the engine's `run` of an execution) with its task calls reported to `sink`. */
export function inExecution<T>(sink: TaskCallSink, start: () => T): T {
  return frames.run({ sink }, start);
}

/** The handlers, each reporting its calls to the execution (and iteration) it runs for. */
export function reportingCalls(handlers: Record<string, TaskHandler>): Record<string, TaskHandler> {
  return Object.fromEntries(
    Object.entries(handlers).map(([state, handler]) => [
      state,
      async (input: unknown) => {
        const frame = frames.getStore();
        const call: TaskCall = { parameters: JSON.stringify(input ?? null), startedAt: Date.now() };
        frame?.sink.taskCalled(state, frame.index, call);
        try {
          call.output = await handler(input);
          return call.output;
        } catch (error) {
          call.failed = true;
          throw error;
        } finally {
          call.endedAt = Date.now();
        }
      },
    ]),
  );
}
