import { afterEach, describe, expect, it } from 'vitest';
import { CancelSyncResponse, ErrorBody, PagesResponse, StartSyncResponse } from '#shared/contract.ts';
import { isActive } from '#shared/job-status.ts';
import { mulberry32, type SimPage } from '../../local/graph-sim/demo-data.ts';
import { e2eStack } from './e2e-stack.ts';
import { finalView, PATHS, simPages, sleep } from './http-client.ts';

/**
 * Faults during a sync, end to end over HTTP on one embedded stack (DynamoDB Local, the Graph
 * simulator at the real 2 calls/s per Page, the state machine synthesized from infra/):
 * - a token error (190) mid-sync fails the job with a message the user can act on;
 * - retryable Graph errors are absorbed by backoff and retries;
 * - a cancel at a random moment freezes the counters at the acknowledgement.
 * Each test works on its own page(s); the tests run one after another because fault injection
 * is global to the simulator. No timing is asserted; every wait is a bounded poll.
 *
 * Chunks of 10 and at most 4 chunks per execution: a segment's discovery takes ~2 s at 2 calls/s,
 * so a cancel within the first 4 s lands in discovery, in chunk processing, or around a
 * continue-as-new, not always in the first discovery.
 */

const CONTEXT = { chunkSize: 10, mapConcurrency: 4, maxChunksPerSegment: 4 };
// Slow enough analysis that a sync can be caught mid-chunk.
const ANALYZER_LATENCY_MS = '30';
const CANCEL_TRIALS = 8;
const CANCEL_PRNG_SEED = 20261101;
const MAX_CANCEL_DELAY_MS = 4000;

const simPage = simPages('9400000000', 'E2E faults');
const totalOf = (page: SimPage) => page.conversations.messenger.length + page.conversations.instagram.length;

const P = {
  tokenError: simPage('token error mid-sync', 150, 0),
  retryable: simPage('retryable faults', 60, 20),
  cancels: Array.from({ length: CANCEL_TRIALS }, (_, i) => simPage(`cancel trial ${i + 1}`, 120, 40)),
};
const ALL_PAGES = [P.tokenError, P.retryable, ...P.cancels];

const e2e = e2eStack({
  pages: ALL_PAGES,
  context: CONTEXT,
  analyzerLatencyMs: ANALYZER_LATENCY_MS,
  user: 'faults-tester',
});

afterEach(() => {
  e2e.stack?.graph?.setFaults(null);
});

// ---------------------------------------------------------------------------------------------
// Helpers: success bodies parsed with the contract's schemas, errors with ErrorBody.strict().

function graph() {
  const sim = e2e.stack.graph;
  if (!sim) throw new Error('the stack runs without the Graph simulator');
  return sim;
}

const startSync = (pageId: string) => e2e.http.post(PATHS.start, e2e.token, { pageId });
const { started, waitForJob, job: jobStatus } = e2e;

const cancelSync = (jobId: string) =>
  e2e.http.post(PATHS.cancel, e2e.token, { jobId, reason: 'e2e fault test' });

const waitForEnd = (jobId: string) => waitForJob(jobId, `job ${jobId} to end`, (j) => !isActive(j));

/** The contacts of a page that carry `lastSyncJobId === jobId`, each listed once. */
async function contactsOfJob(pageId: string, jobId: string) {
  const keys = new Set<string>();
  let ofJob = 0;
  for (const contact of await e2e.contactsOf(pageId)) {
    expect(keys.has(contact.contactKey), `contact ${contact.contactKey} listed twice`).toBe(false);
    keys.add(contact.contactKey);
    if (contact.lastSyncJobId === jobId) ofJob++;
  }
  return { ofJob, all: keys.size };
}

async function listedPage(pageId: string) {
  const answer = await e2e.http.get(PATHS.pages, e2e.token);
  expect(answer.status, answer.text).toBe(200);
  const page = PagesResponse.strict()
    .parse(answer.body)
    .pages.find((p) => p.id === pageId);
  expect(page, `page ${pageId} is listed`).toBeDefined();
  return page as NonNullable<typeof page>;
}

// ---------------------------------------------------------------------------------------------

