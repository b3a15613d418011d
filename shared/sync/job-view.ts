import type { SyncJob } from './job.ts';

/** A stopped job as the cancel routes answer it: its final counters. */
export function stoppedJobView(job: SyncJob) {
  return {
    id: job.jobId,
    status: job.status,
    syncedContacts: job.syncedContacts,
    failedContacts: job.failedContacts,
    totalContacts: job.totalContacts,
    completedAt: job.completedAt ?? null,
  };
}
