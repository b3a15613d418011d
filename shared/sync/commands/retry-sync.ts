import { InvalidTransition } from '../../domain-errors.ts';
import { isRetryable } from '../../job-status.ts';
import type { SyncJob } from '../job.ts';
import { type JobRequest, ownedJob } from '../owned-job.ts';
import { startSync } from './start-sync.ts';

/**
 * Retry a stopped sync from where it stopped: a NEW job for the same page, linked to the old one
 * (`resumedFrom`), started like any sync (it takes the page lock: PageLocked while another is
 * active). Its workers skip what the old job completed: chunks the old job recorded as done
 * without a failure (no Graph call) and conversations whose contact carries the old job's id (no
 * analysis, no write). Its counters count only its own writes.
 */
export async function retrySync(req: JobRequest): Promise<SyncJob> {
  const old = await ownedJob(req.jobId, req.organizationId);
  if (!isRetryable(old)) throw new InvalidTransition('retry', old.status);
  return startSync({
    pageId: old.pageId,
    organizationId: req.organizationId,
    userId: req.userId,
    resumedFrom: old.jobId,
  });
}
