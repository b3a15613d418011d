import { CircleCheck, Info, LoaderCircle, Pause, RefreshCw, TriangleAlert } from 'lucide-react';
import type { ReactNode } from 'react';
import type { CardView } from '../card-view.ts';
import { completedText, isUpToDate, runningText, syncedText } from '../sync-text.ts';
import type { SyncJob } from '../types.ts';
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
