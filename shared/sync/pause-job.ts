import { ExecutionDoesNotExist, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { badRequest, forbidden, HttpError, notFound } from '../errors.ts';
import { publishJobEvent } from '../events/lifecycle.ts';
import { countOne, logger } from '../observability.ts';
import { executionArnFor, sfn, stateMachineArn } from '../sfn.ts';
import { annotateJob, getJob, transitionJob } from '../store/job-repository.ts';
import { type Checkpoint, PAUSABLE_STATUSES, type SyncJob } from './job.ts';

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
 * Pause: the cancel protocol with a way back (DESIGN.md, Cancellation protocol; README "Pause and
 * resume").
 * 1. Commit point: one conditional update PENDING|IN_PROGRESS -> PAUSED. Every contact write is
 *    conditional on IN_PROGRESS, so from here on nothing is written and the counters returned
 *    are exact; the Map's per-chunk check and the platform checks stop the workflow.
 * 2. Stop the execution, best effort, and record the outcome.
 * The page lock stays with the job. Pausing a paused job returns it unchanged; a finished job
 * cannot be paused (400), the same race rule as cancel.
 */
export async function pauseSync(req: JobRequest): Promise<SyncJob> {
  const job = await ownedJob(req);
  if (job.status === 'PAUSED') return job;
  if (!PAUSABLE_STATUSES.includes(job.status))
    throw badRequest(`Cannot pause job with status: ${job.status}`);

  const paused = await transitionJob(req.jobId, {
    from: PAUSABLE_STATUSES,
    to: 'PAUSED',
    phase: 'paused',
    set: { pausedAt: new Date().toISOString(), pausedBy: req.userId },
  });
  if (!paused) {
    // Lost a race: completion, failure, a cancel or another pause committed first.
    const current = await getJob(req.jobId);
    if (current?.status === 'PAUSED') return current;
    throw badRequest(`Cannot pause job with status: ${current?.status ?? 'UNKNOWN'}`);
  }

  countOne('SyncsPaused');
  const stopExecutionOutcome = await stopExecution(paused);
  await annotateJob(paused.jobId, { stopExecutionOutcome }).catch((error: Error) =>
    logger.warn('Could not record the StopExecution outcome', { jobId: paused.jobId, error: error.name }),
  );
  // Only the call that committed publishes: an idempotent replay above returns before this.
  await publishJobEvent('Sync Job Paused', paused);
  return { ...paused, stopExecutionOutcome };
}

async function stopExecution(job: SyncJob): Promise<string> {
  try {
    await sfn.send(
      new StopExecutionCommand({
        executionArn: job.executionArn ?? executionArnFor(job.jobId),
        error: 'SyncPaused',
        cause: 'Paused by the user',
      }),
    );
    return 'STOPPED';
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) return 'NO_EXECUTION';
    logger.warn('StopExecution failed; the workflow will stop at its next check', {
      jobId: job.jobId,
      error: (error as Error).name,
    });
    return `FAILED: ${(error as Error).name}`;
  }
}

/** Where a resumed execution starts: the segment discovery last recorded, else the beginning. */
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
