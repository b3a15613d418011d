import fc from 'fast-check';
import { routePath } from '#shared/api/routes.ts';
import { CancelSyncResponse, ErrorBody, StartSyncResponse, SyncJobsResponse } from '#shared/contract.ts';
import { isActive } from '#shared/job-status.ts';
import { type HttpAnswer, type JobView, PATHS, sleep } from '#test/e2e/http-client.ts';
import type { SimPage } from '../../local/graph-sim/demo-data.ts';
import type { Harness, SectionResult } from './harness.ts';
import {
  CANCEL_REASON,
  checkSettled,
  counters,
  done,
  now,
  pool,
  Section,
  STUCK_AFTER_MS,
  Trial,
} from './observe.ts';

/**
 * The cancel-race section of the reliability harness: seeded trials that each start a sync of a
 * small page, cancel it at a drawn point of its life (before StartExecution returns, while the list is read,
 * mid-chunk, around an AI call, between the platforms, around finalize, after completion) plus a
 * random extra delay, and then check the cancellation protocol (docs/architecture.md):
 *   1. the job ends in exactly one terminal status, and never leaves it;
 *   2. a 200 cancel means CANCELLED, with counters and completedAt frozen at the acknowledgement;
 *   3. syncedContacts (failedContacts) equals what the job really wrote (its contacts, its markers);
 *   4. no contact duplicated, none of the page's earlier contacts lost;
 *   5. the page lock is released once the job is terminal;
 *   6. cancel answers 200 CANCELLED, or 400 "Cannot cancel job with status: COMPLETED" only when the
 *      job had completed; never a 5xx.
 * Every broken invariant becomes one precise line in `violations`; nothing throws on a violation.
 * The plan is drawn with fast-check from the seed, so a failing trial is replayed by its seed.
 */

export const CANCEL_POINTS = [
  'before-start',
  'discovery',
  'mid-chunk',
  'ai-call',
  'between-platforms',
  'finalize',
  'after-completion',
] as const;
export type CancelPoint = (typeof CANCEL_POINTS)[number];

export const CANCEL_POINT_LABELS: Record<CancelPoint, string> = {
  'before-start': 'before StartExecution returns',
  discovery: 'while the list is read',
  'mid-chunk': 'mid-chunk',
  'ai-call': 'during an AI call (a chunk half written)',
  'between-platforms': 'between the platforms',
  finalize: 'during finalize',
  'after-completion': 'after completion',
};

export interface TrialPlan {
  /** 1-based, in plan order. */
  trial: number;
  point: CancelPoint;
  /** Extra wait between the moment the point is seen and the cancel. */
  delayMs: number;
}

export interface TrialOutcome {
  plan: TrialPlan;
  pageId: string;
  jobId: string | null;
  /** HTTP status of the first cancel (0 when none was sent). */
  cancelStatus: number;
  finalStatus: string | null;
  /** Where the cancel landed, as observed: e.g. "CANCELLED at 7+0/18" or "COMPLETED first". */
  landed: string;
  durationMs: number;
}

export interface CancelRaceResult extends SectionResult {
  plan: TrialPlan[];
  outcomes: TrialOutcome[];
  durationMs: number;
}

const SECTION = 'cancel races';
/** The extra delay's range, for every point. */
export const MAX_EXTRA_DELAY_MS = 300;
/**
 * StartExecution's delay for the "before StartExecution returns" batch: the extra delay plus a
 * wide margin, because on a loaded 2-core machine seeing the job and committing the cancel can
 * take over a second. Each trial of that batch waits it out once.
 */
const START_DELAY_MS = MAX_EXTRA_DELAY_MS + 2200;
/**
 * The finalize Lambda's invocation delay for the "during finalize" batch. Without it the window
 * (last contact written -> COMPLETED) is 10-50 ms wide locally, and a cancel would only ever land
 * after completion. With it, finalize is running (invoked, its cold start under way) while the job
 * shows every conversation counted, as a slow Lambda would on AWS.
 */
const FINALIZE_DELAY_MS = MAX_EXTRA_DELAY_MS + 900;
const COMPLETED_ANSWER = 'Cannot cancel job with status: COMPLETED';