describe('Graph faults during a sync', () => {
  it('a token error (190) mid-sync fails the job with a reconnect message, frees the page and keeps exact counters', async () => {
    const page = P.tokenError;
    const total = totalOf(page);
    const jobId = await started(page.id);
    try {
      const running = await waitForJob(
        jobId,
        'the first contacts to be synced',
        (j) => !isActive(j) || j.syncedContacts > 0,
        { tries: 1500, intervalMs: 20 },
      );
      expect(running.status, 'still running when the token is revoked').toBe('IN_PROGRESS');
      expect(running.syncedContacts).toBeGreaterThan(0);
      graph().setFaults({ rate: 1, codes: [190] });

      const ended = await waitForEnd(jobId);
      expect(ended.status).toBe('FAILED');
      expect(ended.error).toBeDefined();
      expect(ended.error).toMatch(/reconnect/i);
      expect(ended.completedAt).not.toBeNull();
      expect(ended.syncedContacts).toBeGreaterThanOrEqual(running.syncedContacts);
      expect(ended.syncedContacts + ended.failedContacts).toBeLessThan(total);

      // Nothing moves after the failure, and the counters are exactly what was saved.
      await sleep(1000);
      const later = await jobStatus(jobId);
      expect(finalView(later)).toEqual(finalView(ended));
      const saved = await contactsOfJob(page.id, jobId);
      expect(saved.ofJob).toBe(ended.syncedContacts);
      expect(saved.all).toBe(ended.syncedContacts);

      // The page lock is released: no active job, and (with a valid token again) a new sync starts.
      const listed = await listedPage(page.id);
      expect(listed.activeJob).toBeNull();
      expect(listed.lastJob?.id).toBe(jobId);
      expect(listed.lastJob?.status).toBe('FAILED');
      expect(listed.contactCount).toBe(ended.syncedContacts);
      console.info(
        `[sync-faults] token error: revoked at ${running.syncedContacts} synced; job FAILED with ` +
          `${ended.syncedContacts} synced + ${ended.failedContacts} failed of ${ended.totalContacts} ` +
          `(${saved.ofJob} contacts saved); error: "${ended.error}"`,
      );
    } finally {
      graph().setFaults(null);
    }

    const next = await startSync(page.id);
    expect(next.status, next.text).toBe(202);
    const nextJobId = StartSyncResponse.strict().parse(next.body).jobId;
    expect(nextJobId).not.toBe(jobId);
    // Cleanup: stop the new sync so it does not load the stack during the next tests.
    const stop = await cancelSync(nextJobId);
    expect([200, 400], stop.text).toContain(stop.status);
    await waitForEnd(nextJobId);
  }, 90_000);

  it('retryable Graph faults (1, 2, 613, 80006, HTTP 500) do not fail the job; counts stay exact', async () => {
    const page = P.retryable;
    const total = totalOf(page);
    graph().resetStats();
    graph().setFaults({ rate: 0.3, codes: [1, 2, 613, 80006, 500] });
    let faultsInjected = 0;
    let jobId: string | undefined;
    try {
      jobId = await started(page.id);
      const ended = await waitForEnd(jobId);
      faultsInjected = graph().stats().faultsInjected;
      expect(ended.error).toBeUndefined();
      expect(ended).toMatchObject({ status: 'COMPLETED', totalContacts: total, progress: 100 });
      expect(ended.syncedContacts + ended.failedContacts).toBe(total);
    } finally {
      graph().setFaults(null);
      if (jobId) {
        const answer = await cancelSync(jobId);
        expect([200, 400], answer.text).toContain(answer.status);
      }
    }
    // The faults were really injected (the test would prove nothing otherwise).
    expect(faultsInjected).toBeGreaterThan(0);

    const final = await jobStatus(jobId);
    expect(final.status).toBe('COMPLETED');
    const saved = await contactsOfJob(page.id, jobId);
    expect(saved.ofJob).toBe(final.syncedContacts);
    expect(saved.all).toBe(final.syncedContacts);
    const listed = await listedPage(page.id);
    expect(listed.contactCount).toBe(final.syncedContacts);
    expect(listed.activeJob).toBeNull();
    console.info(
      `[sync-faults] retryable faults: ${faultsInjected} injected; job COMPLETED with ` +
        `${final.syncedContacts} synced + ${final.failedContacts} failed of ${final.totalContacts}`,
    );
  }, 120_000);
});

describe('cancelling at random points', () => {
  it(`never changes the counters after the acknowledgement (${CANCEL_TRIALS} seeded trials)`, async () => {
    const rng = mulberry32(CANCEL_PRNG_SEED);
    const outcomes: string[] = [];
    for (const [trial, page] of P.cancels.entries()) {
      const total = totalOf(page);
      const delayMs = Math.floor(rng() * (MAX_CANCEL_DELAY_MS + 1));
      const jobId = await started(page.id);
      await sleep(delayMs);
      const answer = await cancelSync(jobId);
      const label = `trial ${trial + 1} (delay ${delayMs} ms, job ${jobId})`;

      if (answer.status === 400) {
        // Finished before the cancel: the only other valid answer, with exact final counts.
        expect(ErrorBody.strict().parse(answer.body).error, label).toBe(
          'Cannot cancel job with status: COMPLETED',
        );
        const done = await jobStatus(jobId);
        expect(done, label).toMatchObject({ status: 'COMPLETED', totalContacts: total, progress: 100 });
        expect(done.syncedContacts + done.failedContacts, label).toBe(total);
        expect((await contactsOfJob(page.id, jobId)).ofJob, label).toBe(done.syncedContacts);
        outcomes.push(`${label}: COMPLETED first, synced ${done.syncedContacts}`);
        console.info(`[sync-faults] cancel ${outcomes.at(-1)}`);
        continue;
      }

      expect(answer.status, `${label}: ${answer.text}`).toBe(200);
      const ack = CancelSyncResponse.strict().parse(answer.body).job;
      expect(ack.id, label).toBe(jobId);
      const frozen = {
        status: 'CANCELLED',
        syncedContacts: ack.syncedContacts,
        failedContacts: ack.failedContacts,
        totalContacts: ack.totalContacts,
        completedAt: ack.completedAt,
      };

      await sleep(1500);
      expect(await jobStatus(jobId), `${label}: 1.5 s after the acknowledgement`).toMatchObject(frozen);
      await sleep(1000);
      expect(await jobStatus(jobId), `${label}: 2.5 s after the acknowledgement`).toMatchObject(frozen);

      const saved = await contactsOfJob(page.id, jobId);
      expect(saved.ofJob, `${label}: contacts written by the job`).toBe(ack.syncedContacts);
      expect(saved.all, `${label}: contacts of the page`).toBe(ack.syncedContacts);
      const listed = await listedPage(page.id);
      expect(listed.activeJob, `${label}: active job`).toBeNull();
      expect(listed.contactCount, `${label}: page contact count`).toBe(ack.syncedContacts);

      outcomes.push(
        `${label}: CANCELLED, synced ${ack.syncedContacts} failed ${ack.failedContacts} of ${ack.totalContacts} at ack`,
      );
      console.info(`[sync-faults] cancel ${outcomes.at(-1)}`);
    }
    expect(outcomes).toHaveLength(CANCEL_TRIALS);
  }, 120_000);
});
