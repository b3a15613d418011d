import {
  CircleCheck,
  Info,
  LoaderCircle,
  Pause,
  Play,
  RefreshCcw,
  RefreshCw,
  RotateCcw,
  Settings,
  TriangleAlert,
  Unplug,
  XCircle,
} from 'lucide-react';
import { type RefObject, useId, useLayoutEffect, useRef } from 'react';
import { baselineOf } from '../preferences.ts';
import {
  announcement,
  completedText,
  isUpToDate,
  plural,
  runningText,
  syncedBefore,
  syncedText,
} from '../sync-text.ts';
import { isActive, isPaused, isRetryable, type SyncJob } from '../types.ts';
import type { PageView } from '../use-connected-pages.ts';
import { SyncProgress } from './sync-progress.tsx';

/**
 * One connected page, in its four states: Idle (Sync), Syncing ("Synced N contacts...",
 * progress, Stop Sync), Stopping (disabled "Stopping..." until the API answers) and the outcome of
 * the last sync (cancelled with the gain, completed, failed with its error).
 *
 * The main action is one <button> whose label, icon and handler change with the state, so the
 * focus stays on it when Sync becomes Stop Sync and back; while it waits it is aria-disabled
 * (not `disabled`, which would drop the focus).
 *
 * Pause and resume: a running sync also shows Pause; a paused one shows Resume as its
 * main action (the same button, so the focus stays) and Stop Sync beside it, since a paused sync
 * can still be cancelled. A failed or cancelled sync shows Retry, which continues from where it
 * stopped in a new sync.
 *
 * Re-syncs: once the page was synced before, Sync reads only what changed since the last
 * completed sync ("Checking for changes...", then "Up to date" or "N updated"), and a secondary
 * "Full re-sync" re-reads every conversation. It waits (aria-disabled) while a start is in flight
 * and goes once the sync runs; if it had the focus, the focus moves to the main action (Stop Sync).
 */
export function PageCard(props: {
  view: PageView;
  onSync: () => void;
  onFullSync: () => void;
  onStop: (job: SyncJob) => void;
  onPause: (job: SyncJob) => void;
  onResume: (job: SyncJob) => void;
  onRetry: (job: SyncJob) => void;
  onSettings: () => void;
  onDisconnect: () => void;
}) {
  const { page, phase, job, startingFull } = props.view;
  const nameId = useId();
  const primaryRef = useRef<HTMLButtonElement>(null);
  const busy = phase === 'starting' || phase === 'stopping' || phase === 'pausing' || phase === 'resuming';
  const active = isActive(job) ? job : null;
  const paused = isPaused(job) ? job : null;
  const outcome = phase === 'idle' && job && !isActive(job) && !paused ? job : null;
  const baseline = outcome ? baselineOf(outcome.id) : null;

  const primary = {
    idle: { label: 'Sync', icon: <RefreshCw aria-hidden className="icon" />, className: 'button' },
    starting: {
      label: 'Starting...',
      icon: <RefreshCw aria-hidden className="icon spin" />,
      className: 'button',
    },
    syncing: {
      label: 'Stop Sync',
      icon: <XCircle aria-hidden className="icon" />,
      className: 'button button-destructive',
    },
    stopping: {
      label: 'Stopping...',
      icon: <LoaderCircle aria-hidden className="icon spin" />,
      className: 'button button-destructive',
    },
    pausing: {
      label: 'Stop Sync',
      icon: <XCircle aria-hidden className="icon" />,
      className: 'button button-destructive',
    },
    paused: { label: 'Resume', icon: <Play aria-hidden className="icon" />, className: 'button' },
    resuming: {
      label: 'Resuming...',
      icon: <LoaderCircle aria-hidden className="icon spin" />,
      className: 'button',
    },
  }[phase];

  const onPrimary = () => {
    if (phase === 'idle') props.onSync();
    else if (phase === 'syncing' && active) props.onStop(active);
    else if (phase === 'paused' && paused) props.onResume(paused);
  };
  /** Beside the main action: Pause while syncing, Stop Sync while paused. */
  const secondary =
    phase === 'syncing' || phase === 'pausing'
      ? {
          label: phase === 'pausing' ? 'Pausing...' : 'Pause',
          icon: <Pause aria-hidden className={phase === 'pausing' ? 'icon spin' : 'icon'} />,
          className: 'button button-ghost',
          onClick: phase === 'syncing' && active ? () => props.onPause(active) : undefined,
        }
      : phase === 'paused' || phase === 'resuming'
        ? {
            label: 'Stop Sync',
            icon: <XCircle aria-hidden className="icon" />,
            className: 'button button-ghost button-ghost-destructive',
            onClick: phase === 'paused' && paused ? () => props.onStop(paused) : undefined,
          }
        : null;

  return (
    <li
      className="card"
      aria-labelledby={nameId}
      data-page-id={page.id}
      data-state={outcome?.status ?? phase}
    >
      <div className="card-head">
        <FacebookMark />
        <h2 id={nameId} className="card-title">
          {page.pageName}
        </h2>
      </div>
      <p className="card-count" data-testid="contact-count">
        {plural(page.contactCount, 'contact')}
        {baseline !== null &&
          ` (was ${baseline.toLocaleString('en-US')}, gained ${(page.contactCount - baseline).toLocaleString('en-US')})`}
      </p>

      {phase === 'syncing' && active && (
        <div className="card-status">
          <p className="status-line">
            <RefreshCw aria-hidden className="icon spin" />
            {runningText(active)}
            {active.failedContacts > 0 && <span className="muted"> ({active.failedContacts} failed)</span>}
          </p>
          <SyncProgress job={active} pageName={page.pageName} />
        </div>
      )}
      {(phase === 'paused' || phase === 'resuming' || phase === 'pausing') && (paused ?? active) && (
        <div className="card-status">
          <p className="status-line">
            {phase === 'pausing' ? (
              <LoaderCircle aria-hidden className="icon spin" />
            ) : (
              <Pause aria-hidden className="icon" />
            )}
            {phase === 'pausing' ? 'Pausing sync...' : 'Sync paused'}
            <span className="muted"> · {syncedText((paused ?? active) as SyncJob)} so far</span>
          </p>
          <SyncProgress job={(paused ?? active) as SyncJob} pageName={page.pageName} />
        </div>
      )}
      {phase === 'stopping' && (
        <div className="card-status">
          <p className="status-line">
            <LoaderCircle aria-hidden className="icon spin" />
            Stopping sync...
          </p>
        </div>
      )}
      {phase === 'starting' && (
        <div className="card-status">
          <p className="status-line">
            <RefreshCw aria-hidden className="icon spin" />
            {startingFull ? 'Starting full re-sync...' : 'Starting sync...'}
          </p>
        </div>
      )}
      {outcome && <Outcome job={outcome} />}

      <div className="card-actions">
        <button type="button" className="button button-ghost" onClick={props.onSettings}>
          <Settings aria-hidden className="icon" />
          Settings<span className="sr-only"> for {page.pageName}</span>
        </button>
        <button
          type="button"
          ref={primaryRef}
          className={primary.className}
          aria-disabled={busy || undefined}
          data-action="primary"
          onClick={busy ? undefined : onPrimary}
        >
          {primary.icon}
          <span data-label>{primary.label}</span>
          <span className="sr-only"> {page.pageName}</span>
        </button>
        {secondary && (
          <button
            type="button"
            className={secondary.className}
            aria-disabled={secondary.onClick ? undefined : true}
            data-action="secondary"
            onClick={secondary.onClick}
          >
            {secondary.icon}
            <span data-label>{secondary.label}</span>
            <span className="sr-only"> {page.pageName}</span>
          </button>
        )}
        {(phase === 'idle' || phase === 'starting') && syncedBefore(page) && (
          <FullResyncButton
            pageName={page.pageName}
            busy={busy}
            spinning={!!startingFull}
            focusOnLeave={primaryRef}
            onClick={props.onFullSync}
          />
        )}
        {outcome && isRetryable(outcome) && (
          <button
            type="button"
            className="button button-ghost"
            data-action="retry"
            onClick={() => props.onRetry(outcome)}
          >
            <RotateCcw aria-hidden className="icon" />
            Retry<span className="sr-only"> {page.pageName}</span>
          </button>
        )}
        <button type="button" className="button button-ghost" onClick={props.onDisconnect}>
          <Unplug aria-hidden className="icon" />
          Disconnect<span className="sr-only"> {page.pageName}</span>
        </button>
      </div>

      <p className="sr-only" role="status" aria-live="polite" aria-atomic="true">
        {announcement(props.view)}
      </p>
    </li>
  );
}

