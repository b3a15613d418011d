/**
 * The job as clients see it, one projection per shape the contract (shared/contract.ts) answers:
 * the full job (`Job`), a stopped job's final counters (the cancel routes), the 202 of a start.
 */
import { progressOf, type SyncJob } from './job.ts';

/** The job as clients see it (sync-status, sync-jobs, pages, pause, resume). */
export function publicJob(job: SyncJob) {
  return {
    id: job.jobId,
    pageId: job.pageId,
    status: job.status,
    phase: job.phase,
    syncedContacts: job.syncedContacts,
    failedContacts: job.failedContacts,
    totalContacts: job.totalContacts,
    ...progressOf(job),
    mode: job.mode ?? 'full',
    since: job.since ?? null,
    createdAt: job.createdAt,
    startedAt: job.startedAt ?? null,
    completedAt: job.completedAt ?? null,
    ...(job.cancelledBy ? { cancelledBy: job.cancelledBy } : {}),
    ...(job.cancelReason ? { cancelReason: job.cancelReason } : {}),
    ...(job.error ? { error: job.error } : {}),
    ...(job.executionStatus ? { executionStatus: job.executionStatus } : {}),
    ...(job.pausedAt ? { pausedAt: job.pausedAt } : {}),
    ...(job.resumedFrom ? { resumedFrom: job.resumedFrom } : {}),
  };
}

/** The answer of a command that moved a job in place (pause, resume). */
export function changedJobAnswer(job: SyncJob) {
  return { success: true as const, job: publicJob(job) };
}

/** A stopped job as the cancel routes answer it: its final counters. */
export function stoppedJobView(job: SyncJob) {
  return {
    id: job.jobId,
    status: job.status,
    syncedContacts: job.syncedContacts,
    failedContacts: job.failedContacts,
    totalContacts: job.totalContacts,
    completedAt: job.completedAt ?? null,
  };
}

/** The 202 answer of a started sync (start and retry). */
export function startedAnswer(job: SyncJob) {
  return {
    jobId: job.jobId,
    status: job.status,
    mode: job.mode ?? 'full',
    since: job.since ?? null,
    message: 'Sync started',
  };
}
