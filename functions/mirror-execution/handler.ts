import { ExecutionStatusChange, mirrorExecutionStatus } from '../../shared/sync/execution-mirror.ts';

/**
 * Target of the EventBridge rule on this state machine's "Step Functions Execution Status Change"
 * events: mirrors the execution's state on its job. A throw makes EventBridge retry the delivery.
 */
export const handler = async (event: unknown) => {
  const outcome = await mirrorExecutionStatus(ExecutionStatusChange.parse(event));
  return { outcome };
};
