import { describe, expect, it } from 'vitest';
import { isTerminal, type JobStatus } from '#shared/job-status.ts';
import { progressOf, type SyncJob } from '#shared/sync/job.ts';
import { syncJob as job } from './sync-job.ts';

describe('progressOf', () => {
  it.each<[string, Partial<SyncJob>, number | null]>([
    ['PENDING, nothing discovered', { status: 'PENDING', phase: 'queued' }, null],
    ['running, nothing discovered yet', { listComplete: undefined, totalContacts: 0 }, null],
    ['running, no complete count of the page yet', { totalContacts: 50, syncedContacts: 10 }, null],
    [
      'an incremental sync has no estimate',
      { mode: 'incremental', expectedTotal: 200, totalContacts: 10 },
      null,
    ],
    ['discovered an empty inbox', { listComplete: true, totalContacts: 0 }, 0],
    ['discovered, nothing synced', { listComplete: true, totalContacts: 40 }, 0],
    [
      'synced and failed both count',
      { listComplete: true, totalContacts: 40, syncedContacts: 9, failedContacts: 1 },
      25,
    ],
    ['rounds down', { listComplete: true, totalContacts: 3, syncedContacts: 2 }, 66],
    ['a running job never shows 100', { listComplete: true, totalContacts: 10, syncedContacts: 10 }, 99],
    [
      'a running job stays under 100 when counts exceed the total',
      { listComplete: true, totalContacts: 10, syncedContacts: 12 },
      99,
    ],
    [
      'COMPLETED is 100',
      {
        status: 'COMPLETED',
        listComplete: true,
        totalContacts: 10,
        syncedContacts: 10,
      },
      100,
    ],
    ['COMPLETED with nothing to sync is 100', { status: 'COMPLETED', listComplete: true }, 100],
    [
      'CANCELLED keeps the progress it reached',
      { status: 'CANCELLED', listComplete: true, totalContacts: 8, syncedContacts: 2 },
      25,
    ],
    ['FAILED before discovery is null', { status: 'FAILED' }, null],
  ])('is %s', (_case, overrides, expected) => {
    expect(progressOf(job(overrides)).progress).toBe(expected);
  });

  it.each<[string, Partial<SyncJob>, number]>([
    [
      "against the page's last complete count",
      { expectedTotal: 200, totalContacts: 50, syncedContacts: 50 },
      25,
    ],
    [
      'against the count so far when it is larger',
      { expectedTotal: 40, totalContacts: 100, syncedContacts: 50 },
      50,
    ],
    ['never 100 while running', { expectedTotal: 10, totalContacts: 10, syncedContacts: 10 }, 99],
  ])('is an estimate, flagged, %s', (_case, overrides, expected) => {
    expect(progressOf(job(overrides))).toEqual({ progress: expected, progressEstimated: true });
  });

  it('is exact, not flagged, once the list is read to its end', () => {
    expect(
      progressOf(job({ expectedTotal: 200, listComplete: true, totalContacts: 100, syncedContacts: 50 })),
    ).toEqual({ progress: 50, progressEstimated: false });
  });

  it.each([1, 7, 33, 99, 101, 997])(
    'is an integer from 0 to 99 for every count of %i running contacts',
    (total) => {
      for (let done = 0; done <= total; done++) {
        const { progress } = progressOf(
          job({ listComplete: true, totalContacts: total, syncedContacts: done }),
        );
        expect(Number.isInteger(progress)).toBe(true);
        expect(progress).toBeGreaterThanOrEqual(0);
        expect(progress).toBeLessThanOrEqual(99);
      }
    },
  );
});

describe('isTerminal', () => {
  it.each<[JobStatus, boolean]>([
    ['PENDING', false],
    ['IN_PROGRESS', false],
    // Paused holds the page lock: a stale-lock heal must not free it.
    ['PAUSED', false],
    ['COMPLETED', true],
    ['FAILED', true],
    ['CANCELLED', true],
  ])('is %s -> %s', (status, terminal) => {
    expect(isTerminal(status)).toBe(terminal);
  });
});
