import { callerOf, type HttpEvent, httpHandler, json, parseJsonBody } from '../../shared/http.ts';
import { idempotencyKeyMiddlewares } from '../../shared/idempotency.ts';
import { correlate } from '../../shared/observability.ts';
import { StartSyncBody } from '../../shared/schemas.ts';
import { startSync } from '../../shared/sync/start-job.ts';

/**
 * POST /api/facebook/sync-background {pageId} -> 202 {jobId, status, message}.
 * With an Idempotency-Key header, a retry returns the same job instead of a 409 or a second job.
 */
async function core(event: HttpEvent) {
  const caller = callerOf(event);
  const { pageId } = parseJsonBody(event, StartSyncBody);
  const job = await startSync({ pageId, ...caller });
  correlate(job);
  return json(202, { jobId: job.jobId, status: job.status, message: 'Sync started' });
}

export const handler = httpHandler(core, ...idempotencyKeyMiddlewares());
