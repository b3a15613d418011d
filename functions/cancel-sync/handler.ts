import { commandHandler, json } from '#shared/http.ts';
import { CancelSyncBody } from '#shared/schemas.ts';
import { cancelSync } from '#shared/sync/commands/cancel-sync.ts';
import { cleanupCancelledJob } from '#shared/sync/commands/cleanup-cancelled-job.ts';
import { stoppedJobView } from '#shared/sync/job-view.ts';

/**
 * Route `cancelSync` in shared/api/routes.ts: {jobId, reason?, cleanup?} -> 200 {success, job[, cleanup]}
 * (also when already cancelled). With cleanup, the contacts the job created are then deleted
 * (shared/sync/commands/cleanup-cancelled-job.ts); calling again resumes and re-reports it.
 */
export const handler = commandHandler(CancelSyncBody, cancelSync, async (job, { cleanup }) => {
  const report = cleanup ? await cleanupCancelledJob(job) : undefined;
  return json(200, { success: true, job: stoppedJobView(job), ...(report ? { cleanup: report } : {}) });
});
