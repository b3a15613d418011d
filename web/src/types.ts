import type { z } from 'zod';
import type {
  CancelSyncResponse,
  Execution,
  ExecutionSummary as ExecutionSummarySchema,
  Job,
  Page,
  SyncExecutionResponse,
  SyncStatusResponse,
} from '#shared/contract.ts';

/** The API's shapes, taken from the contract's zod schemas (types only: nothing of zod is bundled). */
export type SyncJob = z.infer<typeof Job>;
export type ConnectedPage = z.infer<typeof Page>;
/**
 * How a sync reads the page: `incremental` reads only the conversations changed since the last
 * completed sync (`since`, the watermark), `full` reads every conversation. The console reads a
 * job without `mode` or `progressEstimated` (from an API that does not send them) as a full sync
 * with an exact (or unknown) progress.
 */
export type SyncMode = SyncJob['mode'];
export type CancelResult = z.infer<typeof CancelSyncResponse>;
/** A job as sync-status shows it: its counters and its Step Functions executions, in the order they started. */
export type JobWithExecutions = z.infer<typeof SyncStatusResponse>['job'];
/** One Step Functions execution of a job: the first, a continuation or a resumed run. */
export type SyncExecution = z.infer<typeof Execution>;
/** An execution's history as the server summarizes it (ids, state names, counts, times, error names). */
export type ExecutionSummary = z.infer<typeof ExecutionSummarySchema>;
/**
 * sync-execution's answer, with the wait its Retry-After asks for (in ms) when the summary is
 * `stale` (null when the answer names none, or the browser may not read it).
 */
export type ExecutionAnswer = z.infer<typeof SyncExecutionResponse> & { retryAfterMs: number | null };
