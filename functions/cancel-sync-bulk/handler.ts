import { callerOf, type HttpEvent, httpHandler, json, parseJsonBody } from '#shared/http.ts';
import { CancelBulkBody, MAX_BULK_CANCEL } from '#shared/schemas.ts';
import { cancelSyncBulk } from '#shared/sync/commands/cancel-sync-bulk.ts';
import { stoppedJobView } from '#shared/sync/job-view.ts';

/**
 * Route `cancelSyncBulk` in shared/api/routes.ts: {pageIds? | all?, reason?} -> 200 {results, hasMore}:
 * one result per page, whatever each page's outcome (see shared/sync/commands/cancel-sync-bulk.ts).
 */
async function core(event: HttpEvent) {
  const caller = callerOf(event);
  const { pageIds, all, reason } = parseJsonBody(event, CancelBulkBody);
  const { results, hasMore } = await cancelSyncBulk({
    ...caller,
    pageIds,
    all,
    reason,
    limit: MAX_BULK_CANCEL,
  });
  return json(200, {
    results: results.map(({ job, ...result }) => ({
      ...result,
      ...(job ? { job: stoppedJobView(job) } : {}),
    })),
    hasMore,
  });
}

export const handler = httpHandler(core);
