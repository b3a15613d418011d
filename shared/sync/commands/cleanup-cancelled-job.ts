import { mapWithConcurrency } from '../../concurrency.ts';
import { InvalidTransition } from '../../domain-errors.ts';
import { contactsCreatedBy, deleteCreatedContact } from '../../store/cleanup-repository.ts';
import { annotateJob, getJob } from '../../store/job-repository.ts';
import type { SyncJob } from '../job.ts';

/**
 * What a cancel with cleanup did, over every call so far. `created = deleted + kept + remaining`.
 * Contacts the job only updated (they existed before it) are left untouched.
 */
export interface CleanupReport {
  /** COMPLETE: every contact the job created is deleted or kept; PARTIAL: call again to finish. */
  status: 'COMPLETE' | 'PARTIAL';
  /** Contacts this job created. */
  created: number;
  /** Of those, deleted (by this call or earlier ones). */
  deleted: number;
  /** Of those, written by another sync since: kept, because they are that sync's data now. */
  kept: number;
  /** Of those, not deleted yet (PARTIAL only). */
  remaining: number;
  /** Contacts this job only updated (they existed before it): left as they are. */
  untouched: number;
}

export interface CleanupOptions {
  /** Stop starting new work after this many ms; the answer is then PARTIAL. @default 20 s (of a 30 s Lambda) */
  budgetMs?: number;
  /** Deletes in flight at once. @default 4 */
  concurrency?: number;
  /** Index items read per query page. @default 100 */
  pageSize?: number;
}

/**
 * "Cancel with cleanup": deletes the contacts a CANCELLED job created, each with a delete
 * conditional on the contact still being the job's (`createdByJobId = lastSyncJobId = job`), so a
 * contact a later or concurrent sync has written is never deleted. The job's `cleanupDeleted`
 * counter moves in the same transaction as each delete, and the page's `contactCount` with it.
 *
 * Resumable and idempotent: the cancel's commit point froze the job's writes, so the set to
 * delete only shrinks; a second call deletes what is left and reports the same totals. The
 * answer is COMPLETE once `deleted + kept` reaches the job's `createdContacts` and the index is
 * read to its end, so a contact the index has not caught up with yet makes the answer PARTIAL
 * rather than being missed.
 */
export async function cleanupCancelledJob(job: SyncJob, opts: CleanupOptions = {}): Promise<CleanupReport> {
  if (job.status !== 'CANCELLED') throw new InvalidTransition('clean up', job.status);
  const deadline = Date.now() + (opts.budgetMs ?? 20_000);
  let kept = 0;
  let startKey: Record<string, unknown> | undefined;
  let finished = false;
  while (Date.now() < deadline) {
    const page = await contactsCreatedBy(job.jobId, opts.pageSize ?? 100, startKey);
    const outcomes = await mapWithConcurrency(page.items, opts.concurrency ?? 4, (ref) =>
      ref.lastSyncJobId === job.jobId
        ? deleteCreatedContact(job.jobId, job.organizationId, ref)
        : Promise.resolve('kept' as const),
    );
    kept += outcomes.filter((outcome) => outcome === 'kept').length;
    startKey = page.nextKey;
    if (!startKey) {
      finished = true;
      break;
    }
  }

  const now = (await getJob(job.jobId)) ?? job;
  const created = now.createdContacts ?? 0;
  const deleted = now.cleanupDeleted ?? 0;
  const complete = finished && deleted + kept >= created;
  if (complete && !now.cleanupCompletedAt) {
    await annotateJob(job.jobId, { cleanupCompletedAt: new Date().toISOString() });
  }
  return {
    status: complete ? 'COMPLETE' : 'PARTIAL',
    created,
    deleted,
    kept,
    remaining: Math.max(0, created - deleted - kept),
    untouched: Math.max(0, now.syncedContacts - created),
  };
}
