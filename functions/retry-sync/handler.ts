import { commandHandler, json } from '#shared/http.ts';
import { RetrySyncBody } from '#shared/schemas.ts';
import { retrySync } from '#shared/sync/commands/retry-sync.ts';
import { startedAnswer } from '#shared/sync/job-view.ts';

/**
 * Route `retrySync` in shared/api/routes.ts: {jobId} -> 202 {jobId, status, mode, since, message}: a new job for the page
 * of a FAILED or CANCELLED job, linked to it (`resumedFrom`), which skips what that job completed.
 * From the answer on, the log lines are the new job's.
 */
export const handler = commandHandler(RetrySyncBody, retrySync, (job) => json(202, startedAnswer(job)));
