import { badRequest, forbidden, notFound } from '../errors.ts';
import { isRetryableStatus } from '../job-status.ts';
import { getJob } from '../store/job-repository.ts';
import type { SyncJob } from './job.ts';
import { startSync } from './start-job.ts';

/**
 * Retry a stopped sync from where it stopped: a NEW job for the same page, linked to the old one
 * (`resumedFrom`), started like any sync (it takes the page lock: 409 while another is active).
 * Its workers skip what the old job completed: chunks the old job recorded as done without a
 * failure (no Graph call) and conversations whose contact carries the old job's id (no analysis,
 * no write). Its counters count only its own writes.
 */
export async function retrySync(req: {
  jobId: string;
  organizationId: string;
  userId: string;
}): Promise<SyncJob> {
  const old = await getJob(req.jobId);
  if (!old) throw notFound('Sync job not found');
  if (old.organizationId !== req.organizationId) throw forbidden('Sync job belongs to another organization');
  if (!isRetryableStatus(old.status)) throw badRequest(`Cannot retry job with status: ${old.status}`);
  return startSync({
    pageId: old.pageId,
    organizationId: req.organizationId,
    userId: req.userId,
    resumedFrom: old.jobId,
  });
}
