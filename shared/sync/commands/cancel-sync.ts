import { ACTIVE_STATUSES } from '../../job-status.ts';
import { countOne, logger, MetricUnit, metrics } from '../../observability.ts';
import { releasePageLock } from '../../store/page-repository.ts';
import type { SyncJob } from '../job.ts';
import { commitStop, stopAndAnnounce } from '../stop-execution.ts';

export interface CancelRequest {
  jobId: string;
  organizationId: string;
  userId: string;
  reason?: string;
  /** When the request to stop arrived (epoch ms), for CancelLatency; default: now. */
  requestedAt?: number;
}

/**
 * "Stop Sync" (the cancellation protocol, docs/contact-commits.md for the fence).
 * 1. Commit point, in one round trip: one update PENDING|IN_PROGRESS|PAUSED -> CANCELLED,
 *    conditional on the caller's organization too (commitStop). When it loses, the job as it was
 *    decides: no such job JobNotFound, another organization's NotJobOwner, already CANCELLED the
 *    stored job (idempotent), finished InvalidTransition. Every batch of contacts is conditional on
 *    IN_PROGRESS, so from here on the job's counters and contacts are frozen, and the counters
 *    returned are final.
 * 2. Then, at once and before the answer (a Lambda is frozen once it returns): stop the execution,
 *    best effort (if it fails, the workflow still stops at its next cancel check); release the page
 *    lock, so a new sync can start as soon as the stop is acknowledged; publish the lifecycle
 *    event. The job item is not written again before the answer when the stop succeeds: the
 *    execution mirror records that outcome from the ABORTED status change; only an outcome that no
 *    event will report (no execution yet, StopExecution failed) is written here (stop-execution.ts).
 */
export async function cancelSync(req: CancelRequest): Promise<SyncJob> {
  const requestedAt = req.requestedAt ?? Date.now();
  const { job: cancelled, committed } = await commitStop(req, 'cancel', {
    from: ACTIVE_STATUSES,
    to: 'CANCELLED',
    phase: 'cancelled',
    set: {
      completedAt: new Date().toISOString(),
      cancelledBy: req.userId,
      ...(req.reason ? { cancelReason: req.reason } : {}),
    },
  });
  if (!committed) return cancelled;
  // Only the call that committed counts: idempotent replays and lost races return above.
  countOne('SyncsCancelled');
  metrics.addMetric('CancelLatency', MetricUnit.Milliseconds, Date.now() - requestedAt);
  logger.info('Sync cancelled', { jobId: cancelled.jobId, pageId: cancelled.pageId });

  // Past the commit point the job is cancelled and its counters final: what follows is best
  // effort and must not turn the answer into an error.
  return stopAndAnnounce(
    cancelled,
    { error: 'SyncCancelled', cause: 'Cancelled by the user' },
    'Sync Job Cancelled',
    () =>
      releasePageLock(cancelled.pageId, cancelled.jobId).catch((error: Error) =>
        logger.error('Could not release the page lock', { jobId: cancelled.jobId, error: error.name }),
      ),
  );
}
