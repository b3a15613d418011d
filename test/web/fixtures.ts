import type { ConnectedPage, ExecutionSummary, SyncExecution, SyncJob } from '../../web/src/types.ts';

type StateSummary = ExecutionSummary['states'][number];

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

/** A time `seconds` after AT. */
export const at = (seconds: number) => new Date(Date.parse(AT) + seconds * 1000).toISOString();

/**
 * An execution of a job as sync-status and sync-execution list it (route `syncStatus`,
 * `syncExecution`): RUNNING since AT, its consoleUrl the local console's view of it at `origin`.
 */
export const execution = (
  jobId: string,
  name: string,
  over: Partial<SyncExecution> = {},
  origin = 'http://127.0.0.1',
): SyncExecution => ({
  name,
  executionArn: `arn:aws:states:us-east-1:000000000000:execution:ContactSync:${name}`,
  status: 'RUNNING',
  startDate: AT,
  stopDate: null,
  consoleUrl: `${origin}/#/jobs/${jobId}/executions/${name}`,
  ...over,
});

/** One state of an execution's summary: entered and left once, a second in it, no errors. */
export const stateSummary = (name: string, over: Partial<StateSummary> = {}): StateSummary => ({
  name,
  type: 'Task',
  entered: 1,
  exited: 1,
  firstEnteredAt: AT,
  lastExitedAt: at(1),
  totalMs: 1000,
  retries: 0,
  caught: 0,
  failed: 0,
  errors: [],
  ...over,
});

/** An execution's summary: still running, no states, no Map. */
export const executionSummary = (over: Partial<ExecutionSummary> = {}): ExecutionSummary => ({
  complete: false,
  readAt: at(60),
  eventCount: 0,
  states: [],
  map: null,
  end: null,
  ...over,
});
