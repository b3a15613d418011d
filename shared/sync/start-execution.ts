import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SyncNotLaunched } from '../domain-errors.ts';
import { logger } from '../observability.ts';
import { sfn, stateMachineArn } from '../sfn.ts';
import { recordExecutionStart } from '../store/execution-repository.ts';
import { annotateJob } from '../store/job-repository.ts';
import type { SyncJob } from './job.ts';

export interface Launch {
  /** The command that launches: names the error a client sees when it cannot. */
  action: 'start' | 'resume';
  /** The execution's name (unique per state machine): the job id, or "<jobId>-resume<n>". */
  name: string;
  input: Record<string, unknown>;
  /**
   * Puts the job back where no execution is needed, when none could be started: a start ends
   * FAILED and frees the page; a resume goes back to PAUSED. `reason` is what the client is told.
   */
  rollback: (reason: string) => Promise<unknown>;
}

/**
 * The step after a start's (or a resume's) commit: StartExecution. When it fails, the job is
 * rolled back and SyncNotLaunched (try again) raised: a job never stays PENDING or IN_PROGRESS with
 * nothing running. The execution's ARN is then recorded on the job, best effort (a stop can derive
 * it from the job id), and the execution listed among the job's executions, both best effort.
 * Returns the job with its ARN.
 */
export async function startExecution(job: SyncJob, launch: Launch): Promise<SyncJob> {
  let executionArn: string | undefined;
  let startDate = new Date();
  try {
    const out = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: stateMachineArn(),
        name: launch.name,
        input: JSON.stringify(launch.input),
      }),
    );
    executionArn = out.executionArn;
    if (out.startDate) startDate = out.startDate;
  } catch (error) {
    logger.error(launch.action === 'start' ? 'StartExecution failed' : 'StartExecution failed on resume', {
      jobId: job.jobId,
      error: (error as Error).name,
    });
    const failure = new SyncNotLaunched(launch.action);
    await launch.rollback(failure.message);
    throw failure;
  }
  if (executionArn) {
    await Promise.all([
      annotateJob(job.jobId, { executionArn }).catch((error: Error) =>
        logger.warn('Could not record the execution ARN', { jobId: job.jobId, error: error.name }),
      ),
      // Listed at once; its status-change events keep the entry up to date (execution-mirror.ts).
      recordExecutionStart(job.jobId, launch.name, startDate.toISOString()).catch((error: Error) =>
        logger.warn('Could not record the execution', { jobId: job.jobId, error: error.name }),
      ),
    ]);
  }
  return { ...job, ...(executionArn ? { executionArn } : {}) };
}
