/**
 * The sync job and its lifecycle rules:
 *   PENDING -> IN_PROGRESS -> COMPLETED | FAILED | CANCELLED, and PENDING -> CANCELLED;
 *   PENDING | IN_PROGRESS -> PAUSED -> IN_PROGRESS (resume) | CANCELLED.
 * Every transition is a conditional write on the current status (see shared/store/job-repository.ts),
 * so no code path ever overwrites a terminal status. A PAUSED job is not terminal: it keeps the
 * page lock, and only resume or cancel move it on (finalize and mark-failed need IN_PROGRESS).
 */
export const JOB_STATUSES = ['PENDING', 'IN_PROGRESS', 'PAUSED', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
/** The statuses that hold the page lock, and that a cancel accepts. */
export const ACTIVE_STATUSES: readonly JobStatus[] = ['PENDING', 'IN_PROGRESS', 'PAUSED'];
/** The statuses a pause accepts. */
export const PAUSABLE_STATUSES: readonly JobStatus[] = ['PENDING', 'IN_PROGRESS'];
/** The statuses a retry accepts: the sync stopped before it finished. */
export const RETRYABLE_STATUSES: readonly JobStatus[] = ['FAILED', 'CANCELLED'];

export function isTerminal(status: JobStatus): boolean {
  return !ACTIVE_STATUSES.includes(status);
}

export type JobPhase =
  | 'queued'
  | 'starting'
  | 'discovering:messenger'
  | 'syncing:messenger'
  | 'discovering:instagram'
  | 'syncing:instagram'
  | 'finalizing'
  | 'paused'
  | 'resuming'
  | 'done'
  | 'cancelled'
  | 'failed';

export interface SyncJob {
  jobId: string;
  organizationId: string;
  pageId: string;
  status: JobStatus;
  phase: JobPhase;
  syncedContacts: number;
  failedContacts: number;
  totalContacts: number;
  /** Segments ("<platform>#<n>") whose conversations have been counted into totalContacts. */
  discoveredSegments?: string[];
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  completedAt?: string;
  executionArn?: string;
  cancelledBy?: string;
  cancelReason?: string;
  stopExecutionOutcome?: string;
  /** The real state of the job's current execution, mirrored from Step Functions events. */
  executionStatus?: string;
  executionStatusAt?: string;
  executionStatusArn?: string;
  /** Contacts this job created (not those it only updated): what a cleanup may delete. */
  createdContacts?: number;
  /** Cancel with cleanup: contacts deleted so far, and when the cleanup finished. */
  cleanupDeleted?: number;
  cleanupCompletedAt?: string;
  error?: string;
  pausedAt?: string;
  pausedBy?: string;
  /** How many times the job was resumed; names the resumed executions ("<jobId>-resume<n>"). */
  resumeCount?: number;
  /** Where a resumed execution starts: the segment that was being synced (set by discovery). */
  checkpoint?: Checkpoint;
  /** The FAILED or CANCELLED job this one retries: its completed conversations are skipped. */
  resumedFrom?: string;
}

/** A position in the sync, ids and cursors only (it travels in the execution input). */
export interface Checkpoint {
  platform: 'messenger' | 'instagram';
  segment: number;
  cursor: string | null;
}

/**
 * 0..100 once a total is known, null before. A running job never shows 100: the total grows when
 * the next platform is discovered, and only COMPLETED means done.
 */
export function progressOf(job: SyncJob): number | null {
  if (job.status === 'COMPLETED') return 100;
  if (!job.discoveredSegments?.length) return null;
  if (job.totalContacts === 0) return 0;
  const done = job.syncedContacts + job.failedContacts;
  return Math.min(99, Math.floor((done / job.totalContacts) * 100));
}

/** The job as clients see it (sync-status). */
export function publicJob(job: SyncJob) {
  return {
    id: job.jobId,
    pageId: job.pageId,
    status: job.status,
    phase: job.phase,
    syncedContacts: job.syncedContacts,
    failedContacts: job.failedContacts,
    totalContacts: job.totalContacts,
    progress: progressOf(job),
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
