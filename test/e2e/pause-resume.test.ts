import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { routePath } from '#shared/api/routes.ts';
import {
  CancelSyncResponse,
  ConflictBody,
  ErrorBody,
  PauseSyncResponse,
  ResumeSyncResponse,
  StartSyncResponse,
  SyncExecutionResponse,
} from '#shared/contract.ts';
import { isActive } from '#shared/job-status.ts';
import { signLocalToken } from '../../local/auth.ts';
import type { SimPage } from '../../local/graph-sim/demo-data.ts';
import { DATA_DIR } from '../../local/local-stack.ts';
import { e2eStack } from './e2e-stack.ts';
import { finalView, type JobView, localSfnClient, PATHS, pollUntil, simPages } from './http-client.ts';

/**
 * Pause, resume and retry end to end over HTTP on one embedded stack, with their races: pause vs
 * completion, resume vs cancel, cancel of a paused job, and retry after a cancel. Every wait is a
 * bounded poll; nothing is timed.
 */
const CONTEXT = { chunkSize: 3, mapConcurrency: 2, maxChunksPerSegment: 3 };
const simPage = simPages('9510000000', 'E2E pause');
const P = {
  finalizeRace: simPage('pause vs completion', 6, 3),
  afterCompletion: simPage('pause after completion', 6, 0),
  resumeVsCancel: Array.from({ length: 4 }, (_, i) => simPage(`resume vs cancel ${i + 1}`, 9, 3)),
  cancelPaused: simPage('cancel a paused job', 9, 3),
  retry: simPage('retry after cancel', 15, 6),
  wrongStatus: simPage('wrong statuses', 3, 0),
  history: simPage('execution history', 9, 3),
};
const ALL = [
  P.finalizeRace,
  P.afterCompletion,
  ...P.resumeVsCancel,
  P.cancelPaused,
  P.retry,
  P.wrongStatus,
  P.history,
];
const totalOf = (page: SimPage) => page.conversations.messenger.length + page.conversations.instagram.length;

const e2e = e2eStack({ pages: ALL, context: CONTEXT, analyzerLatencyMs: '30', user: 'pause-tester' });
const start = (page: SimPage) => e2e.started(page.id);
const { job, contactsOf } = e2e;
const until = (what: string, jobId: string, done: (j: JobView) => boolean) =>
  e2e.waitForJob(jobId, what, done, { tries: 600 });
const pause = (jobId: string) => e2e.http.post(PATHS.pause, e2e.token, { jobId });
const resume = (jobId: string) => e2e.http.post(PATHS.resume, e2e.token, { jobId });
const cancel = (jobId: string) => e2e.http.post(PATHS.cancel, e2e.token, { jobId, reason: 'e2e' });
const activeJobOf = async (pageId: string) => {
  const answer = await e2e.http.get(PATHS.pages, e2e.token);
  const pages = (answer.body as { pages: { id: string; activeJob: JobView | null }[] }).pages;
  return pages.find((p) => p.id === pageId)?.activeJob ?? null;
};
/** The job's executions that still run (the first, continuations and resumed ones). */
async function runningExecutions(jobId: string): Promise<number> {
  const out = await localSfnClient(e2e.stack.sfnEndpoint).send(
    new ListExecutionsCommand({ stateMachineArn: e2e.stack.machines[0]?.arn, statusFilter: 'RUNNING' }),
  );
  return (out.executions ?? []).filter((e) => e.name?.startsWith(jobId)).length;
}

/**
 * Every execution Step Functions ran for the job, as sync-status lists them once the status
 * events are in: the same names in the order they started, each with its final status, and a
 * console link that opens the local console's view of it. Returns the names.
 */
