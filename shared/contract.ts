import { z } from 'zod';
import { createDocument } from 'zod-openapi';
import {
  AiContext,
  CancelBulkBody,
  CancelSyncBody,
  ConnectPageBody,
  ContactsQuery,
  JobId,
  PageId,
  PagePath,
  PauseSyncBody,
  Platform,
  ResumeSyncBody,
  RetrySyncBody,
  StartSyncBody,
  SyncJobsQuery,
  SyncStatusQuery,
} from './schemas.ts';
import { EXECUTION_STATUSES } from './sync/execution-mirror.ts';
import { JOB_STATUSES } from './sync/job.ts';

/**
 * The HTTP contract (docs/api.md) as zod schemas: the responses the handlers produce, and the
 * OpenAPI 3.1 document generated from them and from the request schemas (served at
 * GET /openapi.json and shipped as openapi.json). Tests parse real responses with these.
 */
const isoTime = z.string().meta({ format: 'date-time' });

export const ErrorBody = z.object({ error: z.string() }).meta({ id: 'Error' });
export const ConflictBody = z
  .object({ error: z.string(), activeJobId: z.string().nullable() })
  .meta({ id: 'SyncConflict', description: 'A sync is already active for the page.' });

export const Job = z
  .object({
    id: JobId,
    pageId: PageId,
    status: z.enum(JOB_STATUSES),
    phase: z.string(),
    syncedContacts: z.number().int().min(0),
    failedContacts: z.number().int().min(0),
    totalContacts: z.number().int().min(0),
    progress: z.number().int().min(0).max(100).nullable().meta({
      description:
        "Percent done. Exact once the whole conversation list has been read (totalContacts is final). Before that, an estimate against the page's last complete count (progressEstimated true), or null when there is none (a first sync, an incremental one). 100 only when COMPLETED.",
    }),
    progressEstimated: z.boolean().meta({
      description: 'true while progress is an estimate: the end of the conversation list is not known yet',
    }),
    mode: z.enum(['incremental', 'full']).meta({
      description:
        'incremental: reads only conversations changed since the last completed sync (its counters count those); full: reads everything',
    }),
    since: isoTime.nullable().meta({
      description:
        'The watermark an incremental sync reads back to (the oldest of its platforms); null for a full sync',
    }),
    createdAt: isoTime,
    startedAt: isoTime.nullable(),
    completedAt: isoTime.nullable(),
    cancelledBy: z.string().optional(),
    cancelReason: z.string().optional(),
    error: z.string().optional(),
    executionStatus: z.enum(EXECUTION_STATUSES).optional().meta({
      description:
        "The real state of the job's Step Functions execution, mirrored from its status-change events: a CANCELLED job whose execution is ABORTED (or ended) is drained; RUNNING means a task is still finishing (it can write nothing).",
    }),
    pausedAt: isoTime.optional().meta({ description: 'When the job was last paused' }),
    resumedFrom: JobId.optional().meta({ description: 'The FAILED or CANCELLED job this one retries' }),
  })
  .meta({ id: 'SyncJob' });

export const StartSyncResponse = z
  .object({
    jobId: JobId,
    status: z.literal('PENDING'),
    mode: z.enum(['incremental', 'full']),
    since: isoTime.nullable(),
    message: z.literal('Sync started'),
  })
  .meta({ id: 'StartSyncResponse' });
export const CancelSyncResponse = z
  .object({
    success: z.literal(true),
    job: z.object({
      id: JobId,
      status: z.literal('CANCELLED'),
      syncedContacts: z.number().int().min(0),
      failedContacts: z.number().int().min(0),
      totalContacts: z.number().int().min(0),
      completedAt: isoTime,
    }),
    cleanup: z
      .object({
        status: z
          .enum(['COMPLETE', 'PARTIAL'])
          .meta({ description: 'PARTIAL: call the same cancel again to finish' }),
        created: z.number().int().min(0).meta({ description: 'Contacts this job created' }),
        deleted: z.number().int().min(0).meta({ description: 'Of those, deleted (over every call)' }),
        kept: z
          .number()
          .int()
          .min(0)
          .meta({ description: 'Of those, written by another sync since: kept as that sync left them' }),
        remaining: z.number().int().min(0).meta({ description: 'Of those, not deleted yet (PARTIAL)' }),
        untouched: z
          .number()
          .int()
          .min(0)
          .meta({ description: 'Contacts this job only updated (they existed before it): left untouched' }),
      })
      .optional()
      .meta({ description: 'Present when the request asked for cleanup' }),
  })
  .meta({ id: 'CancelSyncResponse' });
