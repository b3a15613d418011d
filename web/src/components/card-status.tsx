import { CircleCheck, Info, LoaderCircle, Pause, RefreshCw, TriangleAlert } from 'lucide-react';
import type { ReactNode } from 'react';
import type { CardView } from '../card-view.ts';
import { completedText, isUpToDate, runningText, syncedText } from '../sync-text.ts';
import type { SyncJob } from '../types.ts';
import { useFormSubmit } from '../use-form-submit.ts';
import { icon } from './icon.tsx';
import { SyncProgress } from './sync-progress.tsx';

/** A line of the card's status: an icon, the words, and a muted detail after them. */
function StatusLine(props: { tone?: string; icon: ReactNode; text: string; detail?: string }) {
  return (
    <p className={props.tone ? `status-line status-${props.tone}` : 'status-line'}>
      {props.icon}
      {props.text}
      {props.detail && <span className="muted">{props.detail}</span>}
    </p>
  );
}

/** What a request in flight, or the active sync, shows above the actions (with its progress). */
export function CardStatus({ view, active }: { view: CardView; active: SyncJob | null }) {
  const line = statusOf(view, active);
  if (!line) return null;
  return (
    <div className="card-status">
      <StatusLine icon={line.icon} text={line.text} detail={line.detail} />
      {line.progress && <SyncProgress job={line.progress} pageName={view.page.pageName} />}
    </div>
  );
}

function statusOf(
  { phase, startingFull }: CardView,
  active: SyncJob | null,
): { icon: ReactNode; text: string; detail?: string; progress?: SyncJob } | null {
  if (phase === 'starting')
    return {
      icon: icon(RefreshCw, true),
      text: startingFull ? 'Starting full re-sync...' : 'Starting sync...',
    };
  if (phase === 'stopping') return { icon: icon(LoaderCircle, true), text: 'Stopping sync...' };
  if (!active || phase === 'idle') return null;
  if (phase === 'syncing') {
    const failed = active.failedContacts > 0 ? ` (${active.failedContacts} failed)` : undefined;
    return { icon: icon(RefreshCw, true), text: runningText(active), detail: failed, progress: active };
  }
  const soFar = ` · ${syncedText(active)} so far`;
  if (phase === 'pausing')
    return { icon: icon(LoaderCircle, true), text: 'Pausing sync...', detail: soFar, progress: active };
  return { icon: icon(Pause), text: 'Sync paused', detail: soFar, progress: active };
}

/** The last sync's outcome, once the page is idle again. */
export function CardOutcome({ job }: { job: SyncJob }) {
  return <StatusLine {...outcomeOf(job)} />;
}

function outcomeOf(job: SyncJob): Parameters<typeof StatusLine>[0] {
  if (job.status === 'CANCELLED') {
    const detail = ` · ${syncedText(job)} before the stop`;
    return { tone: 'info', icon: icon(Info), text: 'Sync cancelled', detail };
  }
  if (isUpToDate(job)) return { tone: 'success', icon: icon(CircleCheck), text: 'Up to date' };
  if (job.status === 'COMPLETED') {
    const detail = ` · ${completedText(job)}`;
    return { tone: 'success', icon: icon(CircleCheck), text: 'Sync completed', detail };
  }
  const text = `Sync failed: ${job.error ?? 'unknown error'}`;
  return { tone: 'error', icon: icon(TriangleAlert), text, detail: ` · ${syncedText(job)}` };
}

/** A FAILED sync whose error asks to reconnect the page: Facebook refused its token or a permission. */
export const asksToReconnect = (job: SyncJob): boolean =>
  job.status === 'FAILED' && /reconnect the page/i.test(job.error ?? '');

/**
 * A new page access token for a page whose sync failed asking to reconnect it: the API checks it
 * with Facebook and keeps the page's contacts and history. The token is never shown again.
 */
export function ReplaceTokenForm(props: {
  pageName: string;
  onReplace: (accessToken: string) => Promise<void>;
}) {
  const { error, busy, submit } = useFormSubmit((field) => props.onReplace(field('accessToken')));

  return (
    <form className="connect-form replace-token" onSubmit={submit}>
      <label>
        New page access token<span className="sr-only"> for {props.pageName}</span>
        <input name="accessToken" required type="password" autoComplete="off" />
      </label>
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="button" aria-disabled={busy || undefined}>
        {busy ? 'Reconnecting...' : 'Reconnect the page'}
      </button>
    </form>
  );
}