/**
 * The trials of a seed: every cancel point equally often (round robin, so 7+ trials cover all of
 * them), in an order and with extra delays drawn by fast-check. Deterministic per (trials, seed).
 */
export function planCancelRace(trials: number, seed: number): TrialPlan[] {
  if (trials <= 0) return [];
  const points = Array.from(
    { length: trials },
    (_, i) => CANCEL_POINTS[i % CANCEL_POINTS.length] as CancelPoint,
  );
  const arbitrary = fc.record({
    order: fc.shuffledSubarray(points, { minLength: trials, maxLength: trials }),
    // Per mille of the point's maximum delay, unbiased: spread over the range, not piled at 0.
    delays: fc.array(fc.noBias(fc.integer({ min: 0, max: 1000 })), { minLength: trials, maxLength: trials }),
  });
  const [drawn] = fc.sample(arbitrary, { seed, numRuns: 1 });
  if (!drawn) throw new Error('fast-check drew no plan');
  return drawn.order.map((point, i) => ({
    trial: i + 1,
    point,
    delayMs: Math.round(((drawn.delays[i] ?? 0) * MAX_EXTRA_DELAY_MS) / 1000),
  }));
}

export async function runCancelRace(
  h: Harness,
  opts: { trials: number; concurrency: number; seed: number },
): Promise<CancelRaceResult> {
  const began = performance.now();
  const plan = planCancelRace(opts.trials, opts.seed);
  const section = new Section(h, opts.seed);
  const outcomes: TrialOutcome[] = [];
  const concurrency = Math.max(1, opts.concurrency);

  const runOne = async (trial: TrialPlan) => {
    const page = await h.acquirePage();
    try {
      outcomes.push(await runTrial(section, page, trial));
    } finally {
      h.releasePage(page);
    }
  };

  // StartExecution's and finalize's delays are global to the engine: the trials that need one
  // run in their own batch. Warm the handlers first: a cold cancel Lambda could take longer than
  // the delay itself.
  const { sfn, lambdas } = h.stack;
  const batches: { point?: CancelPoint; widen: () => void; restore: () => void }[] = [
    {
      point: 'before-start',
      widen: () => {
        sfn.startDelayMs = START_DELAY_MS;
      },
      restore: () => {
        sfn.startDelayMs = 0;
      },
    },
    {
      point: 'finalize',
      widen: () => lambdas.invokeDelayMs.set('finalize-sync', FINALIZE_DELAY_MS),
      restore: () => lambdas.invokeDelayMs.delete('finalize-sync'),
    },
    { widen: () => {}, restore: () => {} },
  ];
  await section.warmUp();
  for (const batch of batches) {
    const trials = plan.filter((t) =>
      batch.point ? t.point === batch.point : !batches.some((b) => b.point === t.point),
    );
    batch.widen();
    try {
      await pool(trials, concurrency, runOne);
    } finally {
      batch.restore();
    }
  }

  outcomes.sort((a, b) => a.plan.trial - b.plan.trial);
  return {
    section: SECTION,
    trials: outcomes.length,
    faults: 0,
    inputs: 0,
    requests: section.requests,
    violations: section.violations,
    plan,
    outcomes,
    durationMs: Math.round(performance.now() - began),
  };
}

/** Per-point counts of a run, and where the cancels landed: what a report quotes. */
export function describeOutcomes(outcomes: TrialOutcome[]): string {
  return CANCEL_POINTS.map((point) => {
    const mine = outcomes.filter((o) => o.plan.point === point);
    const landed = mine.map((o) => `${o.landed} (+${o.plan.delayMs} ms)`).join('; ');
    return `${CANCEL_POINT_LABELS[point]}: ${mine.length} trial(s): ${landed}`;
  }).join('\n');
}

/**
 * Every trial imports its page in full: trials reuse pages, and an incremental re-sync of an
 * unchanged page would have nothing to cancel (the invariants count the whole page).
 */
const FULL_SYNC = (pageId: string) => ({ pageId, mode: 'full' });

