import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  cacheHistory,
  getCachedHistory,
  getExecution,
  listExecutions,
  recordExecutionReport,
  recordExecutionStart,
} from '#shared/store/execution-repository.ts';
import { givenJob, givenPage } from './fixtures.ts';

const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

/** A job's execution items on DynamoDB Local: ordered reports, as EventBridge may deliver them. */
describe("a job's executions", () => {
  it('lists them in the order they started, each with its latest status, whatever order the reports came in', async () => {
    const jobId = await givenJob(await givenPage());
    const resume = `${jobId}-resume1`;
    await recordExecutionStart(jobId, jobId, t(0));
    // The resumed run's final report comes before its RUNNING one and before start-sync's record.
    await recordExecutionReport(jobId, {
      name: resume,
      status: 'ABORTED',
      startDate: t(20),
      stopDate: t(30),
      at: t(30),
    });
    await expect(
      recordExecutionReport(jobId, { name: resume, status: 'RUNNING', startDate: t(20), at: t(20) }),
    ).resolves.toBe(false);
    await expect(recordExecutionStart(jobId, resume, t(20))).resolves.toBe(false);
    await recordExecutionReport(jobId, { name: jobId, status: 'RUNNING', startDate: t(0), at: t(0) });
    await recordExecutionReport(jobId, {
      name: jobId,
      status: 'ABORTED',
      startDate: t(0),
      stopDate: t(9),
      at: t(9),
    });
    // A redelivered RUNNING report changes nothing.
    await expect(
      recordExecutionReport(jobId, { name: jobId, status: 'RUNNING', startDate: t(0), at: t(0) }),
    ).resolves.toBe(false);

    expect(await listExecutions(jobId)).toEqual([
      { jobId, name: jobId, status: 'ABORTED', startDate: t(0), stopDate: t(9), statusAt: t(9) },
      { jobId, name: resume, status: 'ABORTED', startDate: t(20), stopDate: t(30), statusAt: t(30) },
    ]);
    await expect(getExecution(jobId, resume)).resolves.toMatchObject({ status: 'ABORTED' });
    await expect(getExecution(jobId, `${jobId}-resume2`)).resolves.toBeUndefined();
  });

  it('at the same instant, a final status wins over RUNNING', async () => {
    const jobId = await givenJob(await givenPage());
    await recordExecutionReport(jobId, {
      name: jobId,
      status: 'FAILED',
      startDate: t(1),
      stopDate: t(1),
      at: t(1),
    });
    await recordExecutionReport(jobId, { name: jobId, status: 'RUNNING', startDate: t(1), at: t(1) });

    expect((await listExecutions(jobId)).map((e) => e.status)).toEqual(['FAILED']);
  });

  it("lists nothing of the job's other items, and nothing of another job", async () => {
    const jobId = await givenJob(await givenPage());
    await cacheHistory(jobId, jobId, { summary: '{}', complete: false, readAt: t(1) });

    expect(await listExecutions(jobId)).toEqual([]);
    expect(await listExecutions(randomUUID())).toEqual([]);
  });
});

describe('cached history summaries', () => {
  it('keep the latest read, and a complete one for good', async () => {
    const jobId = await givenJob(await givenPage());
    await expect(
      cacheHistory(jobId, jobId, { summary: 'read 2', complete: false, readAt: t(2) }),
    ).resolves.toBe(true);
    // An older read that finished late does not replace a newer one.
    await expect(
      cacheHistory(jobId, jobId, { summary: 'read 1', complete: false, readAt: t(1) }),
    ).resolves.toBe(false);
    await expect(
      cacheHistory(jobId, jobId, { summary: 'final', complete: true, readAt: t(3) }),
    ).resolves.toBe(true);
    await expect(
      cacheHistory(jobId, jobId, { summary: 'read 4', complete: false, readAt: t(4) }),
    ).resolves.toBe(false);

    await expect(getCachedHistory(jobId, jobId)).resolves.toMatchObject({ summary: 'final', complete: true });
  });
});
