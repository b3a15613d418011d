import { commandHandler, json } from '#shared/http.ts';
import { PauseSyncBody } from '#shared/schemas.ts';
import { pauseSync } from '#shared/sync/commands/pause-sync.ts';
import { changedJobAnswer } from '#shared/sync/job-view.ts';

/** Route `pauseSync` in shared/api/routes.ts: {jobId} -> 200 {success, job} (also when already paused) */
export const handler = commandHandler(PauseSyncBody, pauseSync, (job) => json(200, changedJobAnswer(job)));
