import type { z } from 'zod';
import type { CancelSyncResponse, Job, Page } from '#shared/contract.ts';

/** The API's shapes, taken from the contract's zod schemas (types only: nothing of zod is bundled). */
export type SyncJob = z.infer<typeof Job>;
export type ConnectedPage = z.infer<typeof Page>;
/**
 * How a sync reads the page: `incremental` reads only the conversations changed since the last
 * completed sync (`since`, the watermark), `full` reads every conversation. The console reads a
 * job without `mode` or `progressEstimated` (from an API that does not send them) as a full sync
 * with an exact (or unknown) progress.
 */
export type SyncMode = SyncJob['mode'];
export type CancelResult = z.infer<typeof CancelSyncResponse>;
