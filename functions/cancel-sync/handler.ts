import { callerOf, type HttpEvent, httpHandler, json, parseJsonBody } from '#shared/http.ts';
import { correlate } from '#shared/observability.ts';
import { CancelSyncBody } from '#shared/schemas.ts';
import { cancelSync } from '#shared/sync/cancel-job.ts';
import { cleanupCancelledJob } from '#shared/sync/cleanup-job.ts';

/**
 * POST /api/facebook/sync-cancel {jobId, reason?, cleanup?} -> 200 {success, job[, cleanup]}
 * (also when already cancelled). With cleanup, the contacts the job created are then deleted
 * (shared/sync/cleanup-job.ts); calling again resumes and re-reports it.
 */
async function core(event: HttpEvent) {
  const caller = callerOf(event);
  const { jobId, reason, cleanup } = parseJsonBody(event, CancelSyncBody);
  const job = await cancelSync({ jobId, reason, ...caller });
  correlate(job);
  const report = cleanup ? await cleanupCancelledJob(job) : undefined;
  return json(200, {
    success: true,
    job: {
      id: job.jobId,
      status: job.status,
      syncedContacts: job.syncedContacts,
      failedContacts: job.failedContacts,
      totalContacts: job.totalContacts,
      completedAt: job.completedAt,
    },
    ...(report ? { cleanup: report } : {}),
  });
}

export const handler = httpHandler(core);
