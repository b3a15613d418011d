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

/**
 * One engine event as AWS records it: its type, the name of its details and the details; undefined
 * for what AWS does not record. `executionInput` is the execution's input as it was given.
 */
export function awsHistoryEvent(
  event: Json,
  executionInput: string,
): [type: string, detailsName: string, details: Json] | undefined {
  const type = String(event.type);
  const state = event.state as { name: string; type: string; input?: unknown; output?: unknown } | undefined;
  switch (type) {
    case 'ExecutionStarted':
      return [type, lowerFirst(type), { input: executionInput }];
    case 'ExecutionSucceeded':
      return [type, lowerFirst(type), { output: JSON.stringify(event.output ?? null) }];
    case 'ExecutionFailed':
      return [type, lowerFirst(type), { error: event.Error, cause: event.Cause }];
    case 'StateEntered':
      return (
        state && [
          `${state.type}${type}`,
          'stateEntered',
          { name: state.name, input: JSON.stringify(state.input ?? null) },
        ]
      );
    case 'StateExited':
      return (
        state && [
          `${state.type}${type}`,
          'stateExited',
          { name: state.name, output: JSON.stringify(state.output ?? null) },
        ]
      );
    case 'StateFailed':
      return ['TaskFailed', 'taskFailed', { error: event.Error, cause: event.Cause }];
    case 'MapIterationStarted':
    case 'MapIterationSucceeded':
    case 'MapIterationFailed':
      return [type, lowerFirst(type), { index: event.index }];
    default:
      return undefined;
  }
}
