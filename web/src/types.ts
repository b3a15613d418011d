import type { z } from 'zod';
import type { CancelSyncResponse, Job, Page } from '../../shared/contract.ts';

/** The API's shapes, taken from the contract's zod schemas (types only: nothing of zod is bundled). */
export type SyncJob = z.infer<typeof Job>;
export type ConnectedPage = z.infer<typeof Page>;
export type CancelResult = z.infer<typeof CancelSyncResponse>;

export type ActiveJob = SyncJob & { status: 'PENDING' | 'IN_PROGRESS' };
export const isActive = (job: SyncJob | null | undefined): job is ActiveJob =>
  job?.status === 'PENDING' || job?.status === 'IN_PROGRESS';
