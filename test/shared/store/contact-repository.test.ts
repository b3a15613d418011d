import { describe, expect, it } from 'vitest';
import { JobNotRunningError } from '#shared/domain-errors.ts';
import { commitBatch, recordFailedConversation, saveContact } from '#shared/store/contact-commit.ts';
import { transitionJob } from '#shared/store/job-repository.ts';
import { contact, contactsOf, givenJob, givenPage, readJob, readPage } from './fixtures.ts';

/** Against DynamoDB Local: the transactions and conditions are real. */
describe('saveContact', () => {
  it('creates a contact, counts it in the job and the page, in one transaction', async () => {
    const pageId = await givenPage();
    const jobId = await givenJob(pageId);

    await expect(saveContact(jobId, contact(pageId, '1'))).resolves.toBe('created');

    const [saved] = await contactsOf(pageId);
    expect(saved).toMatchObject({
      contactKey: 'org-test#messenger#1',
      lastSyncJobId: jobId,
      displayName: 'Customer 1',
    });
    expect((await readJob(jobId)).syncedContacts).toBe(1);
    expect((await readPage(pageId)).contactCount).toBe(1);
  });

  it('counts a contact once per job when a chunk is retried', async () => {
    const pageId = await givenPage();
    const jobId = await givenJob(pageId);
    await saveContact(jobId, contact(pageId, '1'));

    await expect(saveContact(jobId, contact(pageId, '1'))).resolves.toBe('already-counted');

    expect((await readJob(jobId)).syncedContacts).toBe(1);
    expect(await contactsOf(pageId)).toHaveLength(1);
  });

  it('updates an existing contact for a new job without raising the page count', async () => {
    const pageId = await givenPage();
    const first = await givenJob(pageId);
    await saveContact(first, contact(pageId, '1'));
    const [before] = await contactsOf(pageId);
    await transitionJob(first, { from: ['IN_PROGRESS'], to: 'COMPLETED', phase: 'done' });
    const second = await givenJob(pageId);

    await expect(saveContact(second, { ...contact(pageId, '1'), messageCount: 9 })).resolves.toBe('updated');

    const [after] = await contactsOf(pageId);
    expect(after).toMatchObject({
      lastSyncJobId: second,
      messageCount: 9,
      firstSyncedAt: before?.firstSyncedAt,
    });
    expect((await readJob(second)).syncedContacts).toBe(1);
    expect((await readPage(pageId)).contactCount).toBe(1);
  });

  it.each(['CANCELLED', 'COMPLETED', 'FAILED'] as const)(
    'writes nothing once the job is %s',
    async (status) => {
      const pageId = await givenPage();
      const jobId = await givenJob(pageId);
      await saveContact(jobId, contact(pageId, 'kept'));
      await transitionJob(jobId, { from: ['IN_PROGRESS'], to: status, phase: 'cancelled' });

      await expect(saveContact(jobId, contact(pageId, 'late'))).rejects.toBeInstanceOf(JobNotRunningError);
      await expect(recordFailedConversation(jobId, 'messenger', 't_x', 'boom')).rejects.toBeInstanceOf(
        JobNotRunningError,
      );

      expect((await contactsOf(pageId)).map((c) => c.participantId)).toEqual(['kept']);
      expect(await readJob(jobId)).toMatchObject({ status, syncedContacts: 1, failedContacts: 0 });
      expect((await readPage(pageId)).contactCount).toBe(1);
    },
  );

  it('keeps counters equal to what was saved when a cancel lands among concurrent batch commits', async () => {
    const pageId = await givenPage();
    const jobId = await givenJob(pageId);

    // Four chunks at once, each committing batches of 5 one after another, on the same job item:
    // under the conflict model they also meet each other's transactions, and retry.
    const lanes = Array.from({ length: 4 }, async (_, lane) => {
      const outcomes: string[] = [];
      for (let b = 0; b < 4; b++) {
        const batch = Array.from({ length: 5 }, (_, i) => ({
          kind: 'contact' as const,
          contact: contact(pageId, `${lane}-${b}-${i}`),
          exists: false,
        }));
        try {
          outcomes.push(...(await commitBatch(jobId, batch)));
        } catch (error) {
          if (!(error instanceof JobNotRunningError)) throw error;
          outcomes.push('refused');
          break;
        }
      }
      return outcomes;
    });
    const cancel = new Promise((r) => setTimeout(r, 60)).then(() =>
      transitionJob(jobId, { from: ['IN_PROGRESS'], to: 'CANCELLED', phase: 'cancelled' }),
    );
    const [outcomes, cancelled] = await Promise.all([Promise.all(lanes), cancel]);

    const contacts = (await contactsOf(pageId)).filter((c) => c.lastSyncJobId === jobId);
    const job = await readJob(jobId);
    expect(job.status).toBe('CANCELLED');
    expect(job.syncedContacts).toBe(contacts.length);
    expect(outcomes.flat().filter((o) => o === 'created')).toHaveLength(contacts.length);
    // The cancel's own read of the counters is final: nothing was added after it.
    expect(cancelled?.syncedContacts).toBe(job.syncedContacts);
    expect((await readPage(pageId)).contactCount).toBe(contacts.length);
  });
});

describe('recordFailedConversation', () => {
  it('counts a failed conversation once per job', async () => {
    const pageId = await givenPage();
    const jobId = await givenJob(pageId);

    await expect(recordFailedConversation(jobId, 'instagram', 'c1', 'no participant')).resolves.toBe(
      'recorded',
    );
    await expect(recordFailedConversation(jobId, 'instagram', 'c1', 'no participant')).resolves.toBe(
      'already-counted',
    );

    expect((await readJob(jobId)).failedContacts).toBe(1);
  });
});
