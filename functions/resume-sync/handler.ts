import { commandHandler, json } from '#shared/http.ts';
import { ResumeSyncBody } from '#shared/schemas.ts';
import { resumeSync } from '#shared/sync/commands/resume-sync.ts';
import { changedJobAnswer } from '#shared/sync/job-view.ts';

/** Route `resumeSync` in shared/api/routes.ts: {jobId} -> 200 {success, job} with the job IN_PROGRESS again */
export const handler = commandHandler(ResumeSyncBody, resumeSync, (job) => json(200, changedJobAnswer(job)));
