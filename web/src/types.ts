import type { z } from 'zod';
import type { CancelSyncResponse, Job, Page } from '../../shared/contract.ts';

/**
 * How a sync reads the page: `incremental` reads only the conversations changed since the last
 * completed sync (`since`, the watermark), `full` reads every conversation.
 */
export type SyncMode = 'incremental' | 'full';

/**
 * The fields of a job that describe an incremental re-sync and an estimated progress. Optional here
 * so that the console also reads an API that does not send them yet: a job without them is shown
 * as a full sync with an exact (or unknown) progress, as before.
 */
interface JobModeFields {
  /** True while the end of the conversation list is not known and `progress` is an estimate. */
  progressEstimated?: boolean;
  mode?: SyncMode;
  /** ISO time an incremental sync reads back to; null for a full one. */
  since?: string | null;
}

/** The API's shapes, taken from the contract's zod schemas (types only: nothing of zod is bundled). */
export type SyncJob = z.infer<typeof Job> & JobModeFields;
export type ConnectedPage = Omit<z.infer<typeof Page>, 'activeJob' | 'lastJob'> & {
  activeJob: SyncJob | null;
  lastJob: SyncJob | null;
};
export type CancelResult = z.infer<typeof CancelSyncResponse>;

export type ActiveJob = SyncJob & { status: 'PENDING' | 'IN_PROGRESS' };
export const isActive = (job: SyncJob | null | undefined): job is ActiveJob =>
  job?.status === 'PENDING' || job?.status === 'IN_PROGRESS';
/** Paused: nothing runs (no polling needed), but the job still holds the page. */
export const isPaused = (job: SyncJob | null | undefined): job is SyncJob & { status: 'PAUSED' } =>
  job?.status === 'PAUSED';
/** A stopped sync that a retry can continue from where it stopped. */
export const isRetryable = (job: SyncJob | null | undefined) =>
  job?.status === 'FAILED' || job?.status === 'CANCELLED';