async function executionsListed(jobId: string): Promise<string[]> {
  await pollUntil(
    'every execution of the job to end',
    () => runningExecutions(jobId),
    (n) => n === 0,
  );
  const out = await localSfnClient(e2e.stack.sfnEndpoint).send(
    new ListExecutionsCommand({ stateMachineArn: e2e.stack.machines[0]?.arn }),
  );
  const ran = (out.executions ?? [])
    .filter((e) => e.name?.startsWith(jobId))
    .sort((a, b) => Number(a.startDate) - Number(b.startDate))
    .map((e) => ({ name: e.name, status: e.status, executionArn: e.executionArn }));
  const listed = await pollUntil(
    "the job's executions with their final statuses",
    () => job(jobId).then((j) => j.executions),
    (executions) =>
      JSON.stringify(executions.map(({ name, status, executionArn }) => ({ name, status, executionArn }))) ===
      JSON.stringify(ran),
  );
  for (const execution of listed)
    expect(execution.consoleUrl).toBe(`${e2e.stack.apiUrl}/#/jobs/${jobId}/executions/${execution.name}`);
  return listed.map((e) => e.name);
}

describe('pause and resume', () => {
  it('pause vs completion: a pause that commits before finalize keeps the job PAUSED, and resume completes it', async () => {
    // Finalize is slow to start, so the pause lands while every conversation is counted but the
    // job is not COMPLETED yet: the tightest pause-vs-completion window.
    e2e.stack.lambdas.invokeDelayMs.set('finalize-sync', 1500);
    try {
      const jobId = await start(P.finalizeRace);
      await until(
        'every conversation counted',
        jobId,
        (j) => j.totalContacts > 0 && j.syncedContacts + j.failedContacts === totalOf(P.finalizeRace),
      );
      const answer = await pause(jobId);

      if (answer.status === 400) {
        // Finalize won after all: the only other legal outcome.
        expect(ErrorBody.parse(answer.body).error).toBe('Cannot pause job with status: COMPLETED');
        expect((await job(jobId)).status).toBe('COMPLETED');
        return;
      }
      expect(answer.status, answer.text).toBe(200);
      const paused = PauseSyncResponse.parse(answer.body).job;
      await pollUntil(
        'the paused execution to end',
        () => runningExecutions(jobId),
        (n) => n === 0,
      );
      const still = await job(jobId);
      expect(still).toMatchObject({ status: 'PAUSED', syncedContacts: paused.syncedContacts });
      expect((await activeJobOf(P.finalizeRace.id))?.id).toBe(jobId);

      expect((await resume(jobId)).status).toBe(200);
      const done = await until('the resumed job to end', jobId, (j) => !isActive(j));
      expect(done).toMatchObject({
        status: 'COMPLETED',
        syncedContacts: paused.syncedContacts,
        progress: 100,
      });
      // The first run, its continuations, the resumed run and its own: each listed, none still RUNNING.
      const names = await executionsListed(jobId);
      expect(names[0]).toBe(jobId);
      expect(names).toContain(`${jobId}-resume1`);
    } finally {
      e2e.stack.lambdas.invokeDelayMs.delete('finalize-sync');
    }
  });

  it('pause vs completion: a pause after completion answers 400 and changes nothing', async () => {
    const jobId = await start(P.afterCompletion);
    const done = await until('completion', jobId, (j) => j.status === 'COMPLETED');

    const answer = await pause(jobId);

    expect(answer.status).toBe(400);
    expect(ErrorBody.strict().parse(answer.body)).toEqual({
      error: 'Cannot pause job with status: COMPLETED',
    });
    // executionStatus mirrors the execution, which may still move from RUNNING to SUCCEEDED.
    expect(finalView(await job(jobId))).toEqual(finalView(done));
  });

  it('resume vs cancel: whichever commits first, the job ends CANCELLED, frozen at the cancel, and unlocked', async () => {
    const winners: string[] = [];
    for (const [i, page] of P.resumeVsCancel.entries()) {
      const jobId = await start(page);
      await until('some progress', jobId, (j) => j.syncedContacts > 0);
      expect((await pause(jobId)).status).toBe(200);

      // Both in flight at once; which is sent first alternates.
      const [resumed, cancelled] =
        i % 2 === 0
          ? await Promise.all([resume(jobId), cancel(jobId)])
          : await Promise.all([cancel(jobId), resume(jobId)]).then(([c, r]) => [r, c] as const);

      expect(cancelled.status, cancelled.text).toBe(200);
      const acked = CancelSyncResponse.parse(cancelled.body).job;
      winners.push(resumed.status === 200 ? 'resume first' : 'cancel first');
      if (resumed.status === 200)
        expect(ResumeSyncResponse.parse(resumed.body).job.status).toBe('IN_PROGRESS');
      else
        expect({ status: resumed.status, body: resumed.body }).toEqual({
          status: 400,
          body: { error: 'Cannot resume job with status: CANCELLED' },
        });
      // Whatever the resume started stops at its first check and writes nothing.
      await pollUntil(
        'every execution of the job to end',
        () => runningExecutions(jobId),
        (n) => n === 0,
      );
      const final = await job(jobId);
      expect(final).toMatchObject({
        status: 'CANCELLED',
        syncedContacts: acked.syncedContacts,
        failedContacts: acked.failedContacts,
        completedAt: acked.completedAt,
      });
      const mine = (await contactsOf(page.id)).filter((c) => c.lastSyncJobId === jobId);
      expect(mine).toHaveLength(acked.syncedContacts);
      expect(await activeJobOf(page.id)).toBeNull();
      // A resumed run started just as the cancel landed is listed too, with its final status.
      const names = await executionsListed(jobId);
      if (resumed.status === 200) expect(names).toContain(`${jobId}-resume1`);
    }
    // Reported, not asserted: which side committed first is up to the race.
    console.info(`[resume vs cancel] ${winners.join(', ')}`);
  });

  it('cancels a paused job: 200 CANCELLED with the paused counters, and the page is free again', async () => {
    const jobId = await start(P.cancelPaused);
    await until('some progress', jobId, (j) => j.syncedContacts > 0);
    const paused = PauseSyncResponse.parse((await pause(jobId)).body).job;

    const answer = await cancel(jobId);

    expect(answer.status).toBe(200);
    expect(CancelSyncResponse.parse(answer.body).job).toMatchObject({
      status: 'CANCELLED',
      syncedContacts: paused.syncedContacts,
      failedContacts: paused.failedContacts,
    });
    expect(await activeJobOf(P.cancelPaused.id)).toBeNull();
    expect((await resume(jobId)).status).toBe(400);
    const next = await start(P.cancelPaused);
    await until('the next sync to end', next, (j) => !isActive(j));
  });

  it("summarizes each execution's history once it ended, and degrades to the last summary when Step Functions throttles", async () => {
    const jobId = await start(P.history);
    await until('some progress', jobId, (j) => j.syncedContacts > 0);
    expect((await pause(jobId)).status).toBe(200);
    expect((await resume(jobId)).status).toBe(200);
    await until('the resumed job to end', jobId, (j) => !isActive(j));
    const [first, resumed] = await executionsListed(jobId);
    const read = async (name: string | undefined) => {
      const answer = await e2e.http.get(routePath('syncExecution', { jobId, name }), e2e.token);
      expect(answer.status, answer.text).toBe(200);
      return {
        ...SyncExecutionResponse.strict().parse(answer.body),
        retryAfter: answer.headers.get('retry-after'),
      };
    };

    // One read of the history left: the first execution's summary is read, final, and cached.
    e2e.stack.sfn.throttle.set('GetExecutionHistory', { bucket: 1, refillPerSecond: 0 });
    try {
      const paused = await read(first);
      expect(paused).toMatchObject({ stale: false, retryAfter: null });
      expect(paused.summary).toMatchObject({
        complete: true,
        end: { type: 'ExecutionAborted', error: 'SyncPaused', cause: 'Paused by the user' },
      });
      expect(paused.summary.map?.iterations).toBeGreaterThan(0);
      // Throttled: the resumed run's answer is a stale (empty) summary with Retry-After, not an error.
      const throttled = await read(resumed);
      expect(throttled).toMatchObject({
        stale: true,
        retryAfter: '5',
        summary: { eventCount: 0, complete: false },
      });
      // The final summary is never read again: it still answers while nothing can be read.
      expect(await read(first)).toMatchObject({ stale: false, summary: paused.summary });
    } finally {
      e2e.stack.sfn.throttle.reset();
    }
    const later = await read(resumed);
    expect(later).toMatchObject({
      stale: false,
      summary: { complete: true, end: { type: 'ExecutionSucceeded' } },
    });
    expect(later.summary.states.map((state) => state.name)).toContain('Process a staged chunk');
  });

  it('answers 400 to a resume of a job that is not paused, and to a retry of a completed one', async () => {
    const jobId = await start(P.wrongStatus);
    const done = await until('completion', jobId, (j) => j.status === 'COMPLETED');
    expect(done.status).toBe('COMPLETED');

    expect(ErrorBody.parse((await resume(jobId)).body).error).toBe(
      'Cannot resume job with status: COMPLETED',
    );
    const retried = await e2e.http.post(PATHS.retry, e2e.token, { jobId });
    expect(retried.status).toBe(400);
    expect(ErrorBody.parse(retried.body).error).toBe('Cannot retry job with status: COMPLETED');
  });
});

