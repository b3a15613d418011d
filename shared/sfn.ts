import { SFNClient } from '@aws-sdk/client-sfn';
import { requiredEnv } from './config.ts';

/** Endpoint from the SDK's standard configuration (AWS_ENDPOINT_URL_SFN locally). */
export const sfn = new SFNClient({});

export const stateMachineArn = () => requiredEnv('STATE_MACHINE_ARN');

/**
 * The ARN of this state machine's execution of that name. A job's first execution is named after
 * the job, so its ARN is known before StartExecution returns.
 */
export function executionArnFor(name: string, machineArn = stateMachineArn()): string {
  return `${machineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}
