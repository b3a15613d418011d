import { correlate } from '#shared/observability.ts';
import {
  ExecutionStatusChange,
  jobOfExecution,
  mirrorExecutionStatus,
} from '#shared/sync/execution-mirror.ts';
import { workerHandler } from '#shared/worker.ts';

/**
 * Target of the EventBridge rule on this state machine's "Step Functions Execution Status Change"
 * events: mirrors the execution's state on its job. A throw makes EventBridge retry the delivery.
 */
export const handler = workerHandler(ExecutionStatusChange, async (event) => {
  correlate(jobOfExecution(event.detail.name));
  const outcome = await mirrorExecutionStatus(event);
  return { outcome };
});
