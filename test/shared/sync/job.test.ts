import { describe, expect, it } from 'vitest';
import { Job } from '#shared/contract.ts';
import { isTerminal, type JobStatus, progressOf, publicJob, type SyncJob } from '#shared/sync/job.ts';

function job(overrides: Partial<SyncJob> = {}): SyncJob {
  return {
    jobId: '00000000-0000-4000-8000-000000000001',
    organizationId: 'org-1',
    pageId: '100000000000001',
    status: 'IN_PROGRESS',
    phase: 'syncing:messenger',
    syncedContacts: 0,
    failedContacts: 0,
    totalContacts: 0,
    createdBy: 'user-1',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:05.000Z',
    ...overrides,
  };
}

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

describe('publicJob', () => {
  const internals: Partial<SyncJob> = {
    organizationId: 'org-secret',
    executionArn:
      'arn:aws:states:us-east-1:000000000000:execution:ContactSyncTest:00000000-0000-4000-8000-000000000001',
    stopExecutionOutcome: 'STOPPED',
    createdBy: 'user-creator',
  };

  it.each<[string, Partial<SyncJob>, Record<string, unknown>]>([
    [
      'a fresh PENDING job',
      { status: 'PENDING', phase: 'queued' },
      {
        id: '00000000-0000-4000-8000-000000000001',
        pageId: '100000000000001',
        status: 'PENDING',
        phase: 'queued',
        syncedContacts: 0,
        failedContacts: 0,
        totalContacts: 0,
        progress: null,
        progressEstimated: false,
        mode: 'full',
        since: null,
        createdAt: '2026-01-01T00:00:00.000Z',
        startedAt: null,
        completedAt: null,
      },
    ],
    [
      'a running job',
      {
        startedAt: '2026-01-01T00:00:01.000Z',
        listComplete: true,
        syncedContacts: 5,
        failedContacts: 1,
        totalContacts: 12,
      },
      {
        id: '00000000-0000-4000-8000-000000000001',
        pageId: '100000000000001',
        status: 'IN_PROGRESS',
        phase: 'syncing:messenger',
        syncedContacts: 5,
        failedContacts: 1,
        totalContacts: 12,
        progress: 50,
        progressEstimated: false,
        mode: 'full',
        since: null,
        createdAt: '2026-01-01T00:00:00.000Z',
        startedAt: '2026-01-01T00:00:01.000Z',
        completedAt: null,
      },
    ],
    [
      'a cancelled job, with who and why',
      {
        status: 'CANCELLED',
        phase: 'cancelled',
        startedAt: '2026-01-01T00:00:01.000Z',
        completedAt: '2026-01-01T00:01:00.000Z',
        listComplete: true,
        syncedContacts: 3,
        totalContacts: 12,
        cancelledBy: 'user-2',
        cancelReason: 'wrong page',
      },
      {
        id: '00000000-0000-4000-8000-000000000001',
        pageId: '100000000000001',
        status: 'CANCELLED',
        phase: 'cancelled',
        syncedContacts: 3,
        failedContacts: 0,
        totalContacts: 12,
        progress: 25,
        progressEstimated: false,
        mode: 'full',
        since: null,
        createdAt: '2026-01-01T00:00:00.000Z',
        startedAt: '2026-01-01T00:00:01.000Z',
        completedAt: '2026-01-01T00:01:00.000Z',
        cancelledBy: 'user-2',
        cancelReason: 'wrong page',
      },
    ],
    [
      'a failed job, with its user-facing error',
      {
        status: 'FAILED',
        phase: 'failed',
        completedAt: '2026-01-01T00:01:00.000Z',
        error: "Facebook rejected the page's access token: reconnect the page and sync again.",
      },
      {
        id: '00000000-0000-4000-8000-000000000001',
        pageId: '100000000000001',
        status: 'FAILED',
        phase: 'failed',
        syncedContacts: 0,
        failedContacts: 0,
        totalContacts: 0,
        progress: null,
        progressEstimated: false,
        mode: 'full',
        since: null,
        createdAt: '2026-01-01T00:00:00.000Z',
        startedAt: null,
        completedAt: '2026-01-01T00:01:00.000Z',
        error: "Facebook rejected the page's access token: reconnect the page and sync again.",
      },
    ],
  ])('shows %s and nothing internal', (_case, overrides, expected) => {
    const shown = publicJob(job({ ...internals, ...overrides }));

    expect(shown).toEqual(expected);
    expect(Job.strict().parse(shown)).toEqual(shown);
    const serialized = JSON.stringify(shown);
    expect(serialized).not.toContain('org-secret');
    expect(serialized).not.toContain('arn:aws');
    expect(serialized).not.toContain('user-creator');
  });
});
