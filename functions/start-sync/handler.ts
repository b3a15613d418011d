import { callerOf, type HttpEvent, httpHandler, json, parseJsonBody } from '#shared/http.ts';
import { idempotencyKeyMiddlewares } from '#shared/idempotency.ts';
import { correlate } from '#shared/observability.ts';
import { StartSyncBody } from '#shared/schemas.ts';
import { startedAnswer } from '#shared/sync/job.ts';
import { startSync } from '#shared/sync/start-job.ts';

/**
 * POST /api/facebook/sync-background {pageId, mode?} -> 202 {jobId, status, mode, since, message}.
 * With an Idempotency-Key header, a retry returns the same job instead of a 409 or a second job.
 */
async function core(event: HttpEvent) {
  const caller = callerOf(event);
  const { pageId, mode } = parseJsonBody(event, StartSyncBody);
  const job = await startSync({ pageId, ...caller, ...(mode ? { mode } : {}) });
  correlate(job);
  return json(202, startedAnswer(job));
}

export const handler = httpHandler(core, ...idempotencyKeyMiddlewares());
