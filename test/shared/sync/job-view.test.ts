import { describe, expect, it } from 'vitest';
import {
  CancelBulkResult,
  CancelSyncResponse,
  Job,
  PauseSyncResponse,
  ResumeSyncResponse,
  StartSyncResponse,
} from '#shared/contract.ts';
import type { SyncJob } from '#shared/sync/job.ts';
import { changedJobAnswer, publicJob, startedAnswer, stoppedJobView } from '#shared/sync/job-view.ts';
import { syncJob as job, SHOWN_JOB } from './sync-job.ts';

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
      { ...SHOWN_JOB, status: 'PENDING', phase: 'queued' },
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
        ...SHOWN_JOB,
        syncedContacts: 5,
        failedContacts: 1,
        totalContacts: 12,
        progress: 50,
        startedAt: '2026-01-01T00:00:01.000Z',
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
        ...SHOWN_JOB,
        status: 'CANCELLED',
        phase: 'cancelled',
        syncedContacts: 3,
        totalContacts: 12,
        progress: 25,
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
        ...SHOWN_JOB,
        status: 'FAILED',
        phase: 'failed',
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

/** Each projection parses with the contract schema of the answers that carry it. */
describe('the projections and the contract', () => {
  const cancelled = job({
    status: 'CANCELLED',
    phase: 'cancelled',
    syncedContacts: 3,
    failedContacts: 1,
    totalContacts: 12,
    completedAt: '2026-01-01T00:01:00.000Z',
    cancelledBy: 'user-2',
  });

  it('stoppedJobView is the job of a cancel answer, and of a bulk cancel result', () => {
    const view = stoppedJobView(cancelled);

    expect(view).toEqual({
      id: cancelled.jobId,
      status: 'CANCELLED',
      syncedContacts: 3,
      failedContacts: 1,
      totalContacts: 12,
      completedAt: '2026-01-01T00:01:00.000Z',
    });
    expect(CancelSyncResponse.parse({ success: true, job: view })).toEqual({ success: true, job: view });
    const result = { pageId: cancelled.pageId, jobId: cancelled.jobId, outcome: 'cancelled', job: view };
    expect(CancelBulkResult.parse(result)).toEqual(result);
  });

  it('stoppedJobView gives a null completedAt to a job that has none, as a bulk cancel result allows', () => {
    const view = stoppedJobView(job());

    expect(view.completedAt).toBeNull();
    const result = { pageId: '100000000000001', jobId: view.id, outcome: 'not-active', job: view };
    expect(CancelBulkResult.parse(result)).toEqual(result);
  });

  it('startedAnswer is a start answer', () => {
    const answer = startedAnswer(
      job({ status: 'PENDING', phase: 'queued', mode: 'incremental', since: null }),
    );

    expect(StartSyncResponse.strict().parse(answer)).toEqual(answer);
  });

  it('changedJobAnswer is a pause answer for a paused job, a resume answer for a resumed one', () => {
    const paused = changedJobAnswer(
      job({ status: 'PAUSED', phase: 'paused', pausedAt: '2026-01-01T00:00:09.000Z' }),
    );
    const resumed = changedJobAnswer(job({ phase: 'resuming', startedAt: '2026-01-01T00:00:01.000Z' }));

    expect(PauseSyncResponse.parse(paused)).toEqual(paused);
    expect(ResumeSyncResponse.parse(resumed)).toEqual(resumed);
  });
});