describe('the contract conventions of pause, resume and retry', () => {
  it.each([PATHS.pause, PATHS.resume, PATHS.retry])(
    '%s answers 401 without a token, 415 without JSON, 400 on a bad body, 404 for an unknown job, 403 for another org',
    async (path) => {
      const unknown = '00000000-0000-4000-8000-00000000abcd';
      expect((await e2e.http.post(path, undefined, { jobId: unknown })).status).toBe(401);
      const notJson = await e2e.http.request('POST', path, {
        token: e2e.token,
        raw: JSON.stringify({ jobId: unknown }),
        headers: { 'content-type': 'text/plain' },
      });
      expect(notJson.status).toBe(415);
      const bad = await e2e.http.post(path, e2e.token, { jobId: 'nope' });
      expect({ status: bad.status, body: bad.body }).toEqual({
        status: 400,
        body: { error: 'jobId must be a UUID' },
      });
      const missing = await e2e.http.post(path, e2e.token, { jobId: unknown });
      expect({ status: missing.status, body: missing.body }).toEqual({
        status: 404,
        body: { error: 'Sync job not found' },
      });
      const jobs = await e2e.http.get(routePath('syncJobs', { pageId: P.wrongStatus.id }), e2e.token);
      const someJob = (jobs.body as { jobs: JobView[] }).jobs[0];
      if (!someJob) throw new Error('no job on the page yet');
      const intruder = await signLocalToken(DATA_DIR, { org: 'other-org', user: 'intruder' });
      const other = await e2e.http.post(path, intruder, { jobId: someJob.id });
      expect({ status: other.status, body: other.body }).toEqual({
        status: 403,
        body: { error: 'Sync job belongs to another organization' },
      });
    },
  );
});

