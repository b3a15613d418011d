import { useEffect, useRef, useState } from 'react';
import { isRunning } from '#shared/job-status.ts';
import { type Api, ApiError } from './api-client.ts';
import { summarySignature } from './execution-text.ts';
import { errorMessage } from './sync-text.ts';
import type { ExecutionAnswer, JobWithExecutions, SyncExecution } from './types.ts';
import { usePolling } from './use-polling.ts';

/**
 * The data of the execution view: the job with its executions (sync-status), and the summary of
 * each execution that is open (sync-execution), both kept current with usePolling while they can
 * still change, and left alone once they cannot.
 */

/** The next read of a summary that Step Functions throttled, when its answer names no Retry-After. */
export const STALE_POLL_MS = 15_000;

/** A failure to read: `final` when reading again cannot help (the job is not the caller's, or gone). */
export interface ReadError {
  message: string;
  final: boolean;
}

const readError = (error: unknown): ReadError => ({
  message: errorMessage(error),
  final: error instanceof ApiError && [400, 403, 404].includes(error.status),
});

/** The executions of a job as listed; none from an API that does not list them. */
export const executionsOf = (job: JobWithExecutions | null): SyncExecution[] => job?.executions ?? [];

/** What the view shows of a job, and changes while it runs. */
const jobSignature = (job: JobWithExecutions | null) =>
  JSON.stringify(
    job && [
      job.status,
      job.phase,
      job.syncedContacts,
      job.failedContacts,
      job.totalContacts,
      job.progress,
      executionsOf(job).map((e) => [e.name, e.status, e.stopDate]),
    ],
  );

/** The job and its executions: read once, then polled while it runs or one of its executions does. */
export function useJobExecutions(api: Api, jobId: string) {
  const [job, setJob] = useState<JobWithExecutions | null>(null);
  const [error, setError] = useState<ReadError | null>(null);
  const jobRef = useRef(job);

  const read = async () => {
    const next = await api.syncStatus(jobId);
    jobRef.current = next;
    setJob(next);
    setError(null);
  };
  const latestRead = useRef(read);
  latestRead.current = read;

  useEffect(() => {
    latestRead.current().catch((e) => setError(readError(e)));
  }, []);

  const live = !!job && (isRunning(job) || executionsOf(job).some((e) => e.status === 'RUNNING'));
  const retrying = !job && !!error && !error.final;
  usePolling((live || retrying) && !error?.final, {
    poll: read,
    signature: () => jobSignature(jobRef.current),
    onError: (e) => setError(readError(e)),
  });
  return { job, error };
}

/**
 * One execution's summary: read when it is first opened, then polled while it is open and not
 * `complete` (a complete summary is final). A `stale` answer (the read was throttled) is shown as it
 * is, and the next read waits for its Retry-After.
 */
export function useExecutionSummary(api: Api, jobId: string, name: string, open: boolean) {
  const [answer, setAnswer] = useState<ExecutionAnswer | null>(null);
  const [error, setError] = useState<ReadError | null>(null);
  const answerRef = useRef(answer);

  const read = async () => {
    const next = await api.syncExecution(jobId, name);
    answerRef.current = next;
    setAnswer(next);
    setError(null);
  };
  const latestRead = useRef(read);
  latestRead.current = read;

  const first = open && !answer && !error;
  useEffect(() => {
    if (first) latestRead.current().catch((e) => setError(readError(e)));
  }, [first]);

  const live = !!answer && !answer.summary.complete;
  const retrying = !!error && !error.final;
  usePolling(open && (live || retrying) && !error?.final, {
    poll: read,
    signature: () => `${summarySignature(answerRef.current?.summary)}${answerRef.current?.stale}`,
    onError: (e) => setError(readError(e)),
    minDelay: () => (answerRef.current?.stale ? (answerRef.current.retryAfterMs ?? STALE_POLL_MS) : 0),
  });
  return { answer, error };
}
