import { z } from 'zod';
import { correlate, logger } from '#shared/observability.ts';
import { JobId } from '#shared/schemas.ts';
import { deleteStagedJob } from '#shared/staging/staged-chunks.ts';
import { workerHandler } from '#shared/worker.ts';

/** A job lifecycle event that ends the job (the rule in infra/events.ts picks them). */
const JobEnded = z.object({ detail: z.object({ jobId: JobId }).loose() }).loose();

/**
 * Target of the rule on "Sync Job Completed / Failed / Cancelled": deletes what the job staged
 * (shared/staging/staged-chunks.ts). Idempotent; a throw makes EventBridge retry the delivery.
 */
export const handler = workerHandler(JobEnded, async (event) => {
  correlate(event.detail);
  const deleted = await deleteStagedJob(event.detail.jobId);
  logger.info('Staged conversations deleted', { deleted });
  return { deleted };
});
