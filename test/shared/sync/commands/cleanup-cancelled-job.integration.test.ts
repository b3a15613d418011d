import { describe, expect, it } from 'vitest';
import { saveContact } from '#shared/store/contact-commit.ts';
import { transitionJob } from '#shared/store/job-repository.ts';
import { cleanupCancelledJob } from '#shared/sync/commands/cleanup-cancelled-job.ts';
import type { SyncJob } from '#shared/sync/job.ts';
import { contact, contactsOf, givenJob, givenPage, readJob, readPage } from '#test/shared/store/fixtures.ts';

/** Cancel with cleanup against DynamoDB Local: the conditional deletes and transactions are real. */
const cancelled = (jobId: string) =>
  transitionJob(jobId, { from: ['IN_PROGRESS'], to: 'CANCELLED', phase: 'cancelled' }) as Promise<SyncJob>;

describe('cleanupCancelledJob', () => {
  it('deletes what the job created, leaves what it only updated, and keeps the page count right', async () => {
    const pageId = await givenPage();
    const earlier = await givenJob(pageId);
    await saveContact(earlier, contact(pageId, 'old'));
    const job = await givenJob(pageId);
    for (const id of ['old', 'a', 'b', 'c']) await saveContact(job, contact(pageId, id));
    expect((await readPage(pageId)).contactCount).toBe(4);

    const report = await cleanupCancelledJob(await cancelled(job));

    expect(report).toEqual({
      status: 'COMPLETE',
      created: 3,
      deleted: 3,
      kept: 0,
      remaining: 0,
      untouched: 1,
    });
    const left = await contactsOf(pageId);
    expect(left.map((c) => c.participantId)).toEqual(['old']);
    // Updated by the cancelled job: left as it wrote it (documented choice), with its creator.
    expect(left[0]).toMatchObject({ lastSyncJobId: job, createdByJobId: earlier });
    expect((await readPage(pageId)).contactCount).toBe(1);
    expect((await readJob(job)).cleanupCompletedAt).toEqual(expect.any(String));
  });

  it('is idempotent and resumable: a second call deletes nothing more and reports the same totals', async () => {
    const pageId = await givenPage();
    const job = await givenJob(pageId);
    for (const id of ['1', '2', '3', '4', '5']) await saveContact(job, contact(pageId, id));
    const stopped = await cancelled(job);

    // A budget spent at once: the first call stops before its first page and says PARTIAL.
    const partial = await cleanupCancelledJob(stopped, { budgetMs: 0 });
    expect(partial).toMatchObject({ status: 'PARTIAL', created: 5, deleted: 0, remaining: 5 });
    // Small pages, so the cleanup walks the index in several steps.
    const first = await cleanupCancelledJob(stopped, { pageSize: 2 });
    const second = await cleanupCancelledJob(stopped, { pageSize: 2 });

    expect(first).toEqual({
      status: 'COMPLETE',
      created: 5,
      deleted: 5,
      kept: 0,
      remaining: 0,
      untouched: 0,
    });
    expect(second).toEqual(first);
    expect(await contactsOf(pageId)).toEqual([]);
    expect((await readPage(pageId)).contactCount).toBe(0);
  });

  it('does not delete a contact that a newer job has written since', async () => {
    const pageId = await givenPage();
    const job = await givenJob(pageId);
    for (const id of ['1', '2', '3']) await saveContact(job, contact(pageId, id));
    const stopped = await cancelled(job);
    const newer = await givenJob(pageId);
    await expect(saveContact(newer, contact(pageId, '2'), true)).resolves.toBe('updated');

    const report = await cleanupCancelledJob(stopped);

    expect(report).toEqual({
      status: 'COMPLETE',
      created: 3,
      deleted: 2,
      kept: 1,
      remaining: 0,
      untouched: 0,
    });
    const left = await contactsOf(pageId);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatchObject({ participantId: '2', lastSyncJobId: newer, createdByJobId: job });
    expect((await readPage(pageId)).contactCount).toBe(1);
  });

  it('lets a newer job that read a contact before the cleanup deleted it create it again, counted once', async () => {
    const pageId = await givenPage();
    const job = await givenJob(pageId);
    await saveContact(job, contact(pageId, '1'));
    const stopped = await cancelled(job);
    const newer = await givenJob(pageId);
    await cleanupCancelledJob(stopped);

    // The newer job saw the contact (exists = true) before it was deleted.
    await expect(saveContact(newer, contact(pageId, '1'), true)).resolves.toBe('created');

    const [again] = await contactsOf(pageId);
    expect(again).toMatchObject({ lastSyncJobId: newer, createdByJobId: newer });
    expect((await readJob(newer)).syncedContacts).toBe(1);
    expect((await readPage(pageId)).contactCount).toBe(1);
  });

  it('refuses a job that is not CANCELLED', async () => {
    const pageId = await givenPage();
    const job = await givenJob(pageId);
    await expect(cleanupCancelledJob(await readJob(job))).rejects.toThrow(
      'Cannot clean up job with status: IN_PROGRESS',
    );
  });
});
