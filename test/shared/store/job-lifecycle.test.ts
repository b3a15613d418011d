import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { ddb, tables } from '#shared/store/db.ts';
import { transitionJob } from '#shared/store/job-repository.ts';
import { finalizeJob } from '#shared/sync/finalize-job.ts';
import { givenJob, givenPage, readJob, readPage } from './fixtures.ts';

async function lock(pageId: string, jobId: string) {
  await ddb.send(
    new UpdateCommand({
      TableName: tables.pages,
      Key: { pageId },
      UpdateExpression: 'SET activeJobId = :j',
      ExpressionAttributeValues: { ':j': jobId },
    }),
  );
}

/** Every status change is conditional: no path overwrites a terminal status. */
describe('job transitions', () => {
  it('finalize completes a running job and releases the page lock', async () => {
    const pageId = await givenPage();
    const jobId = await givenJob(pageId);
    await lock(pageId, jobId);

    await expect(finalizeJob({ jobId, pageId, outcome: 'COMPLETED' })).resolves.toEqual({
      status: 'COMPLETED',
      finalized: true,
    });

    expect(await readJob(jobId)).toMatchObject({ status: 'COMPLETED', phase: 'done' });
    expect((await readPage(pageId)).activeJobId).toBeUndefined();
  });

  it('finalize exits quietly when a cancel won the race, and leaves the cancel as it was', async () => {
    const pageId = await givenPage();
    const jobId = await givenJob(pageId);
    await lock(pageId, jobId);
    const cancelled = await transitionJob(jobId, {
      from: ['PENDING', 'IN_PROGRESS'],
      to: 'CANCELLED',
      phase: 'cancelled',
      set: { completedAt: '2026-11-01T00:00:00.000Z' },
    });

    await expect(finalizeJob({ jobId, pageId, outcome: 'COMPLETED' })).resolves.toEqual({
      status: 'CANCELLED',
      finalized: false,
    });
    await expect(finalizeJob({ jobId, pageId, outcome: 'FAILED' })).resolves.toEqual({
      status: 'CANCELLED',
      finalized: false,
    });

    expect(await readJob(jobId)).toEqual(cancelled);
    expect((await readPage(pageId)).activeJobId).toBeUndefined();
  });

  it('a failure records only our own user-facing message', async () => {
    const pageId = await givenPage();
    const jobId = await givenJob(pageId);
    const cause = JSON.stringify({ errorType: 'SyncFailedError', errorMessage: 'Reconnect the page.' });

    await finalizeJob({
      jobId,
      pageId,
      outcome: 'FAILED',
      error: { Error: 'SyncFailedError', Cause: cause },
    });
    expect(await readJob(jobId)).toMatchObject({ status: 'FAILED', error: 'Reconnect the page.' });

    const other = await givenJob(pageId);
    const internal = JSON.stringify({
      errorType: 'TypeError',
      errorMessage: 'x is undefined at /var/task/index.mjs',
    });
    await finalizeJob({
      jobId: other,
      pageId,
      outcome: 'FAILED',
      error: { Error: 'TypeError', Cause: internal },
    });
    expect((await readJob(other)).error).toBe('The sync failed unexpectedly. Try again.');
  });

  it('never moves a terminal job', async () => {
    const pageId = await givenPage();
    const jobId = await givenJob(pageId, 'COMPLETED');
    await expect(
      transitionJob(jobId, { from: ['PENDING', 'IN_PROGRESS'], to: 'CANCELLED', phase: 'cancelled' }),
    ).resolves.toBeNull();
    expect((await readJob(jobId)).status).toBe('COMPLETED');
  });

  it('does not release a lock held by another job', async () => {
    const pageId = await givenPage();
    const jobId = await givenJob(pageId);
    await lock(pageId, 'someone-else');
    await finalizeJob({ jobId, pageId, outcome: 'COMPLETED' });
    expect((await readPage(pageId)).activeJobId).toBe('someone-else');
  });
});