/**
 * The secondary "Full re-sync" action. It leaves the card once a sync runs; the focus it holds then
 * goes to the main action rather than to the page (the cleanup runs before the button is removed).
 */
function FullResyncButton(props: {
  pageName: string;
  busy: boolean;
  spinning: boolean;
  focusOnLeave: RefObject<HTMLButtonElement | null>;
  onClick: () => void;
}) {
  const ref = useRef<HTMLButtonElement>(null);
  const { focusOnLeave } = props;
  useLayoutEffect(() => {
    const button = ref.current;
    return () => {
      if (button && document.activeElement === button) focusOnLeave.current?.focus();
    };
  }, [focusOnLeave]);
  return (
    <button
      ref={ref}
      type="button"
      className="button button-ghost"
      aria-disabled={props.busy || undefined}
      data-action="full-resync"
      title="Re-read every conversation, not only those changed since the last sync"
      onClick={props.busy ? undefined : props.onClick}
    >
      <RefreshCcw aria-hidden className={props.spinning ? 'icon spin' : 'icon'} />
      <span data-label>Full re-sync</span>
      <span className="sr-only"> {props.pageName}</span>
    </button>
  );
}

function Outcome({ job }: { job: SyncJob }) {
  if (job.status === 'CANCELLED')
    return (
      <p className="status-line status-info">
        <Info aria-hidden className="icon" />
        Sync cancelled
        <span className="muted"> · {syncedText(job)} before the stop</span>
      </p>
    );
  if (isUpToDate(job))
    return (
      <p className="status-line status-success">
        <CircleCheck aria-hidden className="icon" />
        Up to date
      </p>
    );
  if (job.status === 'COMPLETED')
    return (
      <p className="status-line status-success">
        <CircleCheck aria-hidden className="icon" />
        Sync completed
        <span className="muted"> · {completedText(job)}</span>
      </p>
    );
  return (
    <p className="status-line status-error">
      <TriangleAlert aria-hidden className="icon" />
      Sync failed: {job.error ?? 'unknown error'}
      <span className="muted"> · {syncedText(job)}</span>
    </p>
  );
}

function FacebookMark() {
  return (
    <svg className="page-mark" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <circle cx="12" cy="12" r="12" fill="#1877f2" />
      <path
        fill="#fff"
        d="M13.4 19.5v-6h2l.3-2.4h-2.3V9.6c0-.7.2-1.2 1.2-1.2h1.2V6.3c-.2 0-1-.1-1.8-.1-1.8 0-3 1.1-3 3.1v1.8H9v2.4h2v6h2.4z"
      />
    </svg>
  );
}
