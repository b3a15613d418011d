import { InvalidTransition } from '../../domain-errors.ts';
import { publishJobEvent } from '../../events/lifecycle.ts';
import { isPaused } from '../../job-status.ts';
import { countOne } from '../../observability.ts';
import { getJob, transitionJob } from '../../store/job-repository.ts';
import type { Checkpoint, SyncJob } from '../job.ts';
import { type JobRequest, ownedJob } from '../owned-job.ts';
import { startExecution } from '../start-execution.ts';

/** Where a resumed execution starts: the segment the reader last recorded, else the beginning. */
function resumePosition(job: SyncJob): Checkpoint {
  return job.checkpoint ?? { platform: 'messenger', segment: 0, cursor: null };
}

/**
 * Resume: one conditional update PAUSED -> IN_PROGRESS (so a resume and a cancel racing on a
 * paused job cannot both take it from PAUSED), then a new execution "<jobId>-resume<n>" that
 * enters the workflow's continuation path at the checkpoint. The counters continue; chunks the
 * job finished are skipped without a Graph call, and conversations it already wrote are skipped
 * without analysis (shared/sync/process-chunk.ts).
 * If the execution cannot be started, the job goes back to PAUSED (SyncNotLaunched): it never
 * stays IN_PROGRESS with nothing running.
 */
export async function resumeSync(req: JobRequest): Promise<SyncJob> {
  const job = await ownedJob(req.jobId, req.organizationId);
  if (!isPaused(job)) throw new InvalidTransition('resume', job.status);

  const run = (job.resumeCount ?? 0) + 1;
  const resumed = await transitionJob(req.jobId, {
    from: ['PAUSED'],
    to: 'IN_PROGRESS',
    phase: 'resuming',
    set: { resumeCount: run, startedAt: job.startedAt ?? new Date().toISOString() },
  });
  if (!resumed) {
    const current = await getJob(req.jobId);
    throw new InvalidTransition('resume', current?.status ?? 'UNKNOWN');
  }

  const running = await startExecution(resumed, {
    action: 'resume',
    name: `${job.jobId}-resume${run}`,
    input: { jobId: job.jobId, pageId: job.pageId, run, resume: resumePosition(resumed) },
    rollback: () => transitionJob(job.jobId, { from: ['IN_PROGRESS'], to: 'PAUSED', phase: 'paused' }),
  });
  countOne('SyncsResumed');
  await publishJobEvent('Sync Job Resumed', running);
  return running;
}
