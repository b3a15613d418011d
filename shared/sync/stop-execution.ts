import { ExecutionDoesNotExist, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { InvalidTransition } from '../domain-errors.ts';
import { type JobEventType, publishJobEvent } from '../events/lifecycle.ts';
import { logger } from '../observability.ts';
import { executionArnFor, sfn } from '../sfn.ts';
import { annotateJob, commitTransition, type Transition } from '../store/job-repository.ts';
import { STOPPED } from './execution-mirror.ts';
import type { SyncJob } from './job.ts';
import { checkOwnedJob } from './owned-job.ts';

/**
 * A stop's commit point (cancel, pause), in one round trip: the transition, conditional on the
 * caller's organization too. When it loses, the job as it was decides, with no read: no job
 * (JobNotFound), another organization's (NotJobOwner), already where the stop leads (the stored
 * job, `committed: false`: an idempotent replay), else InvalidTransition for `action`.
 */
export async function commitStop(
  req: { jobId: string; organizationId: string },
  action: string,
  transition: Transition,
): Promise<{ job: SyncJob; committed: boolean }> {
  const commit = await commitTransition(req.jobId, req.organizationId, transition);
  if (commit.won) return { job: commit.job, committed: true };
  const job = checkOwnedJob(commit.job, req.organizationId);
  if (job.status === transition.to) return { job, committed: false };
  throw new InvalidTransition(action, job.status);
}

/**
 * After a stop's commit point, at once and before the answer (a Lambda is frozen once it
 * returns): stop the execution and record its outcome (stopAndRecord), publish `event`, and run
 * `alongside`, all best effort. Returns the job with the stop's outcome.
 */
export async function stopAndAnnounce(
  job: SyncJob,
  stop: { error: string; cause: string },
  event: JobEventType,
  alongside: () => Promise<unknown> = async () => {},
): Promise<SyncJob> {
  const [stopExecutionOutcome] = await Promise.all([
    stopAndRecord(job, stop),
    alongside(),
    // Only the call that committed publishes: an idempotent replay never comes here.
    publishJobEvent(event, job),
  ]);
  return { ...job, stopExecutionOutcome };
}

/**
 * The step after a stop's commit point (cancel or pause): StopExecution on the job's current
 * execution, best effort. It may not turn the answer into an error: the job is already stopped,
 * and the workflow stops at its next check anyway.
 * Returns the outcome: STOPPED, NO_EXECUTION (stopped before its execution started) or FAILED: <error>.
 *
 * Where the outcome is recorded on the job depends on it, so that the usual case costs the answer
 * no second write on the job item (where the chunks' batch commits are):
 * - STOPPED: the execution is now ABORTED, and Step Functions reports that on EventBridge; the
 *   execution mirror (execution-mirror.ts) records STOPPED with the execution's status, from that
 *   event, after the answer. (Stopping an execution that had already ended changes nothing and
 *   reports nothing: the job keeps the status its execution ended with, and no outcome.)
 * - NO_EXECUTION or FAILED: no execution changed state, so no event will come; the outcome is
 *   recorded here, before the answer (best effort: a failed record is logged, not answered).
 */
async function stopAndRecord(job: SyncJob, stop: { error: string; cause: string }): Promise<string> {
  const outcome = await stopExecution(job, stop);
  if (outcome === STOPPED) return outcome;
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
    return STOPPED;
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
