import { commandHandler, json } from '#shared/http.ts';
import { idempotencyKeyMiddlewares } from '#shared/idempotency.ts';
import { StartSyncBody } from '#shared/schemas.ts';
import { startSync } from '#shared/sync/commands/start-sync.ts';
import { startedAnswer } from '#shared/sync/job-view.ts';

/**
 * Route `startSync` in shared/api/routes.ts: {pageId, mode?} -> 202 {jobId, status, mode, since, message}.
 * With an Idempotency-Key header, a retry returns the same job instead of a 409 or a second job.
 */
export const handler = commandHandler(
  StartSyncBody,
  startSync,
  (job) => json(202, startedAnswer(job)),
  ...idempotencyKeyMiddlewares(),
);
