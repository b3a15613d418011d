import type { ConnectedPage, SyncJob } from '../../web/src/types.ts';

/**
 * The API's answers as the console receives them (route `listPages`), built field by field
 * with `progressEstimated`, `mode` and `since`, so a test states only what it is about.
 */
export const AT = '2025-03-01T10:00:00.000Z';

/** A full sync, running, nothing counted or synced yet. */
export const syncJob = (over: Partial<SyncJob> = {}): SyncJob => ({
  id: 'job-1',
  pageId: 'page-1',
  status: 'IN_PROGRESS',
  phase: 'syncing',
  syncedContacts: 0,
  failedContacts: 0,
  totalContacts: 0,
  progress: null,
  createdAt: AT,
  startedAt: AT,
  completedAt: null,
  progressEstimated: false,
  mode: 'full',
  since: null,
  ...over,
});

/** A page with no contacts and no sync yet. */
export const connectedPage = (
  id: string,
  pageName: string,
  over: Partial<ConnectedPage> = {},
): ConnectedPage => ({
  id,
  pageName,
  instagramAccountId: null,
  contactCount: 0,
  connectedAt: AT,
  activeJob: null,
  lastJob: null,
  ...over,
});
