/**
 * Execution history for the local Step Functions: aws-local-stepfunctions' event log translated
 * into the AWS history event shapes (`GetExecutionHistory`, the console's execution view).
 */
type Json = Record<string, unknown>;

export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

/** Appends an event of `type` whose `<detailsName>EventDetails` are `details`. */
export function addHistoryEvent(
  events: HistoryEvent[],
  type: string,
  detailsName: string,
  details: Json,
): void {
  const id = events.length + 1;
  events.push({
    id,
    previousEventId: id - 1,
    timestamp: Date.now() / 1000,
    type,
    [`${detailsName}EventDetails`]: details,
  });
}

const lowerFirst = (name: string) => `${name[0]?.toLowerCase()}${name.slice(1)}`;

type EngineState = { name: string; type: string; input?: unknown; output?: unknown };
type Details = (event: Json, state: EngineState | undefined, executionInput: string) => Json | undefined;

const failure: Details = (event) => ({ error: event.Error, cause: event.Cause });
const iteration: Details = (event) => ({ index: event.index });

/** The details AWS records for each engine event it records, by the engine's event type. */
const DETAILS: Record<string, Details> = {
  ExecutionStarted: (_event, _state, input) => ({ input }),
  ExecutionSucceeded: (event) => ({ output: JSON.stringify(event.output ?? null) }),
  ExecutionFailed: failure,
  StateEntered: (_event, state) => state && { name: state.name, input: JSON.stringify(state.input ?? null) },
  StateExited: (_event, state) => state && { name: state.name, output: JSON.stringify(state.output ?? null) },
  StateFailed: failure,
  MapIterationStarted: iteration,
  MapIterationSucceeded: iteration,
  MapIterationFailed: iteration,
};

/**
 * One engine event as AWS records it: its type, the name of its details and the details; undefined
 * for what AWS does not record. `executionInput` is the execution's input as it was given. A
 * state's entry and exit are named after its type (`TaskStateEntered`), a failed state is a
 * failed task.
 */
export function awsHistoryEvent(
  event: Json,
  executionInput: string,
): [type: string, detailsName: string, details: Json] | undefined {
  const type = String(event.type);
  const state = event.state as EngineState | undefined;
  const details = Object.hasOwn(DETAILS, type) ? DETAILS[type]?.(event, state, executionInput) : undefined;
  if (!details) return undefined;
  const name = type === 'StateFailed' ? 'TaskFailed' : type;
  const awsType =
    state && (type === 'StateEntered' || type === 'StateExited') ? `${state.type}${type}` : name;
  return [awsType, lowerFirst(name), details];
}
