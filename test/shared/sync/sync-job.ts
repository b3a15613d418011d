import type { SyncJob } from '#shared/sync/job.ts';

/** A job as the jobs table stores it: running, nothing counted yet. */
export function syncJob(overrides: Partial<SyncJob> = {}): SyncJob {
  return {
    jobId: '00000000-0000-4000-8000-000000000001',
    organizationId: 'org-1',
    pageId: '100000000000001',
    status: 'IN_PROGRESS',
    phase: 'syncing:messenger',
    syncedContacts: 0,
    failedContacts: 0,
    totalContacts: 0,
    createdBy: 'user-1',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:05.000Z',
    ...overrides,
  };
}

/** syncJob() as clients see it (publicJob): each test spells out only what differs. */
const {
  jobId,
  organizationId: _organization,
  createdBy: _creator,
  updatedAt: _updated,
  ...shown
} = syncJob();
export const SHOWN_JOB = {
  id: jobId,
  ...shown,
  progress: null,
  progressEstimated: false,
  mode: 'full',
  since: null,
  startedAt: null,
  completedAt: null,
} as const;
