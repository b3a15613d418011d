import { isActive, isPaused } from '#shared/job-status.ts';
import type { PendingAction } from './pending-action.ts';
import type { ConnectedPage, SyncJob } from './types.ts';

/** What a page's card shows: the page at rest, a request of this tab in flight, or its active sync. */
export type CardPhase = 'idle' | 'starting' | 'syncing' | 'stopping' | 'paused' | 'pausing' | 'resuming';

export interface CardView {
  page: ConnectedPage;
  phase: CardPhase;
  /** The active (running or paused) job while there is one, else the page's last job (the outcome to show). */
  job: SyncJob | null;
  /** While starting: the user asked for a full re-sync. */
  startingFull?: boolean;
}

/** The phase a request in flight gives its page, whatever the page's job says meanwhile. */
const PENDING_PHASE: Record<PendingAction, CardPhase> = {
  sync: 'starting',
  full: 'starting',
  stop: 'stopping',
  pause: 'pausing',
  resume: 'resuming',
};

function phaseOf(active: SyncJob | null, pending: PendingAction | undefined): CardPhase {
  if (pending) return PENDING_PHASE[pending];
  if (!active) return 'idle';
  return isPaused(active) ? 'paused' : 'syncing';
}

/** A page as its card shows it, given the request this tab has in flight for it (if any). */
export function cardView(page: ConnectedPage, pending?: PendingAction): CardView {
  const active = isActive(page.activeJob) ? page.activeJob : null;
  const phase = phaseOf(active, pending);
  return {
    page,
    phase,
    job: active ?? page.lastJob,
    ...(pending === 'full' ? { startingFull: true } : {}),
  };
}

/** What changes while a sync runs; a poll that sees the same signature backs off. */
export const pagesSignature = (pages: ConnectedPage[] | null) =>
  JSON.stringify(
    pages?.map((p) => [
      p.id,
      p.contactCount,
      p.activeJob?.status,
      p.activeJob?.syncedContacts,
      p.activeJob?.progress,
      p.activeJob?.progressEstimated,
      p.activeJob?.totalContacts,
    ]),
  );
