/**
 * A job's executions as clients see them: the stored record (store/execution-repository.ts) plus
 * what is derived rather than stored, its ARN and where an operator sees it.
 */

import { executionArnFor, stateMachineArn } from '../sfn.ts';
import type { ExecutionRecord } from '../store/execution-repository.ts';

/**
 * Where an operator sees an execution. EXECUTION_CONSOLE_URL, when set, is a template with
 * `{jobId}`, `{name}` and `{executionArn}` (the local stack points it at its own console's
 * execution view); otherwise the Step Functions console of the region the function runs in.
 */
export function consoleUrlOf(jobId: string, name: string, executionArn: string): string {
  const template = process.env.EXECUTION_CONSOLE_URL;
  if (template) {
    return template
      .replaceAll('{jobId}', encodeURIComponent(jobId))
      .replaceAll('{name}', encodeURIComponent(name))
      .replaceAll('{executionArn}', encodeURIComponent(executionArn));
  }
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const domain = region.startsWith('cn-')
    ? 'console.amazonaws.cn'
    : region.startsWith('us-gov-')
      ? 'console.amazonaws-us-gov.com'
      : 'console.aws.amazon.com';
  return `https://${region}.${domain}/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

/** One execution as the contract's `Execution`. */
export function executionView(jobId: string, execution: ExecutionRecord) {
  const executionArn = executionArnFor(execution.name, stateMachineArn());
  return {
    name: execution.name,
    executionArn,
    status: execution.status,
    startDate: execution.startDate,
    stopDate: execution.stopDate ?? null,
    consoleUrl: consoleUrlOf(jobId, execution.name, executionArn),
  };
}
