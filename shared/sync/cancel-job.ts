import { ExecutionDoesNotExist, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { badRequest, forbidden, notFound } from '../errors.ts';
import { publishJobEvent } from '../events/lifecycle.ts';
import { countOne, logger, MetricUnit, metrics } from '../observability.ts';
import { executionArnFor, sfn } from '../sfn.ts';
import { annotateJob, getJob, transitionJob } from '../store/job-repository.ts';
import { releasePageLock } from '../store/page-repository.ts';
import { ACTIVE_STATUSES, type SyncJob } from './job.ts';

export interface CancelRequest {
  jobId: string;
  organizationId: string;
  userId: string;
  reason?: string;
  /** When the request to stop arrived (epoch ms), for CancelLatency; default: now. */
  requestedAt?: number;
}

/**
 * "Stop Sync" (DESIGN.md, Cancellation protocol).
 * 1. Commit point: one conditional update PENDING|IN_PROGRESS -> CANCELLED. Every contact write
 *    is conditional on IN_PROGRESS, so from here on the job's counters and contacts are frozen,
 *    and the counters returned are final.
 * 2. Stop the execution, best effort; the outcome is recorded on the job. If it fails, the
 *    workflow still stops at its next cancel check.
 * 3. Release the page lock so a new sync can start at once.
 * Cancelling a cancelled job returns it unchanged (idempotent); a finished job cannot be cancelled.
 */
export async function cancelSync(req: CancelRequest): Promise<SyncJob> {
  const requestedAt = req.requestedAt ?? Date.now();
  const job = await getJob(req.jobId);
  if (!job) throw notFound('Sync job not found');
  if (job.organizationId !== req.organizationId) throw forbidden('Sync job belongs to another organization');
  if (job.status === 'CANCELLED') return job;
  if (!ACTIVE_STATUSES.includes(job.status)) throw badRequest(`Cannot cancel job with status: ${job.status}`);

  const cancelled = await transitionJob(req.jobId, {
    from: ACTIVE_STATUSES,
    to: 'CANCELLED',
    phase: 'cancelled',
    set: {
      completedAt: new Date().toISOString(),
      cancelledBy: req.userId,
      ...(req.reason ? { cancelReason: req.reason } : {}),
    },
  });
  if (!cancelled) {
    // Lost a race: completion, failure or another cancel committed first.
    const current = await getJob(req.jobId);
    if (current?.status === 'CANCELLED') return current;
    throw badRequest(`Cannot cancel job with status: ${current?.status ?? 'UNKNOWN'}`);
  }
  // Only the call that committed counts: idempotent replays and lost races return above.
  countOne('SyncsCancelled');
  metrics.addMetric('CancelLatency', MetricUnit.Milliseconds, Date.now() - requestedAt);
  logger.info('Sync cancelled', { jobId: cancelled.jobId, pageId: cancelled.pageId });

  // Past the commit point the job is cancelled and its counters final: what follows is best
  // effort and must not turn the answer into an error.
  const stopExecutionOutcome = await stopExecution(cancelled);
  await annotateJob(cancelled.jobId, { stopExecutionOutcome }).catch((error: Error) =>
    logger.warn('Could not record the StopExecution outcome', { jobId: cancelled.jobId, error: error.name }),
  );
  await releasePageLock(cancelled.pageId, cancelled.jobId).catch((error: Error) =>
    logger.error('Could not release the page lock', { jobId: cancelled.jobId, error: error.name }),
  );
  // Only the call that committed publishes: an idempotent replay above returns before this.
  await publishJobEvent('Sync Job Cancelled', cancelled);
  return { ...cancelled, stopExecutionOutcome };
}

async function stopExecution(job: SyncJob): Promise<string> {
  try {
    await sfn.send(
      new StopExecutionCommand({
        executionArn: job.executionArn ?? executionArnFor(job.jobId),
        error: 'SyncCancelled',
        cause: 'Cancelled by the user',
      }),
    );
    return 'STOPPED';
  } catch (error) {
    // A job cancelled before its execution started has nothing to stop: not an error.
    if (error instanceof ExecutionDoesNotExist) return 'NO_EXECUTION';
    logger.warn('StopExecution failed; the workflow will stop at its next cancel check', {
      jobId: job.jobId,
      error: (error as Error).name,
    });
    return `FAILED: ${(error as Error).name}`;
  }
}
