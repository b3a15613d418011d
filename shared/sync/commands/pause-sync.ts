import { RUNNING_STATUSES } from '../../job-status.ts';
import { countOne } from '../../observability.ts';
import type { SyncJob } from '../job.ts';
import type { JobRequest } from '../owned-job.ts';
import { commitStop, stopAndAnnounce } from '../stop-execution.ts';

/**
 * Pause: the cancel protocol with a way back (docs/api.md, "Pause, resume and retry").
 * 1. Commit point, in one round trip: one update PENDING|IN_PROGRESS -> PAUSED, conditional on the
 *    caller's organization too (commitStop); the job as it was decides a refusal (JobNotFound,
 *    NotJobOwner, InvalidTransition) or the idempotent answer of a paused job. Every batch of
 *    contacts is conditional on IN_PROGRESS, so from here on nothing is written and the counters
 *    returned are exact; the Map's per-chunk check and the platform checks stop the workflow.
 * 2. Then, at once and before the answer: stop the execution (best effort; its outcome is recorded
 *    as for a cancel, see stop-execution.ts); publish the lifecycle event.
 * The page lock stays with the job.
 */
export async function pauseSync(req: JobRequest): Promise<SyncJob> {
  const { job: paused, committed } = await commitStop(req, 'pause', {
    from: RUNNING_STATUSES,
    to: 'PAUSED',
    phase: 'paused',
    set: { pausedAt: new Date().toISOString(), pausedBy: req.userId },
  });
  if (!committed) return paused;
  countOne('SyncsPaused');
  return stopAndAnnounce(paused, { error: 'SyncPaused', cause: 'Paused by the user' }, 'Sync Job Paused');
}
