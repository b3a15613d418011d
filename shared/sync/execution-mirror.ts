import { z } from 'zod';
import { recordExecutionReport } from '../store/execution-repository.ts';
import { annotateJob, recordExecutionStatus } from '../store/job-repository.ts';

/** The states of a Step Functions execution, as its status-change events report them. */
export const EXECUTION_STATUSES = [
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'PENDING_REDRIVE',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** `stopExecutionOutcome` of a job whose execution a stop (cancel or pause) aborted. */
export const STOPPED = 'STOPPED';

/** "Step Functions Execution Status Change" as EventBridge delivers it (the fields we read). */
export const ExecutionStatusChange = z.object({
  'detail-type': z.literal('Step Functions Execution Status Change'),
  time: z.string(),
  detail: z.object({
    executionArn: z.string(),
    name: z.string(),
    status: z.enum(EXECUTION_STATUSES),
    /** Epoch milliseconds. */
    startDate: z.number().nullish(),
    stopDate: z.number().nullish(),
  }),
});
export type ExecutionStatusChange = z.infer<typeof ExecutionStatusChange>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The job an execution belongs to: its name is the job id, or `<jobId>-<platform><n>` for a
 * continue-as-new execution (infra/workflow/continue-as-new.ts). Null for an execution that is not a job's.
 */
export function jobOfExecution(name: string): { jobId: string; first: boolean } | null {
  const jobId = name.slice(0, 36);
  if (!UUID.test(jobId) || (name.length > 36 && name[36] !== '-')) return null;
  return { jobId, first: name.length === 36 };
}

/**
 * Writes the execution's real state on its job (`executionStatus`), so an operator can tell
 * "cancelled and drained" (ABORTED) from "cancelled, a task still finishing" (RUNNING).
 * Reports of an execution that is no longer the job's current one, and late reports, are ignored
 * there ('stale').
 *
 * Every report, current or not, is also recorded on the execution's own item in the job's
 * partition (execution-repository.ts), keyed by its name: so each of a job's executions ends with
 * its final status, including one started just as a cancel landed (a continuation or a resume).
 *
 * ABORTED is what StopExecution leaves, and only it: for the job's current execution the mirror
 * also records the stop's outcome, `stopExecutionOutcome = STOPPED`, which the cancel or pause
 * that stopped it leaves to this event so as not to write the job item twice before its answer
 * (stop-execution.ts). Every write is idempotent, so a delivery retried after a failure redoes them.
 */
export async function mirrorExecutionStatus(
  event: ExecutionStatusChange,
): Promise<'mirrored' | 'stale' | 'not-a-job'> {
  const { executionArn, name, status, startDate, stopDate } = event.detail;
  const job = jobOfExecution(name);
  if (!job) return 'not-a-job';
  const iso = (epochMs: number | null | undefined) =>
    typeof epochMs === 'number' ? new Date(epochMs).toISOString() : undefined;
  const at = (status === 'RUNNING' ? iso(startDate) : (iso(stopDate) ?? iso(startDate))) ?? event.time;
  const [written] = await Promise.all([
    recordExecutionStatus(job.jobId, { executionArn, status, at, first: job.first }),
    recordExecutionReport(job.jobId, {
      name,
      status,
      startDate: iso(startDate),
      stopDate: status === 'RUNNING' ? undefined : iso(stopDate),
      at,
    }),
  ]);
  if (!written) return 'stale';
  if (status === 'ABORTED') await annotateJob(job.jobId, { stopExecutionOutcome: STOPPED });
  return 'mirrored';
}