export const CancelBulkResult = z
  .object({
    pageId: PageId,
    jobId: JobId.nullable().meta({ description: "The page's active job (or, when none, its last job)" }),
    outcome: z
      .enum(['cancelled', 'already-cancelled', 'not-active', 'finished', 'forbidden', 'not-found', 'error'])
      .meta({
        description:
          'cancelled: stopped now · already-cancelled: its sync was stopped before · not-active: no sync to stop · finished: it completed or failed before the cancel · forbidden: a page of another organization · not-found: not connected · error: could not be stopped now, retry',
      }),
    job: z
      .object({
        id: JobId,
        status: z.enum(JOB_STATUSES),
        syncedContacts: z.number().int().min(0),
        failedContacts: z.number().int().min(0),
        totalContacts: z.number().int().min(0),
        completedAt: isoTime.nullable(),
      })
      .optional(),
    error: z.string().optional(),
  })
  .strict()
  .meta({ id: 'CancelBulkResult' });
export const CancelBulkResponse = z
  .object({
    results: z.array(CancelBulkResult),
    hasMore: z
      .boolean()
      .meta({ description: 'With all: more active syncs than one call stops (100); call again' }),
  })
  .meta({ id: 'CancelBulkResponse' });
export const PauseSyncResponse = z
  .object({ success: z.literal(true), job: Job.extend({ status: z.literal('PAUSED') }) })
  .meta({ id: 'PauseSyncResponse' });
export const ResumeSyncResponse = z
  .object({ success: z.literal(true), job: Job.extend({ status: z.literal('IN_PROGRESS') }) })
  .meta({ id: 'ResumeSyncResponse' });
export const SyncStatusResponse = z.object({ job: Job }).meta({ id: 'SyncStatusResponse' });
export const SyncJobsResponse = z.object({ jobs: z.array(Job) }).meta({ id: 'SyncJobsResponse' });

export const Page = z
  .object({
    id: PageId,
    pageName: z.string(),
    instagramAccountId: z.string().nullable(),
    contactCount: z.number().int().min(0),
    connectedAt: isoTime,
    activeJob: Job.nullable(),
    lastJob: Job.nullable(),
  })
  .strict()
  .meta({ id: 'Page', description: 'A connected page. The access token is never returned.' });
export const PagesResponse = z.object({ pages: z.array(Page) }).meta({ id: 'PagesResponse' });
export const ConnectPageResponse = z.object({ page: Page }).meta({ id: 'ConnectPageResponse' });

export const Contact = z
  .object({
    pageId: PageId,
    contactKey: z.string(),
    platform: Platform,
    participantId: z.string(),
    displayName: z.string(),
    email: z.string().optional(),
    conversationId: z.string(),
    lastMessageAt: isoTime,
    messageCount: z.number().int().min(0),
    aiContext: AiContext,
    firstSyncedAt: isoTime,
    lastSyncedAt: isoTime,
    lastSyncJobId: JobId,
    createdByJobId: JobId.optional().meta({ description: 'The sync that created the contact' }),
  })
  .meta({ id: 'Contact' });
export const ContactsResponse = z
  .object({ contacts: z.array(Contact), nextCursor: z.string().nullable() })
  .meta({ id: 'ContactsResponse' });

const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const error = (description: string) => json(ErrorBody, description);
const unauthorized = error('Missing, invalid or expired token');
const busy = error(
  'The service is busy (AWS throttling): nothing was changed; retry after Retry-After seconds',
);
const body = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema } } });

export function openApiDocument() {
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Contact Sync API',
      version: '1.0.0',
      description:
        'Imports a Facebook Page\'s Messenger and Instagram conversations as contacts. Every sync is a background job that can be stopped at any moment: what was saved stays saved, nothing is written after the stop is acknowledged, and the counters are exact. Every error body is `{ "error": "..." }`.',
    },
    security: [{ bearerAuth: [] }],
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    paths: {
      '/api/facebook/sync-background': {
        post: {
          summary: 'Start a sync of a page',
          requestParams: {
            header: z.object({
              'idempotency-key': z.string().optional().meta({
                description: 'Makes a retried start return the same job instead of a 409 or a second job.',
              }),
            }),
          },
          requestBody: body(StartSyncBody),
          responses: {
            '202': json(StartSyncResponse, 'Sync started'),
            '400': error('Invalid body'),
            '401': unauthorized,
            '403': error('Page of another organization'),
            '404': error('Page not connected'),
            '409': json(ConflictBody, 'A sync is already active for this page'),
            '415': error('Content-Type is not application/json'),
            '422': error('Idempotency-Key reused with a different body'),
            '503': error(
              'The sync could not be started (the job ended FAILED), or the service is busy (nothing was changed): retry',
            ),
          },
        },
      },
      '/api/facebook/sync-cancel': {
        post: {
          summary: 'Stop a sync ("Stop Sync"), optionally deleting what it created',
          description:
            'The answer is the commit point: the counters it returns are final, and nothing is written after it. Idempotent: a cancelled job is returned as stored. With cleanup: true, the contacts the job created are then deleted, except those another sync has written since (kept); contacts it only updated are left untouched. Cleanup is resumable and idempotent: while cleanup.status is PARTIAL, call again.',
          requestBody: body(CancelSyncBody),
          responses: {
            '200': json(CancelSyncResponse, 'Cancelled (also when it already was)'),
            '400': error('Missing jobId, or "Cannot cancel job with status: COMPLETED" (or FAILED)'),
            '401': unauthorized,
            '403': error('Job of another organization'),
            '404': error('Job not found'),
            '415': error('Content-Type is not application/json'),
            '500': error('Internal error (no details)'),
            '503': busy,
          },
        },
      },
      '/api/facebook/sync-cancel-bulk': {
        post: {
          summary: 'Stop the active syncs of several pages, or of the whole organization',
          description:
            'Give exactly one of pageIds (at most 100) and all. Each page is cancelled like POST /sync-cancel (same commit point), at most 8 at a time, and answered in its own result; one failing page does not fail the request. Idempotent: a page already stopped answers already-cancelled or not-active and nothing is written.',
          requestBody: body(CancelBulkBody),
          responses: {
            '200': json(CancelBulkResponse, 'One result per page'),
            '400': error('Invalid body (both or neither of pageIds and all, more than 100 pageIds, ...)'),
            '401': unauthorized,
            '415': error('Content-Type is not application/json'),
            '500': error('Internal error (no details)'),
            '503': busy,
          },
        },
      },
      '/api/facebook/sync-pause': {
        post: {
          summary: 'Pause a sync',
          description:
            'Like a cancel, the answer is a commit point: nothing is written after it and the counters it returns are exact. The job keeps the page lock and a checkpoint; resume continues it. Idempotent: a paused job is returned as stored.',
          requestBody: body(PauseSyncBody),
          responses: {
            '200': json(PauseSyncResponse, 'Paused (also when it already was)'),
            '400': error('Invalid body, or "Cannot pause job with status: COMPLETED" (or FAILED, CANCELLED)'),
            '401': unauthorized,
            '403': error('Job of another organization'),
            '404': error('Job not found'),
            '415': error('Content-Type is not application/json'),
            '503': busy,
          },
        },
      },
      '/api/facebook/sync-resume': {
        post: {
          summary: 'Resume a paused sync',
          description:
            'Starts a new execution from the checkpoint: finished conversations are neither fetched nor analysed again, and the counters continue.',
          requestBody: body(ResumeSyncBody),
          responses: {
            '200': json(ResumeSyncResponse, 'Resumed: the job is IN_PROGRESS again'),
            '400': error(
              'Invalid body, or "Cannot resume job with status: IN_PROGRESS" (any status but PAUSED)',
            ),
            '401': unauthorized,
            '403': error('Job of another organization'),
            '404': error('Job not found'),
            '415': error('Content-Type is not application/json'),
            '503': error(
              'The execution could not be started (the job stays PAUSED), or the service is busy: retry',
            ),
          },
        },
      },
      '/api/facebook/sync-retry': {
        post: {
          summary: 'Retry a failed or cancelled sync from where it stopped',
          description:
            'Creates a new job for the same page, linked by resumedFrom, that skips the conversations the old job completed; its counters count only its own writes.',
          requestBody: body(RetrySyncBody),
          responses: {
            '202': json(StartSyncResponse, 'The new job started'),
            '400': error(
              'Invalid body, or "Cannot retry job with status: COMPLETED" (any status but FAILED or CANCELLED)',
            ),
            '401': unauthorized,
            '403': error('Job of another organization'),
            '404': error('Job not found, or its page is no longer connected'),
            '409': json(ConflictBody, 'A sync is already active for this page'),
            '415': error('Content-Type is not application/json'),
            '503': error(
              'The sync could not be started (the new job ended FAILED), or the service is busy: retry',
            ),
          },
        },
      },
      '/api/facebook/sync-status': {
        get: {
          summary: 'A sync job and its progress',
          requestParams: { query: SyncStatusQuery },
          responses: {
            '200': json(SyncStatusResponse, 'The job'),
            '400': error('Missing or malformed jobId'),
            '401': unauthorized,
            '403': error('Job of another organization'),
            '404': error('Job not found'),
            '503': busy,
          },
        },
      },
      '/api/facebook/sync-jobs': {
        get: {
          summary: "A page's sync history, newest first",
          requestParams: { query: SyncJobsQuery },
          responses: {
            '200': json(SyncJobsResponse, 'The jobs'),
            '400': error('Missing or malformed pageId'),
            '401': unauthorized,
            '403': error('Not a page of your organization'),
            '503': busy,
          },
        },
      },
      '/api/facebook/pages': {
        get: {
          summary: "The organization's connected pages",
          responses: { '200': json(PagesResponse, 'The pages'), '401': unauthorized, '503': busy },
        },
        post: {
          summary: 'Connect a page',
          requestBody: body(ConnectPageBody),
          responses: {
            '201': json(ConnectPageResponse, 'Connected; the token is stored encrypted and never returned'),
            '400': error('Invalid body'),
            '401': unauthorized,
            '409': error('Page already connected'),
            '415': error('Content-Type is not application/json'),
            '503': busy,
          },
        },
      },
      '/api/facebook/pages/{pageId}': {
        delete: {
          summary: 'Disconnect a page (an active sync is cancelled first)',
          requestParams: { path: PagePath },
          responses: {
            '204': { description: 'Disconnected; contacts and job history are kept' },
            '401': unauthorized,
            '403': error('Page of another organization'),
            '404': error('Page not connected'),
            '503': busy,
          },
        },
      },
      '/api/facebook/pages/{pageId}/contacts': {
        get: {
          summary: "A page's contacts, paginated",
          requestParams: { path: PagePath, query: ContactsQuery },
          responses: {
            '200': json(ContactsResponse, 'A page of contacts; pass nextCursor as cursor for the next'),
            '400': error('Invalid limit or cursor'),
            '401': unauthorized,
            '403': error('Page of another organization'),
            '404': error('Page not connected'),
            '503': busy,
          },
        },
      },
      '/openapi.json': {
        get: {
          summary: 'This document',
          security: [],
          responses: { '200': { description: 'The OpenAPI 3.1 document' } },
        },
      },
    },
  });
}
