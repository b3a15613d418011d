import { ChevronDown, ChevronRight, ExternalLink } from 'lucide-react';
import { useId, useRef, useState } from 'react';
import type { Api } from '../api-client.ts';
import type { ExecutionRoute } from '../execution-route.ts';
import {
  durationText,
  EXECUTION_STATUS_TEXT,
  endText,
  executionDuration,
  mapText,
  timeText,
} from '../execution-text.ts';
import { percentText, plural } from '../sync-text.ts';
import type { ExecutionSummary, JobWithExecutions, SyncExecution } from '../types.ts';
import {
  executionsOf,
  type ReadError,
  useExecutionSummary,
  useJobExecutions,
} from '../use-execution-view.ts';
import { Dialog } from './dialog.tsx';
import { icon } from './icon.tsx';

/**
 * The execution view of a sync: the job's counters, and its Step Functions executions in the order
 * they started (the first, continuations, resumed runs), each with a link to its console page and,
 * opened, the summary of its history: the states with their counts, times, retries and errors, the
 * Map's worker iterations, and how it ended. It shows only what the API gives (ids, state names,
 * counts, times and error names) and keeps itself current while the sync runs.
 */
export function ExecutionView(props: { api: Api; route: ExecutionRoute | null; onClose: () => void }) {
  const closeRef = useRef<HTMLButtonElement>(null);
  const { route } = props;
  return (
    <Dialog
      open={!!route}
      title="Sync details"
      wide
      initialFocus={closeRef}
      onClose={props.onClose}
      footer={
        <button ref={closeRef} type="button" className="button" onClick={props.onClose}>
          Close
        </button>
      }
    >
      {route && <JobExecutions key={`${route.jobId}/${route.name}`} api={props.api} route={route} />}
    </Dialog>
  );
}

function JobExecutions({ api, route }: { api: Api; route: ExecutionRoute }) {
  const { job, error } = useJobExecutions(api, route.jobId);
  /** The executions the user opened or closed; until then, the one the route names, else the latest. */
  const [chosen, setChosen] = useState<ReadonlySet<string> | null>(route.name ? new Set([route.name]) : null);
  if (!job)
    return error ? (
      <ReadFailure what="the sync" error={error} />
    ) : (
      <p className="muted" role="status">
        Loading the sync...
      </p>
    );
  const executions = executionsOf(job);
  const latest = executions.at(-1)?.name;
  const open = chosen ?? new Set(latest ? [latest] : []);
  const toggle = (name: string) => {
    const next = new Set(open);
    if (!next.delete(name)) next.add(name);
    setChosen(next);
  };
  return (
    <div className="execution-view" data-job-id={job.id}>
      <JobCounters job={job} />
      {error && <ReadFailure what="the sync" error={error} refreshing />}
      <h3 className="section-title">Executions</h3>
      {executions.length === 0 ? (
        <p className="muted">No executions are recorded for this sync.</p>
      ) : (
        <ol className="executions" aria-label="Executions">
          {executions.map((execution) => (
            <ExecutionItem
              key={execution.name}
              api={api}
              jobId={job.id}
              execution={execution}
              open={open.has(execution.name)}
              onToggle={() => toggle(execution.name)}
            />
          ))}
        </ol>
      )}
    </div>
  );
}

const JOB_STATUS_TEXT: Record<JobWithExecutions['status'], string> = {
  PENDING: 'Pending',
  IN_PROGRESS: 'In progress',
  PAUSED: 'Paused',
  COMPLETED: 'Completed',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
};

function JobCounters({ job }: { job: JobWithExecutions }) {
  return (
    <dl className="details job-counters">
      <dt>Job</dt>
      <dd>
        <code>{job.id}</code>
      </dd>
      <dt>Status</dt>
      <dd data-testid="job-status">{JOB_STATUS_TEXT[job.status] ?? job.status}</dd>
      <dt>Phase</dt>
      <dd>{job.phase}</dd>
      <dt>Contacts</dt>
      <dd data-testid="job-counters">
        {job.syncedContacts.toLocaleString('en-US')} synced, {job.failedContacts.toLocaleString('en-US')}{' '}
        failed, {job.totalContacts.toLocaleString('en-US')} total
      </dd>
      <dt>Progress</dt>
      <dd>{percentText(job) ?? 'not known yet'}</dd>
    </dl>
  );
}

function ReadFailure({ what, error, refreshing }: { what: string; error: ReadError; refreshing?: boolean }) {
  if (refreshing && !error.final)
    return (
      <p className="notice notice-warning" role="status">
        Could not refresh {what} ({error.message}); retrying...
      </p>
    );
  return (
    <p className="notice notice-error" role="alert">
      Could not load {what}: {error.message}
    </p>
  );
}

