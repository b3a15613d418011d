import { describe, expect, it } from 'vitest';
import {
  announcement,
  completedText,
  errorMessage,
  isCheckingForChanges,
  outcomeNotice,
  percentText,
  runningText,
  syncedBefore,
  syncedText,
} from '../../web/src/sync-text.ts';
import type { SyncJob } from '../../web/src/types.ts';
import { syncJob } from './fixtures.ts';

/**
 * The console's words for a sync, for every combination of mode and progress the API sends: the
 * job objects are built as the API answers them (route `listPages`), with
 * `progressEstimated`, `mode` and `since`, and without them (an API that does not send them yet).
 */
const incremental = (over: Partial<SyncJob> = {}) =>
  syncJob({ mode: 'incremental', since: '2024-12-31T09:00:00.000Z', ...over });
const page = { pageName: 'Shop', contactCount: 120 };

describe('the progress beside the bar', () => {
  it('is "N%" when exact, "about N %" when estimated, and nothing while unknown', () => {
    expect(percentText(syncJob({ progress: 40 }))).toBe('40%');
    expect(percentText(syncJob({ progress: 40, progressEstimated: true }))).toBe('about 40 %');
    expect(percentText(syncJob({ progress: null }))).toBeNull();
    // An estimate with no number is still unknown: "Counting..." stays.
    expect(percentText(syncJob({ progress: null, progressEstimated: true }))).toBeNull();
  });

  it('reads as exact when the API does not say whether it is estimated', () => {
    const { progressEstimated: _, mode: __, since: ___, ...fields } = syncJob({ progress: 55 });
    const older = fields as SyncJob; // as an API without these fields answers
    expect(percentText(older)).toBe('55%');
    expect(runningText({ ...older, syncedContacts: 3 })).toBe('Synced 3 contacts...');
  });

  it('is announced in steps of 10 %, with "about" when estimated', () => {
    const syncing = (j: SyncJob) => announcement({ page, phase: 'syncing', job: j });
    expect(syncing(syncJob({ progress: 47, syncedContacts: 5 }))).toBe('Syncing Shop: 40% done');
    expect(syncing(syncJob({ progress: 47, syncedContacts: 5, progressEstimated: true }))).toBe(
      'Syncing Shop: about 40 % done',
    );
    expect(syncing(syncJob({ progress: null }))).toBe('Syncing Shop: counting conversations');
  });
});

describe('an incremental re-sync', () => {
  it('shows "Checking for changes..." until it has counted or synced something', () => {
    expect(runningText(incremental({ status: 'PENDING' }))).toBe('Checking for changes...');
    expect(runningText(incremental())).toBe('Checking for changes...');
    // An estimated total is not a count of this sync's changes.
    expect(runningText(incremental({ totalContacts: 300, progress: 0, progressEstimated: true }))).toBe(
      'Checking for changes...',
    );
    expect(runningText(incremental({ totalContacts: 8, progress: 0 }))).toBe('Synced 0 contacts...');
    expect(runningText(incremental({ syncedContacts: 4 }))).toBe('Synced 4 contacts...');
    expect(isCheckingForChanges(incremental({ failedContacts: 1 }))).toBe(false);
    expect(announcement({ page, phase: 'syncing', job: incremental() })).toBe('Checking Shop for changes');
  });

  it('completes as "Up to date" when it synced nothing, else "N updated" with its failures', () => {
    const done = (over: Partial<SyncJob>) =>
      incremental({ status: 'COMPLETED', completedAt: '2025-01-01T10:00:09.000Z', progress: 100, ...over });
    expect(completedText(done({}))).toBe('Up to date');
    expect(completedText(done({ syncedContacts: 12 }))).toBe('12 updated');
    expect(completedText(done({ syncedContacts: 1_204, failedContacts: 2 }))).toBe('1,204 updated, 2 failed');
    expect(completedText(done({ failedContacts: 3 }))).toBe('0 updated, 3 failed');
    expect(announcement({ page, phase: 'idle', job: done({}) })).toBe('Sync completed for Shop. Up to date.');
    expect(announcement({ page, phase: 'idle', job: done({ syncedContacts: 12 }) })).toBe(
      'Sync completed for Shop. 12 updated.',
    );
  });

  it('keeps the usual texts when paused or stopped', () => {
    const paused = incremental({ status: 'PAUSED', syncedContacts: 4 });
    expect(announcement({ page, phase: 'paused', job: paused })).toBe(
      'Sync paused for Shop. 4 contacts synced so far.',
    );
    expect(syncedText(incremental({ status: 'CANCELLED', syncedContacts: 4 }))).toBe('4 contacts synced');
  });
});

