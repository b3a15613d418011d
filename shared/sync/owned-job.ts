import { JobNotFound, NotJobOwner } from '../domain-errors.ts';
import { correlate } from '../observability.ts';
import { getJob } from '../store/job-repository.ts';
import type { SyncJob } from './job.ts';

/** A caller's request about one job (pause, resume, retry). */
export interface JobRequest {
  jobId: string;
  organizationId: string;
  userId: string;
}

/**
 * The one job-ownership check: `job` if it is `organizationId`'s; JobNotFound when there is no
 * job, NotJobOwner when it is another organization's. It reads nothing: it also classifies the
 * item a refused commit returns (stop-execution.ts).
 */
export function checkOwnedJob(job: SyncJob | undefined, organizationId: string): SyncJob {
  if (!job) throw new JobNotFound();
  if (job.organizationId !== organizationId) throw new NotJobOwner();
  return job;
}

/** Loads the job for this organization or raises (see checkOwnedJob); its page goes on the log lines. */
export async function ownedJob(jobId: string, organizationId: string): Promise<SyncJob> {
  const job = await getJob(jobId);
  correlate(job);
  return checkOwnedJob(job, organizationId);
}
