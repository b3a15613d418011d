import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { z } from 'zod';
import { requiredEnv } from '../config.ts';
import { logger } from '../observability.ts';
import type { SyncJob } from '../sync/job.ts';

/**
 * Job lifecycle events on EventBridge (docs/api.md, "Lifecycle events").
 *
 * One event per status change, published by whoever won the conditional transition, right after
 * it committed: `source = "contact-sync"`, `detail-type` one of JOB_EVENT_TYPES, `detail` a
 * JobEventDetail. The detail is versioned: fields are only ever added within version "1"; a
 * removal or a change of meaning is a new version. It carries ids, statuses, counters and the
 * cancel's who and why, never a token or message text.
 *
 * Publishing is best effort: a status change never fails because EventBridge did (the SDK retries
 * first). Delivery to targets is at least once, so consumers dedupe on (jobId, detail-type).
 */
export const EVENT_SOURCE = 'contact-sync';
export const EVENT_SCHEMA_VERSION = '1';

export const JOB_EVENT_TYPES = [
  'Sync Job Started',
  'Sync Job Paused',
  'Sync Job Resumed',
  'Sync Job Cancelled',
  'Sync Job Completed',
  'Sync Job Failed',
] as const;
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];

export const JobEventDetail = z
  .object({
    version: z.literal(EVENT_SCHEMA_VERSION),
    jobId: z.string(),
    organizationId: z.string(),
    pageId: z.string(),
    status: z.string(),
    phase: z.string(),
    syncedContacts: z.number().int().min(0),
    failedContacts: z.number().int().min(0),
    totalContacts: z.number().int().min(0),
    /** When the change committed (the job's updatedAt as written). */
    occurredAt: z.string(),
    executionArn: z.string().optional(),
    /** Who started the sync (user id). */
    createdBy: z.string().optional(),
    /** Cancelled: who (user id) and why (the free-text reason they gave, at most 500 characters). */
    cancelledBy: z.string().optional(),
    cancelReason: z.string().optional(),
    /** Failed: the user-facing message (never internals). */
    error: z.string().optional(),
    /** A job started as the continuation of another (retry). */
    resumedFrom: z.string().optional(),
  })
  .strict();
export type JobEventDetail = z.infer<typeof JobEventDetail>;

/** Endpoint from the SDK's standard configuration (AWS_ENDPOINT_URL_EVENTBRIDGE locally). */
export const eventBridge = new EventBridgeClient({});

/** The event `detail` for `job`: an explicit allow-list of fields, so nothing else can leak. */
export function jobEventDetail(job: SyncJob & { resumedFrom?: string }): JobEventDetail {
  const optional = (key: keyof JobEventDetail, value: unknown) =>
    typeof value === 'string' && value !== '' ? { [key]: value } : {};
  return {
    version: EVENT_SCHEMA_VERSION,
    jobId: job.jobId,
    organizationId: job.organizationId,
    pageId: job.pageId,
    status: job.status,
    phase: job.phase,
    syncedContacts: job.syncedContacts ?? 0,
    failedContacts: job.failedContacts ?? 0,
    totalContacts: job.totalContacts ?? 0,
    occurredAt: job.updatedAt ?? new Date().toISOString(),
    ...optional('executionArn', job.executionArn),
    ...optional('createdBy', job.createdBy),
    ...optional('cancelledBy', job.cancelledBy),
    ...optional('cancelReason', job.cancelReason),
    ...optional('error', job.error),
    ...optional('resumedFrom', job.resumedFrom),
  };
}

/**
 * Publishes one lifecycle event for `job` as it was written by the transition. Call it once, from
 * the code path that won the transition (not on idempotent replays). Never throws: returns false
 * (and logs) when the event could not be published.
 */
export async function publishJobEvent(detailType: JobEventType, job: SyncJob): Promise<boolean> {
  try {
    const out = await eventBridge.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: requiredEnv('EVENT_BUS_NAME'),
            Source: EVENT_SOURCE,
            DetailType: detailType,
            Resources: job.executionArn ? [job.executionArn] : [],
            Detail: JSON.stringify(jobEventDetail(job)),
          },
        ],
      }),
    );
    if (out.FailedEntryCount) throw new Error(out.Entries?.[0]?.ErrorCode ?? 'FailedEntry');
    return true;
  } catch (error) {
    logger.error('Could not publish the job event', {
      jobId: job.jobId,
      detailType,
      error: (error as Error).name === 'Error' ? (error as Error).message : (error as Error).name,
    });
    return false;
  }
}
