import { z } from 'zod';

/** Ids are opaque strings; keep them short and printable so they are safe as keys and names. */
const id = (field: string) =>
  z
    .string({ error: `${field} is required` })
    .trim()
    .min(1, { error: `${field} is required`, abort: true })
    .max(128, `${field} is too long`)
    .regex(/^[A-Za-z0-9_.:-]+$/, `${field} has invalid characters`);

export const Platform = z.enum(['messenger', 'instagram']);
export type Platform = z.infer<typeof Platform>;
export const PLATFORMS: readonly Platform[] = ['messenger', 'instagram'];

export const StartSyncBody = z.object({ pageId: id('pageId') });
export const CancelSyncBody = z.object({
  jobId: id('jobId'),
  reason: z.string().trim().max(500, 'reason must be at most 500 characters').optional(),
});
export const SyncStatusQuery = z.object({ jobId: id('jobId') });

export const AiContext = z.object({
  summary: z.string().max(2000),
  intent: z.enum(['purchase', 'support', 'booking', 'complaint', 'question', 'other']),
  sentiment: z.enum(['positive', 'neutral', 'negative']),
  leadScore: z.number().int().min(0).max(100),
  tags: z.array(z.string().max(40)).max(10),
});
export type AiContext = z.infer<typeof AiContext>;

/** Input of the workflow's workers: ids and cursors only, never message text or tokens. */
export const JobRef = z.object({ jobId: id('jobId'), pageId: id('pageId') });
export const DiscoverInput = JobRef.extend({ platform: Platform });
export const ChunkInput = DiscoverInput.extend({
  after: z.string().nullable(),
  limit: z.number().int().min(1).max(100),
});
export type ChunkInput = z.infer<typeof ChunkInput>;
export const FinalizeInput = JobRef.extend({
  outcome: z.enum(['COMPLETED', 'FAILED']),
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});
