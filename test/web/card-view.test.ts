import { describe, expect, it } from 'vitest';
import { cardView, pagesSignature } from '../../web/src/card-view.ts';
import { keepsPolling, type PendingAction } from '../../web/src/pending-action.ts';
import { connectedPage, syncJob } from './fixtures.ts';

/**
 * A page as its card shows it: the phase comes from the request this tab has in flight for the
 * page if there is one, else from the page's active job; the job shown is the active one
 * (running or paused), else the outcome of the last one.
 */
const last = syncJob({ id: 'job-last', status: 'CANCELLED', syncedContacts: 7 });
const running = syncJob({ id: 'job-running', syncedContacts: 3 });
const paused = syncJob({ id: 'job-paused', status: 'PAUSED', syncedContacts: 3 });
const page = (activeJob: typeof running | null) => connectedPage('p1', 'Shop', { activeJob, lastJob: last });

describe('a page as its card shows it', () => {
  it('is idle with the last outcome, syncing or paused with its active job', () => {
    expect(cardView(page(null))).toEqual({ page: page(null), phase: 'idle', job: last });
    expect(cardView(page(running))).toMatchObject({ phase: 'syncing', job: running });
    expect(cardView(page(syncJob({ status: 'PENDING' })))).toMatchObject({ phase: 'syncing' });
    expect(cardView(page(paused))).toMatchObject({ phase: 'paused', job: paused });
    // An active job slot holding an ended job (a list read mid-completion) shows the last outcome.
    expect(cardView(page(syncJob({ status: 'COMPLETED' })))).toMatchObject({ phase: 'idle', job: last });
  });

  it('shows the request in flight, whatever the job says meanwhile', () => {
    const phases: [PendingAction, string][] = [
      ['sync', 'starting'],
      ['full', 'starting'],
      ['stop', 'stopping'],
      ['pause', 'pausing'],
      ['resume', 'resuming'],
    ];
    for (const [action, phase] of phases) {
      expect(cardView(page(null), action).phase).toBe(phase);
      expect(cardView(page(running), action).phase).toBe(phase);
      expect(cardView(page(paused), action).phase).toBe(phase);
    }
    expect(cardView(page(running), 'pause').job).toBe(running);
  });

  it('marks a start in flight as a full re-sync only when one was asked for', () => {
    expect(cardView(page(null), 'full').startingFull).toBe(true);
    expect(cardView(page(null), 'sync')).not.toHaveProperty('startingFull');
    expect(cardView(page(running))).not.toHaveProperty('startingFull');
  });
});

describe('what keeps the polling going', () => {
  it('is a stop, a pause or a resume in flight; a start has no job to watch yet', () => {
    expect((['stop', 'pause', 'resume'] as const).every(keepsPolling)).toBe(true);
    expect((['sync', 'full'] as const).some(keepsPolling)).toBe(false);
  });

  it('sees a change in the counters, the status, the progress or the page count, and nothing else', () => {
    const before = pagesSignature([page(running)]);
    expect(pagesSignature([page(running)])).toBe(before);
    expect(pagesSignature([page({ ...running, phase: 'finalizing' })])).toBe(before);
    for (const change of [
      { syncedContacts: 4 },
      { status: 'PAUSED' as const },
      { progress: 10 },
      { progressEstimated: true },
      { totalContacts: 40 },
    ])
      expect(pagesSignature([page({ ...running, ...change })])).not.toBe(before);
    expect(pagesSignature([{ ...page(running), contactCount: 1 }])).not.toBe(before);
    expect(pagesSignature([])).not.toBe(before);
    expect(pagesSignature(null)).not.toBe(pagesSignature([]));
  });
});
