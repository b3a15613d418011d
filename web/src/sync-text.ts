import { isRunning } from '#shared/job-status.ts';
import type { CardView } from './card-view.ts';
import type { ConnectedPage, SyncJob } from './types.ts';

/**
 * The words the console shows for a sync, kept apart from the components (no React, no DOM) so
 * that every text can be checked on its own. A job without `mode` or `progressEstimated` (an API
 * that does not send them) reads as a full sync with an exact progress.
 */

export const plural = (n: number, word: string) =>
  `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

const failedSuffix = (job: SyncJob) => (job.failedContacts ? `, ${job.failedContacts} failed` : '');

export const syncedText = (job: SyncJob) =>
  `${plural(job.syncedContacts, 'contact')} synced${failedSuffix(job)}`;

export const isIncremental = (job: SyncJob) => job.mode === 'incremental';

/** A progress that is only an estimate (from the page's last complete count). */
export const isEstimated = (job: SyncJob) => job.progress !== null && job.progressEstimated === true;

/** The percentage as shown beside the bar: "40%" when exact, "about 40 %" when estimated, null when unknown. */
export function percentText(job: SyncJob): string | null {
  if (job.progress === null) return null;
  return isEstimated(job) ? `about ${job.progress} %` : `${job.progress}%`;
}

/**
 * An incremental sync that has neither synced a contact nor counted the changed conversations yet
 * (a total that is only an estimate is not a count).
 */
export const isCheckingForChanges = (job: SyncJob) =>
  isIncremental(job) &&
  isRunning(job) &&
  job.syncedContacts === 0 &&
  job.failedContacts === 0 &&
  (job.totalContacts === 0 || isEstimated(job));

/** An incremental sync that completed with nothing to write. */
export const isUpToDate = (job: SyncJob) =>
  isIncremental(job) && job.status === 'COMPLETED' && job.syncedContacts === 0 && job.failedContacts === 0;

/** The status line of a running sync. */
export function runningText(job: SyncJob): string {
  if (isCheckingForChanges(job)) return 'Checking for changes...';
  if (job.status === 'PENDING') return 'Starting sync...';
  return `Synced ${job.syncedContacts.toLocaleString('en-US')} contacts...`;
}

/**
 * What a completed sync did: "Up to date" or "N updated" for an incremental re-sync, "N contacts
 * synced" for a full one; failures are added to either ("12 updated, 2 failed").
 */
export function completedText(job: SyncJob): string {
  if (!isIncremental(job)) return syncedText(job);
  if (isUpToDate(job)) return 'Up to date';
  return `${job.syncedContacts.toLocaleString('en-US')} updated${failedSuffix(job)}`;
}

/**
 * Whether the page was synced before, so that a full re-sync means something: it has contacts,
 * or its last sync completed, or its last sync was itself a re-sync.
 */
export const syncedBefore = (page: Pick<ConnectedPage, 'contactCount' | 'lastJob'>) =>
  page.contactCount > 0 || page.lastJob?.status === 'COMPLETED' || page.lastJob?.mode === 'incremental';

/**
 * What the polite live region says: the state, and while syncing the progress in steps of 10 %,
 * so a screen reader hears the sync move without hearing every poll.
 */
export function announcement(
  view: Omit<CardView, 'page'> & { page: Pick<ConnectedPage, 'pageName' | 'contactCount'> },
): string {
  const { page, phase, job } = view;
  const name = page.pageName;
  if (phase === 'starting')
    return view.startingFull ? `Starting a full re-sync of ${name}` : `Starting a sync of ${name}`;
  if (phase === 'stopping') return `Stopping the sync of ${name}`;
  if (phase === 'pausing') return `Pausing the sync of ${name}`;
  if (phase === 'resuming') return `Resuming the sync of ${name}`;
  if (phase === 'paused' && job) return `Sync paused for ${name}. ${syncedText(job)} so far.`;
  if (phase === 'syncing' && job) {
    if (isCheckingForChanges(job)) return `Checking ${name} for changes`;
    if (job.progress === null) return `Syncing ${name}: counting conversations`;
    const step = Math.floor(job.progress / 10) * 10;
    return isEstimated(job) ? `Syncing ${name}: about ${step} % done` : `Syncing ${name}: ${step}% done`;
  }
  if (!job) return '';
  if (job.status === 'CANCELLED')
    return `Sync cancelled for ${name}. ${plural(page.contactCount, 'contact')}.`;
  if (job.status === 'COMPLETED') return `Sync completed for ${name}. ${completedText(job)}.`;
  if (job.status === 'FAILED') return `Sync failed for ${name}: ${job.error ?? 'unknown error'}`;
  return '';
}

/** What a toast says when a sync ends: its tone, its title, and the detail under it. */
export interface Notice {
  tone: 'success' | 'error';
  title: string;
  description?: string;
}

/** The toast for a sync seen ending (null for a job that has not ended). */
export function outcomeNotice(job: SyncJob, pageName: string): Notice | null {
  if (job.status === 'CANCELLED') return { tone: 'success', title: `Sync cancelled for ${pageName}` };
  if (job.status === 'COMPLETED')
    return { tone: 'success', title: `Sync completed for ${pageName}`, description: completedText(job) };
  if (job.status === 'FAILED')
    return { tone: 'error', title: `Sync failed for ${pageName}`, description: job.error ?? 'Unknown error' };
  return null;
}

/** An error's message, for a toast's detail or a form's alert. */
export const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));