describe('retry', () => {
  it('a retry of a cancelled sync skips what it wrote, counts only its own writes, and ends with every contact', async () => {
    const oldJob = await start(P.retry);
    await until('some progress', oldJob, (j) => j.syncedContacts >= 3);
    const acked = CancelSyncResponse.parse((await cancel(oldJob)).body).job;
    await pollUntil(
      'the cancelled execution to end',
      () => runningExecutions(oldJob),
      (n) => n === 0,
    );

    const answer = await e2e.http.post(PATHS.retry, e2e.token, { jobId: oldJob });
    expect(answer.status, answer.text).toBe(202);
    const retry = StartSyncResponse.parse(answer.body);
    expect(retry.status).toBe('PENDING');
    // The retry holds the page like any sync: a second retry is refused like a second start.
    const refused = await e2e.http.post(PATHS.retry, e2e.token, { jobId: oldJob });
    expect(refused.status).toBe(409);
    expect(ConflictBody.parse(refused.body).activeJobId).toBe(retry.jobId);
    const done = await until('the retry to end', retry.jobId, (j) => !isActive(j));

    expect(done).toMatchObject({ status: 'COMPLETED', resumedFrom: oldJob, totalContacts: totalOf(P.retry) });
    // The retry wrote only what the cancelled job had not: its contacts keep the old job's id.
    const contacts = await contactsOf(P.retry.id);
    expect(contacts.filter((c) => c.lastSyncJobId === oldJob)).toHaveLength(acked.syncedContacts);
    expect(contacts.filter((c) => c.lastSyncJobId === retry.jobId)).toHaveLength(done.syncedContacts);
    expect(done.syncedContacts + done.failedContacts + acked.syncedContacts).toBe(totalOf(P.retry));
    expect(done.syncedContacts).toBeLessThan(totalOf(P.retry));
    expect((await job(oldJob)).syncedContacts).toBe(acked.syncedContacts);
  });
});