const STATUS_TONE: Record<SyncExecution['status'], string> = {
  RUNNING: 'info',
  SUCCEEDED: 'success',
  FAILED: 'error',
  TIMED_OUT: 'error',
  ABORTED: 'muted',
  PENDING_REDRIVE: 'muted',
};

/** One execution: its name, status, times, duration and console link; opened, its summary. */
function ExecutionItem(props: {
  api: Api;
  jobId: string;
  execution: SyncExecution;
  open: boolean;
  onToggle: () => void;
}) {
  const regionId = useId();
  const { answer, error } = useExecutionSummary(props.api, props.jobId, props.execution.name, props.open);
  // The summary's read can be newer than the list's (it saw the execution end first).
  const execution =
    answer?.execution.stopDate && !props.execution.stopDate ? answer.execution : props.execution;
  const { name } = execution;
  return (
    <li className="execution" data-execution={name} data-status={execution.status}>
      <div className="execution-head">
        <button
          type="button"
          className="execution-toggle"
          aria-expanded={props.open}
          aria-controls={props.open ? regionId : undefined}
          onClick={props.onToggle}
        >
          {icon(props.open ? ChevronDown : ChevronRight)}
          <span className="execution-name">{name}</span>
        </button>
        <span className={`execution-status status-${STATUS_TONE[execution.status]}`}>
          {EXECUTION_STATUS_TEXT[execution.status] ?? execution.status}
        </span>
        <a className="execution-link" href={execution.consoleUrl} target="_blank" rel="noreferrer">
          {icon(ExternalLink)}
          Console view<span className="sr-only"> of {name}, in a new tab</span>
        </a>
      </div>
      <p className="execution-times muted">
        Started <time dateTime={execution.startDate}>{timeText(execution.startDate)}</time>
        {execution.stopDate && (
          <>
            {' · '}stopped <time dateTime={execution.stopDate}>{timeText(execution.stopDate)}</time>
          </>
        )}
        {' · '}
        <span data-testid="execution-duration">{executionDuration(execution)}</span>
      </p>
      {props.open && (
        <section id={regionId} className="execution-summary" aria-label={`Summary of ${name}`}>
          {answer ? (
            <>
              {error && <ReadFailure what="the summary" error={error} refreshing />}
              <SummaryView name={name} summary={answer.summary} stale={answer.stale} />
            </>
          ) : error ? (
            <ReadFailure what="the summary" error={error} />
          ) : (
            <p className="muted" role="status">
              Reading the execution's history...
            </p>
          )}
        </section>
      )}
    </li>
  );
}

function SummaryView({ name, summary, stale }: { name: string; summary: ExecutionSummary; stale: boolean }) {
  return (
    <>
      <dl className="details">
        <dt>Outcome</dt>
        <dd data-testid="execution-end">{endText(summary)}</dd>
        {summary.map && (
          <>
            <dt>Workers</dt>
            <dd data-testid="execution-map">{mapText(summary.map)}</dd>
          </>
        )}
        <dt>History</dt>
        <dd>
          {plural(summary.eventCount, 'event')}, read{' '}
          <time dateTime={summary.readAt}>{timeText(summary.readAt)}</time>
        </dd>
      </dl>
      {stale && (
        <p className="muted stale-note" data-testid="stale-note">
          Step Functions is busy: this is the history as last read. It is read again, less often, until Step
          Functions answers.
        </p>
      )}
      {summary.states.length > 0 && (
        <div className="table-scroll">
          <table className="states" aria-label={`States of ${name}`}>
            <thead>
              <tr>
                <th scope="col">State</th>
                <th scope="col">Type</th>
                <th scope="col">Entered</th>
                <th scope="col">Exited</th>
                <th scope="col">First entered</th>
                <th scope="col">Total time</th>
                <th scope="col">Retries</th>
                <th scope="col">Caught</th>
                <th scope="col">Failed</th>
                <th scope="col">Errors</th>
              </tr>
            </thead>
            <tbody>
              {summary.states.map((state) => (
                <tr key={state.name} data-state={state.name}>
                  <th scope="row">{state.name}</th>
                  <td>{state.type}</td>
                  <td className="num">{state.entered.toLocaleString('en-US')}</td>
                  <td className="num">{state.exited.toLocaleString('en-US')}</td>
                  <td>
                    <time dateTime={state.firstEnteredAt}>{timeText(state.firstEnteredAt)}</time>
                  </td>
                  <td className="num">{durationText(state.totalMs)}</td>
                  <td className="num">{state.retries.toLocaleString('en-US')}</td>
                  <td className="num">{state.caught.toLocaleString('en-US')}</td>
                  <td className="num">{state.failed.toLocaleString('en-US')}</td>
                  <td>{state.errors.length ? state.errors.join(', ') : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
