import { callerOf, type HttpEvent, httpHandler, json, parseJsonBody } from '#shared/http.ts';
import { correlate } from '#shared/observability.ts';
import { ResumeSyncBody } from '#shared/schemas.ts';
import { publicJob } from '#shared/sync/job.ts';
import { resumeSync } from '#shared/sync/pause-job.ts';

/** POST /api/facebook/sync-resume {jobId} -> 200 {success, job} with the job IN_PROGRESS again */
async function core(event: HttpEvent) {
  const caller = callerOf(event);
  const { jobId } = parseJsonBody(event, ResumeSyncBody);
  const job = await resumeSync({ jobId, ...caller });
  correlate(job);
  return json(200, { success: true, job: publicJob(job) });
}

export const handler = httpHandler(core);
