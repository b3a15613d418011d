import { ExecutionDoesNotExist, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { logger } from '../observability.ts';
import { executionArnFor, sfn } from '../sfn.ts';
import { annotateJob } from '../store/job-repository.ts';
import type { SyncJob } from './job.ts';

/**
 * The step after a stop's commit point (cancel or pause): StopExecution on the job's current
 * execution, best effort, then its outcome recorded on the job. Neither may turn the answer into
 * an error: the job is already stopped, and the workflow stops at its next check anyway.
 * Returns the outcome: STOPPED, NO_EXECUTION (stopped before its execution started) or FAILED: <error>.
 */
export async function stopAndRecord(job: SyncJob, stop: { error: string; cause: string }): Promise<string> {
  const outcome = await stopExecution(job, stop);
  await annotateJob(job.jobId, { stopExecutionOutcome: outcome }).catch((error: Error) =>
    logger.warn('Could not record the StopExecution outcome', { jobId: job.jobId, error: error.name }),
  );
  return outcome;
}

async function stopExecution(job: SyncJob, stop: { error: string; cause: string }): Promise<string> {
  try {
    await sfn.send(
      new StopExecutionCommand({ executionArn: job.executionArn ?? executionArnFor(job.jobId), ...stop }),
    );
    return 'STOPPED';
  } catch (error) {
    // A job stopped before its execution started has nothing to stop: not an error.
    if (error instanceof ExecutionDoesNotExist) return 'NO_EXECUTION';
    logger.warn('StopExecution failed; the workflow will stop at its next check', {
      jobId: job.jobId,
      error: (error as Error).name,
    });
    return `FAILED: ${(error as Error).name}`;
  }
}
