import { publishJobEvent } from '../events/lifecycle.ts';
import { countOne, logger } from '../observability.ts';
import { failedConversationsOf } from '../store/contact-commit.ts';
import { getJob, transitionJob } from '../store/job-repository.ts';
import { recordCompletedSync, releasePageLock } from '../store/page-repository.ts';
import { isTerminal } from './job.ts';
import { afterCompletedSync } from './watermark.ts';

/**
 * Ends a job from the workflow: COMPLETED only from IN_PROGRESS, FAILED from PENDING|IN_PROGRESS.
 * Losing the race to a cancel is normal and quiet. A COMPLETED sync leaves its watermarks on the
 * page before the page lock is released, so the next sync starts from them. The lock is released
 * whenever the job is terminal, so a crash between the writes heals on retry.
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
      ? await transitionJob(input.jobId, {
          from: ['IN_PROGRESS'],
          to: 'COMPLETED',
          phase: 'done',
          set: { completedAt: now },
        })
      : await transitionJob(input.jobId, {
          from: ['PENDING', 'IN_PROGRESS'],
          to: 'FAILED',
          phase: 'failed',
          set: { completedAt: now, error: userFacingError(input.error) },
        });
  const job = written ?? (await getJob(input.jobId));
  // Only a COMPLETED sync moves the page's watermarks, once (a retried finalize heals a crash before it).
  if (job?.status === 'COMPLETED') {
    const failed = await failedConversationsOf(job.jobId);
    await recordCompletedSync(
      job.pageId,
      afterCompletedSync(job, failed, job.completedAt ?? now),
      job.mode !== 'incremental',
    );
  }
  // A job deleted mid-run (an edge case the product must survive) must not leave its page locked
  // either. Released last: the next sync of the page starts from the watermarks just recorded.
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
