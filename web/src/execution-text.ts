import { EXECUTION_STOPPED_BY_CHECK } from '#shared/sync/workflow-state-names.ts';
import type { ExecutionSummary, SyncExecution } from './types.ts';

/**
 * The words of the execution view, kept apart from the components (no React, no DOM) like
 * sync-text.ts. It shows what the API gives: ids, state names, counts, times and error names.
 */

const count = (n: number) => n.toLocaleString('en-US');

/** A duration: "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min". */
export function durationText(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)} s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  const minutes = Math.floor(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** A time of day with its date, in the browser's zone: "Mar 1, 2025, 10:00:05 AM". */
export const timeText = (iso: string) =>
  new Date(iso).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'medium' });

/** How long an execution ran, or has been running until `now`. */
export function executionDuration(execution: SyncExecution, now = Date.now()): string {
  const end = execution.stopDate ? Date.parse(execution.stopDate) : now;
  const text = durationText(Math.max(0, end - Date.parse(execution.startDate)));
  return execution.stopDate ? text : `${text} so far`;
}

/** The statuses of an execution in words. */
export const EXECUTION_STATUS_TEXT: Record<SyncExecution['status'], string> = {
  RUNNING: 'Running',
  SUCCEEDED: 'Succeeded',
  FAILED: 'Failed',
  TIMED_OUT: 'Timed out',
  ABORTED: 'Aborted',
  PENDING_REDRIVE: 'Pending redrive',
};

/** The Map iterations (the worker slots) in one line. */
export function mapText(map: NonNullable<ExecutionSummary['map']>): string {
  const iterations = `${count(map.iterations)} worker iteration${map.iterations === 1 ? '' : 's'}`;
  const chunks = `${count(map.chunksProcessed)} chunk${map.chunksProcessed === 1 ? '' : 's'} processed`;
  return `${iterations}: ${count(map.succeeded)} succeeded, ${count(map.failed)} failed, ${count(map.aborted)} aborted, ${count(map.stoppedByCancelCheck)} stopped by the cancel check; ${chunks}`;
}

/**
 * How an execution ended: "Succeeded", "Aborted: SyncPaused — Paused by the user", "Failed:
 * States.TaskFailed", "Timed out". Only an abort shows its cause (the reason the service gave the
 * stop); a failure's cause can carry a task's error message, so only its error name is shown.
 */
export function endText(summary: ExecutionSummary): string {
  const { end } = summary;
  if (!end) return summary.complete ? 'Ended' : 'Still running';
  const error = end.error ? `: ${end.error}` : '';
  switch (end.type) {
    case 'ExecutionSucceeded':
      // A check found the job cancelled or paused, and the execution ended there: it stopped the sync.
      return summary.states.some((s) => s.name === EXECUTION_STOPPED_BY_CHECK)
        ? 'Stopped by its cancel check: the job was no longer running'
        : 'Succeeded';
    case 'ExecutionAborted':
      return `Aborted${error}${end.cause ? ` — ${end.cause}` : ''}`;
    case 'ExecutionFailed':
      return `Failed${error || ': unknown error'}`;
    case 'ExecutionTimedOut':
      return `Timed out${error}`;
    default:
      return `${end.type.replace(/^Execution/, '')}${error}`;
  }
}

/** What changes while an execution runs: a poll that reads the same backs off. */
export const summarySignature = (summary: ExecutionSummary | null | undefined) =>
  JSON.stringify(summary ? [summary.eventCount, summary.complete, summary.end?.type] : null);
