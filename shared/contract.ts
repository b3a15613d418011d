import { z } from 'zod';
import { JOB_STATUSES } from './job-status.ts';
import { AiContext, JobId, PageId, Platform } from './schemas.ts';
import { EXECUTION_STATUSES } from './sync/execution-mirror.ts';

/**
 * The HTTP contract (docs/api.md) as zod schemas: the responses the handlers produce. The OpenAPI
 * document (./api/openapi.ts) is generated from them, the request schemas and the route table.
 * Tests parse real responses with these.
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
/** One Step Functions execution of a job (the first, a continuation or a resumed run). */
export const Execution = z
  .object({
    name: z.string().meta({ description: '"<jobId>", "<jobId>-<platform><n>", "<jobId>-resume<n>", ...' }),
    executionArn: z.string(),
    status: z.enum(EXECUTION_STATUSES),
    startDate: isoTime,
    stopDate: isoTime.nullable(),
    consoleUrl: z.string().meta({
      format: 'uri',
      description:
        "Where an operator sees this execution: the Step Functions console in the stack's region, or the local console's execution view",
    }),
  })
  .meta({ id: 'Execution' });

export const SyncStatusResponse = z
  .object({
    job: Job.extend({
      executions: z.array(Execution).meta({ description: "The job's executions, in the order they started" }),
    }),
  })
  .meta({ id: 'SyncStatusResponse' });

/** One state of an execution's history, every visit of it taken together. */
export const StateSummary = z
  .object({
    name: z.string(),
    type: z.string().meta({ description: 'Task, Choice, Map, Parallel, Pass, Succeed, Fail, Wait' }),
    entered: z.number().int().min(0),
    exited: z.number().int().min(0),
    firstEnteredAt: isoTime,
    lastExitedAt: isoTime.nullable(),
    totalMs: z
      .number()
      .min(0)
      .meta({ description: 'Time spent in the state, summed over its exited visits' }),
    retries: z.number().int().min(0).meta({ description: 'Attempts beyond the first, over all visits' }),
    caught: z
      .number()
      .int()
      .min(0)
      .meta({ description: 'Visits that failed and were caught (left by a Catch)' }),
    failed: z.number().int().min(0).meta({ description: 'Failed attempts, retried or not' }),
    errors: z.array(z.string()).meta({ description: 'The error names seen, each once' }),
  })
  .meta({ id: 'StateSummary' });

/** What an execution's Map iterations (the worker slots) did. */
export const MapSummary = z
  .object({
    iterations: z.number().int().min(0),
    succeeded: z.number().int().min(0),
    failed: z.number().int().min(0),
    aborted: z.number().int().min(0),
    stoppedByCancelCheck: z.number().int().min(0).meta({
      description:
        'Iterations that a cancel check ended before their next chunk (the job was no longer running)',
    }),
    chunksProcessed: z.number().int().min(0),
  })
  .meta({ id: 'MapSummary' });

/** An execution's history, summarized on the server (ids and state names only: no PII). */
export const ExecutionSummary = z
  .object({
    complete: z
      .boolean()
      .meta({ description: 'The execution had ended when its history was read: this is final' }),
    readAt: isoTime,
    eventCount: z.number().int().min(0),
    states: z.array(StateSummary).meta({ description: 'In the order each was first entered' }),
    map: MapSummary.nullable(),
    end: z
      .object({
        type: z
          .string()
          .meta({ description: 'ExecutionSucceeded, ExecutionFailed, ExecutionAborted, ExecutionTimedOut' }),
        at: isoTime,
        error: z.string().nullable(),
        cause: z.string().nullable(),
      })
      .nullable(),
  })
  .meta({ id: 'ExecutionSummary' });

export const SyncExecutionResponse = z
  .object({
    execution: Execution,
    summary: ExecutionSummary,
    stale: z.boolean().meta({
      description:
        'true when Step Functions throttled the read and this is the last summary read: poll more slowly (Retry-After)',
    }),
  })
  .meta({ id: 'SyncExecutionResponse' });
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
