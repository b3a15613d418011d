import {
  ListTree,
  LoaderCircle,
  type LucideIcon,
  Pause,
  Play,
  RefreshCcw,
  RefreshCw,
  RotateCcw,
  Settings,
  Unplug,
  XCircle,
} from 'lucide-react';
import { type ReactNode, type Ref, type RefObject, useId, useLayoutEffect, useRef } from 'react';
import { isActive, isRetryable } from '#shared/job-status.ts';
import type { CardPhase, CardView } from '../card-view.ts';
import { baselineOf } from '../preferences.ts';
import { announcement, plural, syncedBefore } from '../sync-text.ts';
import type { SyncJob } from '../types.ts';
import { asksToReconnect, CardOutcome, CardStatus, ReplaceTokenForm } from './card-status.tsx';
import { icon } from './icon.tsx';

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
 *
 * Details opens the execution view of the active sync, or of the last one.
 */
export function PageCard(props: {
  view: CardView;
  onSync: () => void;
  onFullSync: () => void;
  onStop: (job: SyncJob) => void;
  onPause: (job: SyncJob) => void;
  onResume: (job: SyncJob) => void;
  onRetry: (job: SyncJob) => void;
  onSettings: () => void;
  onDisconnect: () => void;
  /** Opens the execution view of the card's active or last sync. */
  onDetails?: (job: SyncJob) => void;
  /** Replaces the page's token; offered after a sync failed asking to reconnect the page. */
  onReplaceToken?: (accessToken: string) => Promise<void>;
}) {
  const { page, phase, job, startingFull } = props.view;
  const nameId = useId();
  const primaryRef = useRef<HTMLButtonElement>(null);
  const active = isActive(job) ? job : null;
  const outcome = phase === 'idle' && job && !active ? job : null;
  const baseline = outcome ? baselineOf(outcome.id) : null;
  const clicks = clicksOf(phase, active, props);
  const secondary = SECONDARY[phase];
  const name = ` ${page.pageName}`;

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

      <CardStatus view={props.view} active={active} />
      {outcome && <CardOutcome job={outcome} />}
      {outcome && asksToReconnect(outcome) && props.onReplaceToken && (
        <ReplaceTokenForm pageName={page.pageName} onReplace={props.onReplaceToken} />
      )}

      <div className="card-actions">
        <CardButton look={SETTINGS} hidden={` for ${page.pageName}`} onClick={props.onSettings} />
        <CardButton
          ref={primaryRef}
          look={PRIMARY[phase]}
          hidden={name}
          action="primary"
          waiting={!clicks.primary}
          onClick={clicks.primary}
        />
        {secondary && (
          <CardButton
            look={secondary}
            hidden={name}
            action="secondary"
            waiting={!clicks.secondary}
            onClick={clicks.secondary}
          />
        )}
        {(phase === 'idle' || phase === 'starting') && syncedBefore(page) && (
          <FullResyncButton
            look={startingFull ? FULL_RESYNC_SPINNING : FULL_RESYNC}
            hidden={name}
            waiting={phase === 'starting'}
            focusOnLeave={primaryRef}
            onClick={props.onFullSync}
          />
        )}
        {outcome && isRetryable(outcome) && (
          <CardButton look={RETRY} hidden={name} action="retry" onClick={() => props.onRetry(outcome)} />
        )}
        {job && props.onDetails && (
          <CardButton
            look={DETAILS}
            hidden={` of the sync of ${page.pageName}`}
            action="details"
            onClick={() => props.onDetails?.(job)}
          />
        )}
        <CardButton look={DISCONNECT} hidden={name} onClick={props.onDisconnect} />
      </div>

      <p className="sr-only" role="status" aria-live="polite" aria-atomic="true">
        {announcement(props.view)}
      </p>
    </li>
  );
}

/**
 * What the main action and the one beside it do in a phase that takes a click: Sync when idle,
 * Stop Sync and Pause while syncing, Resume and Stop Sync while paused. Otherwise they wait.
 */
