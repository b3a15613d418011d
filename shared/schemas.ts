import { z } from 'zod';
import { PLATFORMS } from './store/table-keys.ts';

/** A required string field: absent, non-string and blank all say "<field> is required". */
const required = (field: string) =>
  z
    .string({ error: `${field} is required` })
    .trim()
    .min(1, { error: `${field} is required`, abort: true });

/** Ids are validated by format before they reach a key: jobs are UUIDs, Facebook ids are numeric. */
export const JobId = required('jobId')
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'jobId must be a UUID')
  .meta({ description: 'Sync job id (UUID); also the name of its Step Functions execution.' });
const numericId = (field: string) =>
  required(field).regex(/^[0-9]{1,32}$/, `${field} must be a numeric Facebook id`);
export const PageId = numericId('pageId').meta({ description: 'Facebook Page id.' });

export const Platform = z.enum(PLATFORMS);
export type Platform = z.infer<typeof Platform>;

export const SyncModeField = z
  .enum(['incremental', 'full'], { error: 'mode must be "incremental" or "full"' })
  .meta({
    description:
      'incremental (the default once the page has completed a sync) reads only conversations changed since then; full reads everything.',
  });
export const StartSyncBody = z
  .strictObject({ pageId: PageId, mode: SyncModeField.optional() })
  .meta({ id: 'StartSyncRequest' });
const CancelReason = z
  .string({ error: 'reason must be a string' })
  .trim()
  .max(500, 'reason must be at most 500 characters')
  .optional()
  .meta({ description: 'Why the sync was stopped; recorded on the job.' });
export const CancelSyncBody = z
  .strictObject({
    jobId: JobId,
    reason: CancelReason,
    cleanup: z.boolean({ error: 'cleanup must be a boolean' }).optional().meta({
      description:
        'Also delete the contacts this job created (not those another sync has written since); the contacts it only updated are left untouched. Resumable: call again while cleanup.status is PARTIAL.',
    }),
  })
  .meta({ id: 'CancelSyncRequest' });
/** At most this many pages per bulk cancel (and at most this many active syncs with `all`). */
export const MAX_BULK_CANCEL = 100;
export const CancelBulkBody = z
  .strictObject({
    pageIds: z
      .array(PageId, { error: 'pageIds must be an array' })
      .min(1, 'pageIds must not be empty')
      .max(MAX_BULK_CANCEL, `pageIds must have at most ${MAX_BULK_CANCEL} ids`)
      .optional()
      .meta({ description: 'The pages whose active sync to stop.' }),
    all: z
      .literal(true, { error: 'all must be true' })
      .optional()
      .meta({ description: "Stop every active sync of the caller's organization." }),
    reason: CancelReason,
  })
  .refine((body) => (body.pageIds === undefined) !== (body.all === undefined), {
    error: 'Give exactly one of pageIds and all',
  })
  .meta({ id: 'CancelBulkRequest' });
export const SyncStatusQuery = z.object({ jobId: JobId });
/** An execution of the job: its name is the job id, or starts with "<jobId>-". */
export const SyncExecutionQuery = z
  .object({
    jobId: JobId,
    name: required('name').regex(/^[A-Za-z0-9_-]{1,80}$/, {
      error: 'name must be an execution name (letters, digits, - and _, at most 80)',
      abort: true,
    }),
  })
  .refine((q) => q.name === q.jobId || q.name.startsWith(`${q.jobId}-`), {
    error: 'name must be an execution of the job ("<jobId>" or "<jobId>-...")',
    path: ['name'],
    when: (payload) => payload.issues.length === 0,
  });
/** Pause, resume and retry name the job and nothing else. */
export const PauseSyncBody = z.strictObject({ jobId: JobId }).meta({ id: 'PauseSyncRequest' });
export const ResumeSyncBody = z.strictObject({ jobId: JobId }).meta({ id: 'ResumeSyncRequest' });
export const RetrySyncBody = z
  .strictObject({ jobId: JobId.meta({ description: 'The FAILED or CANCELLED job to retry.' }) })
  .meta({ id: 'RetrySyncRequest' });

/** `limit` of a paginated list, from the query string. */
const pageSize = (fallback: number) =>
  z.coerce
    .number({ error: 'limit must be a number' })
    .int('limit must be an integer')
    .min(1, 'limit must be at least 1')
    .max(100, 'limit must be at most 100')
    .default(fallback);
export const SyncJobsQuery = z.object({
  pageId: PageId,
  limit: pageSize(20),
});
const AccessToken = required('accessToken')
  .min(20, 'accessToken is too short')
  .max(2048, 'accessToken is too long')
  .regex(/^[A-Za-z0-9_|.-]+$/, 'accessToken has invalid characters')
  .meta({
    description:
      "Page access token, checked with Graph (it must be the page's, with messaging access) before it is stored encrypted; never returned.",
    writeOnly: true,
  });
export const ConnectPageBody = z
  .strictObject({
    pageId: PageId,
    pageName: required('pageName')
      .max(200, 'pageName must be at most 200 characters')
      .optional()
      .meta({ description: "The page's name; Graph's when not given." }),
    accessToken: AccessToken,
    instagramAccountId: numericId('instagramAccountId')
      .optional()
      .meta({ description: "The page's Instagram account; Graph's when not given." }),
  })
  .meta({ id: 'ConnectPageRequest' });
export const ReplacePageTokenBody = z
  .strictObject({ accessToken: AccessToken })
  .meta({ id: 'ReplacePageTokenRequest' });
export const PagePath = z.object({ pageId: PageId });
export const ContactsQuery = z.object({
  limit: pageSize(25),
  cursor: z.string().max(1024, 'cursor is too long').optional(),
});

export const AiContext = z.object({
  summary: z.string().max(2000),
  intent: z.enum(['purchase', 'support', 'booking', 'complaint', 'question', 'other']),
  sentiment: z.enum(['positive', 'neutral', 'negative']),
  leadScore: z.number().int().min(0).max(100),
  tags: z.array(z.string().max(40)).max(10),
});
export type AiContext = z.infer<typeof AiContext>;

/** Input of the workflow's workers: ids and cursors only, never message text or tokens. */
export const JobRef = z.object({ jobId: JobId, pageId: PageId });
/** A place in the conversation list: a platform, a cursor in it, and the execution segment it starts. */
export const ListPosition = z.object({
  platform: Platform,
  cursor: z.string().nullable(),
  segment: z.number().int().min(0),
});
export type ListPosition = z.infer<typeof ListPosition>;
export const ReadInput = JobRef.extend({ position: ListPosition });
export type ReadInput = z.infer<typeof ReadInput>;
/** One turn of a worker slot: process the segment's staged chunk `index`. */
export const ChunkInput = JobRef.extend({
  segment: z.number().int().min(0),
  index: z.number().int().min(0),
  /** The worker's slot in the Map: its commit slot (shared/sync/commit-batcher.ts) and its stride. */
  slot: z.number().int().min(0),
  slots: z.number().int().min(1),
});
export type ChunkInput = z.infer<typeof ChunkInput>;
export const FinalizeInput = JobRef.extend({
  outcome: z.enum(['COMPLETED', 'FAILED']),
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});
