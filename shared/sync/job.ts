/**
 * The sync job and its lifecycle rules (the statuses and their sets: shared/job-status.ts).
 * Every transition is a conditional write on the current status (see shared/store/job-repository.ts),
 * so no code path ever overwrites a terminal status. A PAUSED job is not terminal: it keeps the
 * page lock, and only resume or cancel move it on (finalize and mark-failed need IN_PROGRESS).
 */
import type { JobStatus } from '../job-status.ts';

export type JobPhase =
  | 'queued'
  | 'starting'
  | 'syncing:messenger'
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
  /** Conversations counted into totalContacts per execution segment ("s<n>"): a rerun of the reader adds nothing twice. */
  listed?: Record<string, number>;
  /** The reader reached the end of the list: totalContacts is final, progress is exact. */
  listComplete?: boolean;
  /** The page's last complete count when the job started: the base of an estimated progress. */
  expectedTotal?: number;
  /** incremental: only what changed since the page's watermark; full: everything. */
  mode?: SyncMode;
  /** The oldest watermark an incremental sync reads back to (ISO time); null when it reads everything. */
  since?: string | null;
  /** The watermark each platform is read back to (incremental only). */
  sinceByPlatform?: Partial<Record<'messenger' | 'instagram', string>>;
  /** The newest updated_time each platform had when this sync started reading it: the page's next watermark. */
  seenWatermarks?: Partial<Record<'messenger' | 'instagram', string>>;
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
  /** Where a resumed execution starts: the segment that was being read (set by the reader). */
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

export const SYNC_MODES = ['incremental', 'full'] as const;
export type SyncMode = (typeof SYNC_MODES)[number];

/**
 * Progress, 0..100, and whether it is an estimate. Exact once the reader reached the end of the
 * list (totalContacts is final). Before that, an estimate against the page's last complete count
 * (or the count so far, if larger), flagged; null when there is no such count (a first sync, an
 * incremental one). A running job never shows 100: only COMPLETED means done.
 */
export function progressOf(job: SyncJob): { progress: number | null; progressEstimated: boolean } {
  if (job.status === 'COMPLETED') return { progress: 100, progressEstimated: false };
  const done = job.syncedContacts + job.failedContacts;
  const percent = (total: number) => (total === 0 ? 0 : Math.min(99, Math.floor((done / total) * 100)));
  if (job.listComplete) return { progress: percent(job.totalContacts), progressEstimated: false };
  if (job.expectedTotal && job.mode !== 'incremental')
    return { progress: percent(Math.max(job.expectedTotal, job.totalContacts)), progressEstimated: true };
  return { progress: null, progressEstimated: false };
}