function clicksOf(
  phase: CardPhase,
  active: SyncJob | null,
  props: Pick<Parameters<typeof PageCard>[0], 'onSync' | 'onStop' | 'onPause' | 'onResume'>,
): { primary?: () => void; secondary?: () => void } {
  if (phase === 'idle') return { primary: props.onSync };
  if (!active) return {};
  if (phase === 'syncing')
    return { primary: () => props.onStop(active), secondary: () => props.onPause(active) };
  if (phase === 'paused')
    return { primary: () => props.onResume(active), secondary: () => props.onStop(active) };
  return {};
}

interface ButtonLook {
  label: string;
  icon: ReactNode;
  className: string;
}

const look = (label: string, Icon: LucideIcon, className: string, spinning = false): ButtonLook => ({
  label,
  icon: icon(Icon, spinning),
  className,
});

const PLAIN = 'button';
const DESTRUCTIVE = 'button button-destructive';
const GHOST = 'button button-ghost';
const STOP_SYNC = look('Stop Sync', XCircle, DESTRUCTIVE);
const STOP_SYNC_BESIDE = look('Stop Sync', XCircle, `${GHOST} button-ghost-destructive`);

/** The main action in each phase. */
const PRIMARY: Record<CardPhase, ButtonLook> = {
  idle: look('Sync', RefreshCw, PLAIN),
  starting: look('Starting...', RefreshCw, PLAIN, true),
  syncing: STOP_SYNC,
  stopping: look('Stopping...', LoaderCircle, DESTRUCTIVE, true),
  pausing: STOP_SYNC,
  paused: look('Resume', Play, PLAIN),
  resuming: look('Resuming...', LoaderCircle, PLAIN, true),
};

/** Beside the main action: Pause while syncing, Stop Sync while paused. */
const SECONDARY: Partial<Record<CardPhase, ButtonLook>> = {
  syncing: look('Pause', Pause, GHOST),
  pausing: look('Pausing...', Pause, GHOST, true),
  paused: STOP_SYNC_BESIDE,
  resuming: STOP_SYNC_BESIDE,
};

const SETTINGS = look('Settings', Settings, GHOST);
const FULL_RESYNC = look('Full re-sync', RefreshCcw, GHOST);
const FULL_RESYNC_SPINNING = look('Full re-sync', RefreshCcw, GHOST, true);
const RETRY = look('Retry', RotateCcw, GHOST);
const DETAILS = look('Details', ListTree, GHOST);
const DISCONNECT = look('Disconnect', Unplug, GHOST);

/**
 * A card's button: its icon, its label, and the page's name for screen readers ("Sync My Page").
 * While it waits for a request it is aria-disabled and takes no click.
 */
function CardButton(props: {
  look: ButtonLook;
  /** Read after the label by screen readers only. */
  hidden: string;
  action?: string;
  waiting?: boolean;
  onClick?: () => void;
  title?: string;
  ref?: Ref<HTMLButtonElement>;
}) {
  const { look, waiting } = props;
  return (
    <button
      ref={props.ref}
      type="button"
      className={look.className}
      aria-disabled={waiting || undefined}
      data-action={props.action}
      title={props.title}
      onClick={waiting ? undefined : props.onClick}
    >
      {look.icon}
      <span data-label>{look.label}</span>
      <span className="sr-only">{props.hidden}</span>
    </button>
  );
}

/**
 * The secondary "Full re-sync" action. It leaves the card once a sync runs; the focus it holds then
 * goes to the main action rather than to the page (the cleanup runs before the button is removed).
 */
function FullResyncButton(
  props: Omit<Parameters<typeof CardButton>[0], 'ref' | 'action' | 'title'> & {
    focusOnLeave: RefObject<HTMLButtonElement | null>;
  },
) {
  const ref = useRef<HTMLButtonElement>(null);
  const { focusOnLeave, ...button } = props;
  useLayoutEffect(() => {
    const element = ref.current;
    return () => {
      if (element && document.activeElement === element) focusOnLeave.current?.focus();
    };
  }, [focusOnLeave]);
  return (
    <CardButton
      {...button}
      ref={ref}
      action="full-resync"
      title="Re-read every conversation, not only those changed since the last sync"
    />
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