/** When a trial's cancel point has come (or passed: a job that ended cannot be waited on). */
function reached(point: CancelPoint, job: JobView, page: SimPage, chunkSize: number): boolean {
  if (!isActive(job)) return true;
  const messenger = page.conversations.messenger.length;
  const total = messenger + page.conversations.instagram.length;
  switch (point) {
    case 'before-start':
      return true;
    case 'discovery':
      // Reading the conversation list: running, nothing written yet.
      return job.status === 'IN_PROGRESS' && done(job) === 0;
    case 'mid-chunk':
      return job.status === 'IN_PROGRESS' && job.syncedContacts > 0;
    case 'ai-call':
      // A chunk's conversations are analysed and written concurrently: a count that is not a
      // multiple of the chunk size means the rest of that chunk is being analysed right now.
      return (
        job.phase.startsWith('syncing:') &&
        (done(job) % chunkSize !== 0 || done(job) * 2 >= total) &&
        done(job) > 0
      );
    case 'between-platforms':
      return (
        job.phase === 'syncing:instagram' || (job.phase === 'syncing:messenger' && done(job) >= messenger)
      );
    case 'finalize':
      // Every conversation counted, the job still running: only finalize is left.
      return done(job) >= total;
    case 'after-completion':
      return false;
  }
}

/** Narrow windows (the platform switch, finalize) need a tighter poll. */
const pollMs = (point: CancelPoint) =>
  point === 'between-platforms' || point === 'finalize' || point === 'ai-call' ? 10 : 30;

async function runTrial(section: Section, page: SimPage, plan: TrialPlan): Promise<TrialOutcome> {
  const began = now();
  const t = new Trial(
    section,
    page,
    `trial ${plan.trial}: cancel ${CANCEL_POINT_LABELS[plan.point]} +${plan.delayMs} ms`,
  );
  const outcome: TrialOutcome = {
    plan,
    pageId: page.id,
    jobId: null,
    cancelStatus: 0,
    finalStatus: null,
    landed: 'not run',
    durationMs: 0,
  };
  try {
    await checkTrial(t, plan, outcome);
  } catch (error) {
    const where = (error as Error).stack?.split('\n').slice(0, 3).join(' ') ?? String(error);
    t.violate('-', `the trial threw: ${where}`);
  }
  outcome.jobId = t.jobId;
  outcome.durationMs = Math.round(now() - began);
  return outcome;
}