describe('a full sync', () => {
  it("keeps today's texts", () => {
    expect(runningText(syncJob({ status: 'PENDING' }))).toBe('Starting sync...');
    expect(runningText(syncJob({ syncedContacts: 1_500 }))).toBe('Synced 1,500 contacts...');
    const done = syncJob({ status: 'COMPLETED', syncedContacts: 60, failedContacts: 2, progress: 100 });
    expect(completedText(done)).toBe('60 contacts synced, 2 failed');
    expect(completedText({ ...done, syncedContacts: 0, failedContacts: 0 })).toBe('0 contacts synced');
    expect(announcement({ page, phase: 'idle', job: done })).toBe(
      'Sync completed for Shop. 60 contacts synced, 2 failed.',
    );
  });

  it('is announced as a full re-sync while the request to start one is in flight', () => {
    expect(announcement({ page, phase: 'starting', job: null, startingFull: true })).toBe(
      'Starting a full re-sync of Shop',
    );
    expect(announcement({ page, phase: 'starting', job: null })).toBe('Starting a sync of Shop');
  });

  it('is offered once the page was synced before', () => {
    expect(syncedBefore({ contactCount: 0, lastJob: null })).toBe(false);
    expect(syncedBefore({ contactCount: 0, lastJob: syncJob({ status: 'FAILED' }) })).toBe(false);
    expect(syncedBefore({ contactCount: 0, lastJob: syncJob({ status: 'COMPLETED' }) })).toBe(true);
    expect(syncedBefore({ contactCount: 0, lastJob: incremental({ status: 'CANCELLED' }) })).toBe(true);
    expect(syncedBefore({ contactCount: 3, lastJob: syncJob({ status: 'CANCELLED' }) })).toBe(true);
  });
});

describe('the toast when a sync is seen ending', () => {
  it('says how it ended, with the result or the error under the title', () => {
    expect(outcomeNotice(syncJob({ status: 'CANCELLED', syncedContacts: 4 }), 'Shop')).toEqual({
      tone: 'success',
      title: 'Sync cancelled for Shop',
    });
    expect(
      outcomeNotice(syncJob({ status: 'COMPLETED', syncedContacts: 60, failedContacts: 2 }), 'Shop'),
    ).toEqual({
      tone: 'success',
      title: 'Sync completed for Shop',
      description: '60 contacts synced, 2 failed',
    });
    expect(outcomeNotice(syncJob({ status: 'FAILED', error: 'Token expired' }), 'Shop')).toEqual({
      tone: 'error',
      title: 'Sync failed for Shop',
      description: 'Token expired',
    });
    expect(outcomeNotice(syncJob({ status: 'FAILED' }), 'Shop')?.description).toBe('Unknown error');
  });

  it('says nothing of a sync that has not ended', () => {
    for (const status of ['PENDING', 'IN_PROGRESS', 'PAUSED'] as const)
      expect(outcomeNotice(syncJob({ status }), 'Shop')).toBeNull();
  });

  it("shows an error's message, or the thrown value itself", () => {
    expect(errorMessage(new Error('The API cannot be reached'))).toBe('The API cannot be reached');
    expect(errorMessage('offline')).toBe('offline');
  });
});
