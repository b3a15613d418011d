import { publishJobEvent } from '../events/lifecycle.ts';
import { isTerminal, RUNNING_STATUSES } from '../job-status.ts';
import { countOne, logger } from '../observability.ts';
import { failedConversationsOf } from '../store/contact-commit.ts';
import { getJob, transitionJob, transitionJobWith } from '../store/job-repository.ts';
import { completedSyncUpdate, releasePageLock } from '../store/page-repository.ts';
import type { SyncJob } from './job.ts';
import { afterCompletedSync } from './watermark.ts';

/**
 * Ends a job from the workflow: COMPLETED only from IN_PROGRESS, FAILED from PENDING|IN_PROGRESS.
 * Losing the race to a cancel is normal and quiet. COMPLETED commits with the page's watermarks
 * and the lock's release (one transaction); the lock is also released whenever the job is
 * terminal, so a crash between a FAILED transition and the release heals on retry.
 */
export async function finalizeJob(input: {
  jobId: string;
  pageId: string;
  outcome: 'COMPLETED' | 'FAILED';
  error?: { Error?: string; Cause?: string };
}): Promise<{ status: string; finalized: boolean }> {
  const now = new Date().toISOString();
  const written =
    input.outcome === 'COMPLETED'
      ? await complete(input.jobId, now)
      : await transitionJob(input.jobId, {
          from: RUNNING_STATUSES,
          to: 'FAILED',
          phase: 'failed',
          set: { completedAt: now, error: userFacingError(input.error) },
        });
  const job = written ?? (await getJob(input.jobId));
  // A job deleted mid-run (an edge case the product must survive) must not leave its page locked
  // either; a retry heals a crash between a FAILED transition and this release.
  if (!job || isTerminal(job.status)) await releasePageLock(input.pageId, input.jobId);
  // Only the winner of the transition publishes; a retried finalize does not publish twice.
  if (written) {
    const completed = written.status === 'COMPLETED';
    countOne(completed ? 'SyncsCompleted' : 'SyncsFailed');
    logger.info(completed ? 'Sync completed' : 'Sync failed', {
      syncedContacts: written.syncedContacts,
      failedContacts: written.failedContacts,
    });
    await publishJobEvent(completed ? 'Sync Job Completed' : 'Sync Job Failed', written);
  }
  return { status: job?.status ?? 'UNKNOWN', finalized: written !== null };
}

const COMPLETE = { from: ['IN_PROGRESS'], to: 'COMPLETED', phase: 'done' } as const;

/**
 * COMPLETED, the page's watermarks and the release of its lock in one transaction: a start that
 * finds the page free always plans from this sync's watermarks. A page that is gone (or no longer
 * locked by the job) still sees the job completed, without watermarks. Null when the job was not
 * IN_PROGRESS (a cancel or pause won, or a retry finds it done).
 */
async function complete(jobId: string, now: string): Promise<SyncJob | null> {
  const job = await getJob(jobId);
  if (job?.status !== 'IN_PROGRESS') return null;
  const transition = { ...COMPLETE, from: [...COMPLETE.from], set: { completedAt: now } };
  const failed = await failedConversationsOf(jobId);
  const page = completedSyncUpdate(
    job.pageId,
    jobId,
    afterCompletedSync(job, failed, now),
    job.mode !== 'incremental',
  );
  const outcome = await transitionJobWith(jobId, transition, page);
  if (outcome === 'won') return (await getJob(jobId)) ?? null;
  return outcome === 'other-refused' ? transitionJob(jobId, transition) : null;
}

/**
 * Step Functions hands a Lambda failure over as { Error, Cause } where Cause is the Lambda error
 * JSON. Only our own SyncFailedError messages are written for users; anything else is generic.
 */
export function userFacingError(error?: { Error?: string; Cause?: string }): string {
  const generic = 'The sync failed unexpectedly. Try again.';
  if (!error?.Cause) return generic;
  try {
    const cause = JSON.parse(error.Cause) as { errorType?: string; errorMessage?: string };
    if (cause.errorType === 'SyncFailedError' && cause.errorMessage) return cause.errorMessage;
  } catch {
    // not JSON: fall through
  }
  return generic;
}