async function checkTrial(t: Trial, plan: TrialPlan, outcome: TrialOutcome): Promise<void> {
  const { page, section } = t;
  const chunkSize = Number(process.env.CHUNK_SIZE ?? 3) || 3;

  // The page must be idle before it is reused.
  if (!(await t.waitForIdlePage('before the trial'))) {
    outcome.landed = 'page never became idle';
    return;
  }
  const before = await section.contactsOf(page.id);

  // Start the sync. "Before StartExecution returns": the job is visible (PENDING, holding the page
  // lock) while start-sync still waits for the delayed StartExecution.
  let startAnswer: Promise<HttpAnswer> | undefined;
  let startReturnedAt = Number.POSITIVE_INFINITY;
  if (plan.point === 'before-start') {
    startAnswer = t.post(PATHS.start, FULL_SYNC(page.id)).then((answer) => {
      startReturnedAt = now();
      return answer;
    });
    t.jobId = await activeJobOfPage(t, () => startReturnedAt < Number.POSITIVE_INFINITY);
    if (!t.jobId) {
      const answer = await startAnswer;
      t.jobId = StartSyncResponse.safeParse(answer.body).data?.jobId ?? null;
      if (!t.jobId) {
        t.violate(1, `start-sync answered ${answer.status} ${answer.text}`);
        outcome.landed = 'start failed';
        return;
      }
    }
  } else {
    const answer = await t.post(PATHS.start, FULL_SYNC(page.id));
    const started = StartSyncResponse.safeParse(answer.body);
    if (answer.status !== 202 || !started.success) {
      t.violate(1, `start-sync answered ${answer.status} ${answer.text}`);
      outcome.landed = 'start failed';
      return;
    }
    t.jobId = started.data.jobId;
  }
  const jobId = t.jobId;

  // Wait for the cancel point (bounded), then the extra delay, then cancel.
  let seen: JobView | null = null;
  if (plan.point !== 'before-start') {
    const deadline = now() + STUCK_AFTER_MS;
    for (;;) {
      seen = await t.job(jobId);
      if (seen && reached(plan.point, seen, page, chunkSize)) break;
      if (now() > deadline) {
        t.violate(
          1,
          `job still ${seen?.status} (phase ${seen?.phase}) ${STUCK_AFTER_MS / 1000} s after start`,
        );
        break;
      }
      await sleep(pollMs(plan.point));
    }
  }
  await sleep(plan.delayMs);
  // Where the job is as the cancel leaves: one read sent alongside it, for the report only.
  const cancelSentAt = Date.now();
  const [atCancel, cancelAnswer] = await Promise.all([
    plan.point === 'before-start' ? null : t.job(jobId),
    t.cancel(jobId),
  ]);
  const ackAt = now();
  const acknowledgedAt = new Date().toISOString();
  outcome.cancelStatus = cancelAnswer.status;

  if (startAnswer) {
    const answer = await startAnswer;
    if (answer.status !== 202) t.violate(1, `start-sync answered ${answer.status} ${answer.text}`);
  }

  // Invariant 6: the answer to cancel.
  let ack: {
    syncedContacts: number;
    failedContacts: number;
    totalContacts: number;
    completedAt: string;
  } | null = null;
  let completedFirst = false;
  if (cancelAnswer.status === 200) {
    const parsed = CancelSyncResponse.strict().safeParse(cancelAnswer.body);
    if (!parsed.success) t.violate(6, `200 cancel body does not match the contract: ${cancelAnswer.text}`);
    else if (parsed.data.job.id !== jobId) t.violate(6, `200 cancel names job ${parsed.data.job.id}`);
    else ack = parsed.data.job;
    if (plan.point === 'after-completion')
      t.violate(6, `cancel of a job seen ${seen?.status} answered 200: ${cancelAnswer.text}`);
  } else if (cancelAnswer.status === 400) {
    const error = ErrorBody.strict().safeParse(cancelAnswer.body).data?.error;
    if (error === COMPLETED_ANSWER) completedFirst = true;
    else t.violate(6, `cancel answered 400 "${error ?? cancelAnswer.text}"`);
  } else if (cancelAnswer.status < 500) {
    t.violate(6, `cancel answered ${cancelAnswer.status}: ${cancelAnswer.text}`);
  }

  // Invariant 1: the job ends, in one terminal status.
  const final = await t.waitForTerminal(jobId);
  const finalAt = now();
  outcome.finalStatus = final?.status ?? null;
  if (!final) {
    outcome.landed = 'never ended';
    return;
  }
  if (final.status === 'FAILED') t.violate(1, `job FAILED without any injected fault: ${final.error}`);
  if (final.completedAt === null) t.violate(1, `terminal job ${final.status} has no completedAt`);
  if (completedFirst && final.status !== 'COMPLETED')
    t.violate(6, `cancel answered "${COMPLETED_ANSWER}" but the job is ${final.status}`);

  // Invariant 2: a 200 cancel is the commit point.
  if (ack) {
    if (final.status !== 'CANCELLED') t.violate(2, `cancel answered 200 but the job is ${final.status}`);
    if (
      final.syncedContacts !== ack.syncedContacts ||
      final.failedContacts !== ack.failedContacts ||
      final.completedAt !== ack.completedAt
    )
      t.violate(2, `acknowledged ${counters(ack)}; job shows ${counters(final)} after the acknowledgement`);
    if (final.cancelReason !== CANCEL_REASON) t.violate(2, `cancelReason is ${final.cancelReason}`);
  }
  if (final.status === 'CANCELLED' && !ack && cancelAnswer.status === 200)
    t.violate(2, 'job CANCELLED, but the 200 cancel body was unusable');
  if (final.status === 'CANCELLED' && cancelAnswer.status !== 200)
    t.violate(6, `job ended CANCELLED but the cancel answered ${cancelAnswer.status}`);
  if (final.status === 'COMPLETED') {
    const total = page.conversations.messenger.length + page.conversations.instagram.length;
    if (final.totalContacts !== total || done(final) !== total || final.progress !== 100)
      t.violate(
        3,
        `COMPLETED with ${final.syncedContacts}+${final.failedContacts} of totalContacts ${final.totalContacts}, progress ${final.progress}; the page has ${total} conversations`,
      );
  }
  if (final.status === 'CANCELLED' && final.startedAt === null && done(final) !== 0)
    t.violate(2, `cancelled while PENDING (never started), yet ${counters(final)}`);

  const later = await checkSettled(
    t,
    final,
    before,
    finalAt,
    cancelAnswer.status === 200 ? acknowledgedAt : undefined,
  );

  // Cancel again (the double click): idempotent for a cancelled job, still 400 for a completed one.
  const again = await t.cancel(jobId);
  if (final.status === 'CANCELLED') {
    const parsed = CancelSyncResponse.strict().safeParse(again.body);
    if (again.status !== 200 || !parsed.success)
      t.violate(6, `repeated cancel answered ${again.status} ${again.text}`);
    else if (
      parsed.data.job.syncedContacts !== final.syncedContacts ||
      parsed.data.job.failedContacts !== final.failedContacts ||
      parsed.data.job.completedAt !== final.completedAt
    )
      t.violate(2, `repeated cancel shows ${counters(parsed.data.job)}, the job ${counters(final)}`);
  } else if (final.status === 'COMPLETED') {
    const error = ErrorBody.safeParse(again.body).data?.error;
    if (again.status !== 400 || error !== COMPLETED_ANSWER)
      t.violate(6, `repeated cancel of a COMPLETED job answered ${again.status} ${again.text}`);
  }

  // The job's status is the same everywhere it is shown.
  const jobs = await t.get(routePath('syncJobs', { pageId: page.id }));
  const history = SyncJobsResponse.safeParse(jobs.body).data?.jobs.find((j) => j.id === jobId);
  if (jobs.status !== 200 || !history) t.violate(1, `sync-jobs answered ${jobs.status} without the job`);
  else if (history.status !== final.status)
    t.violate(1, `sync-jobs shows ${history.status}, sync-status ${final.status}`);

  // Before StartExecution returned: the cancel found no execution to stop. The execution that
  // starts afterwards must leave the job alone (Mark job in progress is conditional on PENDING).
  let early = '';
  if (plan.point === 'before-start' && final.status === 'CANCELLED') {
    const item = await section.jobItem(jobId);
    const outcomeOfStop = String(item?.stopExecutionOutcome);
    const answered = ackAt < startReturnedAt ? 'before' : 'after';
    if (outcomeOfStop === 'NO_EXECUTION') {
      early = `CANCELLED before StartExecution returned (no execution to stop; start-sync answered ${answered})`;
      if (later && (later.startedAt !== null || later.status !== 'CANCELLED' || done(later) !== 0))
        t.violate(
          2,
          `cancelled before its execution existed, yet the execution moved it: ${later.status}, startedAt ${later.startedAt}, ${counters(later)}`,
        );
    } else {
      early = `CANCELLED after StartExecution (${final.startedAt ? 'job started' : 'still PENDING'}, StopExecution ${outcomeOfStop}; start-sync answered ${answered})`;
    }
  }

  outcome.landed =
    final.status === 'CANCELLED'
      ? plan.point === 'before-start'
        ? early
        : `CANCELLED at ${final.syncedContacts}+${final.failedContacts}/${final.totalContacts}${atCancel ? ` (cancel sent in ${atCancel.phase}, seen at ${atCancel.syncedContacts}/${atCancel.totalContacts})` : ''}`
      : `${final.status} first, the cancel sent ${cancelSentAt - Date.parse(final.completedAt ?? '')} ms after completedAt${seen ? ` (point seen as ${seen.status} ${seen.phase} ${seen.syncedContacts}/${seen.totalContacts})` : ''}`;
}

async function activeJobOfPage(t: Trial, gaveUp: () => boolean): Promise<string | null> {
  const deadline = now() + STUCK_AFTER_MS;
  while (!gaveUp() && now() < deadline) {
    const listed = await t.listedPage();
    if (listed?.activeJob) return listed.activeJob.id;
    await sleep(10);
  }
  return null;
}

/** Polls sync-status until the job is terminal; null (with a violation) if it stays active. */
