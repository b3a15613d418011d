import { callerOf, type HttpEvent, httpHandler, json, parseJsonBody } from '#shared/http.ts';
import { correlate } from '#shared/observability.ts';
import { RetrySyncBody } from '#shared/schemas.ts';
import { startedAnswer } from '#shared/sync/job.ts';
import { retrySync } from '#shared/sync/retry-job.ts';

/**
 * POST /api/facebook/sync-retry {jobId} -> 202 {jobId, status, mode, since, message}: a new job for the page
 * of a FAILED or CANCELLED job, linked to it (`resumedFrom`), which skips what that job completed.
 */
async function core(event: HttpEvent) {
  const caller = callerOf(event);
  const { jobId } = parseJsonBody(event, RetrySyncBody);
  const job = await retrySync({ jobId, ...caller });
  // From here on the log lines are the new job's.
  correlate(job);
  return json(202, startedAnswer(job));
}

export const handler = httpHandler(core);
