import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { badRequest, forbidden, HttpError, notFound } from '../errors.ts';
import { publishJobEvent } from '../events/lifecycle.ts';
import { countOne, logger } from '../observability.ts';
import { sfn, stateMachineArn } from '../sfn.ts';
import { annotateJob, commitTransition, getJob, transitionJob } from '../store/job-repository.ts';
import { type Checkpoint, PAUSABLE_STATUSES, type SyncJob } from './job.ts';
import { stopAndRecord } from './stop-execution.ts';

export interface JobRequest {
  jobId: string;
  organizationId: string;
  userId: string;
}

async function ownedJob(req: JobRequest): Promise<SyncJob> {
  const job = await getJob(req.jobId);
  if (!job) throw notFound('Sync job not found');
  if (job.organizationId !== req.organizationId) throw forbidden('Sync job belongs to another organization');
  return job;
}

/**
 * Pause: the cancel protocol with a way back (docs/api.md, "Pause, resume and retry").
 * 1. Commit point, in one round trip: one update PENDING|IN_PROGRESS -> PAUSED, conditional on the
 *    caller's organization too; the job as it was decides a refusal (404, 403, 400) or the
 *    idempotent 200 of a paused job. Every batch of contacts is conditional on IN_PROGRESS, so from
 *    here on nothing is written and the counters returned are exact; the Map's per-chunk check and
 *    the platform checks stop the workflow.
 * 2. Then, at once and before the answer: stop the execution (best effort; its outcome is recorded
 *    as for a cancel, see stop-execution.ts); publish the lifecycle event.
 * The page lock stays with the job.
 */
export async function pauseSync(req: JobRequest): Promise<SyncJob> {
  const commit = await commitTransition(req.jobId, req.organizationId, {
    from: PAUSABLE_STATUSES,
    to: 'PAUSED',
    phase: 'paused',
    set: { pausedAt: new Date().toISOString(), pausedBy: req.userId },
  });
  if (!commit.won) {
    const job = commit.job;
    if (!job) throw notFound('Sync job not found');
    if (job.organizationId !== req.organizationId)
      throw forbidden('Sync job belongs to another organization');
    if (job.status === 'PAUSED') return job;
    throw badRequest(`Cannot pause job with status: ${job.status}`);
  }
  const paused = commit.job;
  countOne('SyncsPaused');
  const [stopExecutionOutcome] = await Promise.all([
    stopAndRecord(paused, { error: 'SyncPaused', cause: 'Paused by the user' }),
    // Only the call that committed publishes: an idempotent replay above returns before this.
    publishJobEvent('Sync Job Paused', paused),
  ]);
  return { ...paused, stopExecutionOutcome };
}

/** Where a resumed execution starts: the segment the reader last recorded, else the beginning. */
export function resumePosition(job: SyncJob): Checkpoint {
  return job.checkpoint ?? { platform: 'messenger', segment: 0, cursor: null };
}

/**
 * Resume: one conditional update PAUSED -> IN_PROGRESS (so a resume and a cancel racing on a
 * paused job cannot both take it from PAUSED), then a new execution "<jobId>-resume<n>" that
 * enters the workflow's continuation path at the checkpoint. The counters continue; chunks the
 * job finished are skipped without a Graph call, and conversations it already wrote are skipped
 * without analysis (shared/sync/process-chunk.ts).
 * If the execution cannot be started, the job goes back to PAUSED (503): it never stays
 * IN_PROGRESS with nothing running.
 */
export async function resumeSync(req: JobRequest): Promise<SyncJob> {
  const job = await ownedJob(req);
  if (job.status !== 'PAUSED') throw badRequest(`Cannot resume job with status: ${job.status}`);

  const run = (job.resumeCount ?? 0) + 1;
  const resumed = await transitionJob(req.jobId, {
    from: ['PAUSED'],
    to: 'IN_PROGRESS',
    phase: 'resuming',
    set: { resumeCount: run, startedAt: job.startedAt ?? new Date().toISOString() },
  });
  if (!resumed) {
    const current = await getJob(req.jobId);
    throw badRequest(`Cannot resume job with status: ${current?.status ?? 'UNKNOWN'}`);
  }

  let executionArn: string | undefined;
  try {
    const out = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: stateMachineArn(),
        name: `${job.jobId}-resume${run}`,
        input: JSON.stringify({ jobId: job.jobId, pageId: job.pageId, run, resume: resumePosition(resumed) }),
      }),
    );
    executionArn = out.executionArn;
  } catch (error) {
    logger.error('StartExecution failed on resume', { jobId: job.jobId, error: (error as Error).name });
    await transitionJob(job.jobId, { from: ['IN_PROGRESS'], to: 'PAUSED', phase: 'paused' });
    throw new HttpError(503, 'The sync could not be resumed. Try again.');
  }
  if (executionArn) {
    await annotateJob(job.jobId, { executionArn }).catch((error: Error) =>
      logger.warn('Could not record the execution ARN', { jobId: job.jobId, error: error.name }),
    );
  }
  const running = { ...resumed, ...(executionArn ? { executionArn } : {}) };
  countOne('SyncsResumed');
  await publishJobEvent('Sync Job Resumed', running);
  return running;
}
