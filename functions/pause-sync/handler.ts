import { callerOf, type HttpEvent, httpHandler, json, parseJsonBody } from '#shared/http.ts';
import { correlate } from '#shared/observability.ts';
import { PauseSyncBody } from '#shared/schemas.ts';
import { publicJob } from '#shared/sync/job.ts';
import { pauseSync } from '#shared/sync/pause-job.ts';

/** POST /api/facebook/sync-pause {jobId} -> 200 {success, job} (also when already paused) */
async function core(event: HttpEvent) {
  const caller = callerOf(event);
  const { jobId } = parseJsonBody(event, PauseSyncBody);
  const job = await pauseSync({ jobId, ...caller });
  correlate(job);
  return json(200, { success: true, job: publicJob(job) });
}

export const handler = httpHandler(core);
