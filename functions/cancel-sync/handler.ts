import { callerOf, type HttpEvent, httpHandler, json, parseJsonBody } from '../../shared/http.ts';
import { CancelSyncBody } from '../../shared/schemas.ts';
import { cancelSync } from '../../shared/sync/cancel-job.ts';

/** POST /api/facebook/sync-cancel {jobId, reason?} -> 200 {success, job} (also when already cancelled) */
async function core(event: HttpEvent) {
  const caller = callerOf(event);
  const { jobId, reason } = parseJsonBody(event, CancelSyncBody);
  const job = await cancelSync({ jobId, reason, ...caller });
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
  });
}

export const handler = httpHandler(core);
