import { FinalizeInput } from '#shared/schemas.ts';
import { finalizeJob } from '#shared/sync/finalize-job.ts';
import { workerHandler } from '#shared/worker.ts';

/** Workflow steps "Finalize sync" (COMPLETED) and "Mark sync failed" (FAILED); both conditional. */
export const handler = workerHandler(FinalizeInput, finalizeJob);
