import { randomUUID } from 'node:crypto';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { PageLocked, PageNotConnected } from '../../domain-errors.ts';
import { publishJobEvent } from '../../events/lifecycle.ts';
import { isTerminal } from '../../job-status.ts';
import { countOne, logger } from '../../observability.ts';
import { ownedPage } from '../../pages/owned-page.ts';
import { cancellationReasons, ddb, tables } from '../../store/db.ts';
import { getJob, transitionJob } from '../../store/job-repository.ts';
import { getPage, releasePageLock, type StoredPage } from '../../store/page-repository.ts';
import { JOB_SK } from '../../store/table-keys.ts';
import type { SyncJob, SyncMode } from '../job.ts';
import { startExecution } from '../start-execution.ts';
import { planSync } from '../watermark.ts';

export interface StartRequest {
  pageId: string;
  organizationId: string;
  userId: string;
  /** A FAILED or CANCELLED job this one retries (retry-sync.ts). */
  resumedFrom?: string;
  /** Absent: incremental when the page has a watermark, else full (shared/sync/watermark.ts). */
  mode?: SyncMode;
}

/**
 * Creates a PENDING job and takes the page lock in one transaction (so two concurrent starts give
 * one job and one 409), then starts the execution named after the job.
 */
export async function startSync(req: StartRequest): Promise<SyncJob> {
  const page = await ownedPage(req.pageId, req.organizationId);

  let job = newJob(req, page);
  let outcome = await createJobWithLock(job, page);
  for (let replans = 0; outcome === 'page-moved' && replans < 3; replans++) {
    // A sync of the page completed between our read and the lock: plan again from its watermarks.
    const latest = await getPage(req.pageId);
    if (!latest) throw new PageNotConnected();
    job = newJob(req, latest);
    outcome = await createJobWithLock(job, latest);
  }
  if (outcome !== 'created') {
    // The lock may be stale: a terminal job whose release failed. Heal it once and try again.
    const locked = await getPage(req.pageId);
    const holder = locked?.activeJobId;
    const holderJob = holder ? await getJob(holder) : undefined;
    const stale = holder && (!holderJob || isTerminal(holderJob.status));
    // Whoever frees it (us, or the job's own cleanup racing us), try the lock once more.
    if (stale) await releasePageLock(req.pageId, holder);
    const healed = stale ? await getPage(req.pageId) : undefined;
    if (healed) job = newJob(req, healed);
    if (!healed || (await createJobWithLock(job, healed)) !== 'created') {
      const current = await getPage(req.pageId);
      throw new PageLocked(current?.activeJobId ?? null);
    }
  }

  const started = await startExecution(job, {
    action: 'start',
    name: job.jobId,
    input: { jobId: job.jobId, pageId: job.pageId },
    // No job may stay PENDING forever: a start that could not launch ends FAILED and frees the page.
    rollback: async (error) => {
      const failed = await transitionJob(job.jobId, {
        from: ['PENDING'],
        to: 'FAILED',
        phase: 'failed',
        set: { completedAt: new Date().toISOString(), error },
      });
      await releasePageLock(job.pageId, job.jobId);
      if (failed) await publishJobEvent('Sync Job Failed', failed);
    },
  });
  countOne('SyncsStarted');
  logger.info('Sync started', { jobId: job.jobId, pageId: job.pageId, resumedFrom: job.resumedFrom });
  await publishJobEvent('Sync Job Started', started);
  return started;
}

/** A new PENDING job of `page`, its mode and watermarks planned from the page as read. */
function newJob(req: StartRequest, page: StoredPage): SyncJob {
  const now = new Date().toISOString();
  return {
    jobId: randomUUID(),
    organizationId: req.organizationId,
    pageId: req.pageId,
    status: 'PENDING',
    phase: 'queued',
    syncedContacts: 0,
    failedContacts: 0,
    totalContacts: 0,
    ...planSync(page, req.mode),
    // Maps the workers and the reader write into (DynamoDB sets no path inside a missing map).
    listed: {},
    seenWatermarks: {},
    createdBy: req.userId,
    createdAt: now,
    updatedAt: now,
    ...(req.resumedFrom ? { resumedFrom: req.resumedFrom } : {}),
  };
}

/**
 * Puts the PENDING job and takes the page lock in one transaction, on the condition that the page
 * still has the watermarks the job was planned from. `locked`: another job holds the page;
 * `page-moved`: a completed sync recorded new watermarks meanwhile (plan again).
 */
async function createJobWithLock(
  job: SyncJob,
  plannedFrom: StoredPage,
): Promise<'created' | 'locked' | 'page-moved'> {
  const recorded = plannedFrom.watermarkRecordedAt;
  try {
    await ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: tables.pages,
              Key: { pageId: job.pageId },
              UpdateExpression: 'SET activeJobId = :j',
              ConditionExpression: `attribute_exists(pageId) AND attribute_not_exists(activeJobId) AND ${
                recorded ? 'watermarkRecordedAt = :recorded' : 'attribute_not_exists(watermarkRecordedAt)'
              }`,
              ExpressionAttributeValues: { ':j': job.jobId, ...(recorded ? { ':recorded': recorded } : {}) },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          {
            Put: {
              TableName: tables.jobs,
              Item: { ...job, sk: JOB_SK },
              ConditionExpression: 'attribute_not_exists(jobId)',
            },
          },
        ],
      }),
    );
    return 'created';
  } catch (error) {
    const [page] = cancellationReasons(error) ?? [];
    if (page?.Code !== 'ConditionalCheckFailed') throw error;
    return page.Item && !page.Item.activeJobId ? 'page-moved' : 'locked';
  }
}
