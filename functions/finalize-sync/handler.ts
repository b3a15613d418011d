import { FinalizeInput } from '../../shared/schemas.ts';
import { finalizeJob } from '../../shared/sync/finalize-job.ts';

/** Workflow steps "Finalize sync" (COMPLETED) and "Mark sync failed" (FAILED); both conditional. */
export const handler = async (event: unknown) => finalizeJob(FinalizeInput.parse(event));
