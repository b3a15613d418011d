import { mapWithConcurrency } from '../../concurrency.ts';
import { InvalidTransition, JobNotFound, NotPageOwner, PageNotConnected } from '../../domain-errors.ts';
import { logger } from '../../observability.ts';
import { ownedPage } from '../../pages/owned-page.ts';
import { getJob, listJobsForPage } from '../../store/job-repository.ts';
import { type ConnectedPage, listPagesForOrganization } from '../../store/page-repository.ts';
import type { SyncJob } from '../job.ts';
import { cancelSync } from './cancel-sync.ts';

/** Cancels in flight at once: each is a few DynamoDB writes and a StopExecution. */
export const BULK_CANCEL_CONCURRENCY = 8;

export type BulkCancelOutcome =
  | 'cancelled'
  | 'already-cancelled'
  | 'not-active'
  | 'finished'
  | 'forbidden'
  | 'not-found'
  | 'error';

export interface BulkCancelResult {
  pageId: string;
  jobId: string | null;
  outcome: BulkCancelOutcome;
  job?: SyncJob;
  error?: string;
}

export interface BulkCancelRequest {
  organizationId: string;
  userId: string;
  reason?: string;
  /** The pages to stop; or `all` the organization's active syncs (at most `limit`). */
  pageIds?: string[];
  all?: true;
  limit: number;
}

/**
 * Bulk cancel: the single-job cancel (cancel-sync.ts, the same commit point) for each page's
 * active job, a bounded number at a time. Idempotent: a page whose sync is already stopped
 * answers `not-active` with its last job, and nothing is written. One page's failure is its own
 * result, not the whole request's.
 */
export async function cancelSyncBulk(
  req: BulkCancelRequest,
): Promise<{ results: BulkCancelResult[]; hasMore: boolean }> {
  const requestedAt = Date.now();
  let targets: (ConnectedPage | BulkCancelResult)[];
  let hasMore = false;
  if (req.all) {
    const active = (await listPagesForOrganization(req.organizationId)).filter((page) => page.activeJobId);
    hasMore = active.length > req.limit;
    targets = active.slice(0, req.limit);
  } else {
    const pageIds = [...new Set(req.pageIds ?? [])];
    targets = await mapWithConcurrency(pageIds, BULK_CANCEL_CONCURRENCY, (pageId) =>
      pageOrOutcome(pageId, req.organizationId),
    );
  }
  const results = await mapWithConcurrency(targets, BULK_CANCEL_CONCURRENCY, (target) =>
    'outcome' in target ? Promise.resolve(target) : cancelPage(target, req, requestedAt),
  );
  return { results, hasMore };
}

/** The caller's page, or the outcome of a page the caller cannot stop: not connected, or another organization's. */
async function pageOrOutcome(
  pageId: string,
  organizationId: string,
): Promise<ConnectedPage | BulkCancelResult> {
  try {
    return await ownedPage(pageId, organizationId);
  } catch (error) {
    if (error instanceof PageNotConnected) return { pageId, jobId: null, outcome: 'not-found' };
    if (error instanceof NotPageOwner) return { pageId, jobId: null, outcome: 'forbidden' };
    throw error;
  }
}

async function cancelPage(
  page: ConnectedPage,
  req: BulkCancelRequest,
  requestedAt: number,
): Promise<BulkCancelResult> {
  const { pageId } = page;
  try {
    if (!page.activeJobId) {
      // Stopped already (by an earlier bulk cancel, say): the same answer as a repeated cancel.
      const [last] = await listJobsForPage(pageId, req.organizationId, 1);
      const outcome = last?.status === 'CANCELLED' ? 'already-cancelled' : 'not-active';
      return { pageId, jobId: last?.jobId ?? null, outcome, ...(last ? { job: last } : {}) };
    }
    const jobId = page.activeJobId;
    const before = await getJob(jobId);
    // A lock left by a job that already stopped (its release failed): nothing to cancel.
    if (before?.status === 'CANCELLED') return { pageId, jobId, outcome: 'already-cancelled', job: before };
    try {
      const job = await cancelSync({
        jobId,
        organizationId: req.organizationId,
        userId: req.userId,
        reason: req.reason,
        requestedAt,
      });
      return { pageId, jobId, outcome: 'cancelled', job };
    } catch (error) {
      // The job finished (COMPLETED or FAILED) before the cancel: it keeps its result.
      if (error instanceof InvalidTransition) {
        const job = await getJob(jobId);
        return { pageId, jobId, outcome: 'finished', ...(job ? { job } : {}) };
      }
      if (error instanceof JobNotFound) return { pageId, jobId, outcome: 'not-found' };
      throw error;
    }
  } catch (error) {
    logger.error('Bulk cancel: a page failed', { pageId, error: (error as Error).name });
    return {
      pageId,
      jobId: page.activeJobId ?? null,
      outcome: 'error',
      error: 'The sync could not be stopped. Try again.',
    };
  }
}
