import { CancelSyncResponse, ErrorBody, StartSyncResponse } from '#shared/contract.ts';
import { type JobView, PATHS, sleep } from '#test/e2e/http-client.ts';
import type { SimPage } from '../../local/graph-sim/demo-data.ts';
import type { Harness, SectionResult } from './harness.ts';
import { checkSettled, counters, done, now, Section, STUCK_AFTER_MS, Trial } from './observe.ts';

/**
 * The faults section of the reliability harness: each trial injects one fault into a real sync on
 * the embedded stack and checks that the job ends in the terminal status the fault calls for, with
 * exact counters (the checks of observe.ts: syncedContacts equals the contacts carrying the job,
 * failedContacts its failure markers, nothing duplicated or lost, the lock released, nothing moving
 * afterwards). A trial whose fault was never injected is a violation too: it would prove nothing.
 *
 * - Graph errors 1, 2, 4, 17, 32, 613, 80006 and HTTP 500: the sync's first Graph call, then calls
 *   at a configurable rate; absorbed by the client's backoff and the chunk retries, so the job
 *   COMPLETES with every conversation counted.
 * - A revoked token (190) mid-sync: FAILED, with a message that tells the user to reconnect.
 * - A worker crash mid-chunk: every commit of the job after its k-th is throttled until a chunk
 *   invocation has died of it (the exception after k commits); the retried chunk finishes the job,
 *   and no conversation is counted twice. COMPLETED.
 * - DynamoDB throttling: the job's first commit and a share of the others are throttled
 *   (ProvisionedThroughputExceeded); the SDK's and the workflow's retries absorb it. COMPLETED.
 * - Transaction conflicts: half of the job's commits are cancelled because another transaction
 *   holds the job item, on top of the conflicts the stack's conflict model produces anyway; the
 *   client's conflict retry absorbs them. COMPLETED.
 * - Ambiguous commits: a share of the job's commits is applied, then the connection drops before
 *   the answer (a timeout on AWS). The SDK sends the same request again with the same client token,
 *   which DynamoDB answers without applying it twice; whatever retries with a new token finds its
 *   contacts already carrying the job. COMPLETED, nothing counted twice.
 * - StopExecution failing: the cancel still answers 200 (the job is CANCELLED at the commit point),
 *   the running execution stops itself at its next cancel check and writes nothing after the
 *   acknowledgement. CANCELLED, and every execution of the job ends.
 * - StartExecution failing: start-sync answers 503 {error}; the job is FAILED, nothing is written,
 *   the lock is free, and the next start works.
 */

export const FAULT_KINDS = [
  'graph-errors',
  'token-revoked',
  'worker-crash',
  'dynamodb-throttling',
  'transaction-conflicts',
  'ambiguous-commits',
  'stop-execution-fails',
  'start-execution-fails',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const LABELS: Record<FaultKind, string> = {
  'graph-errors': 'Graph errors 1/2/4/17/32/613/80006/500',
  'token-revoked': 'token revoked (190) mid-sync',
  'worker-crash': 'worker crash after k writes',
  'dynamodb-throttling': 'DynamoDB throttling',
  'transaction-conflicts': 'transaction conflicts on the job item',
  'ambiguous-commits': 'commits applied, answer lost',
  'stop-execution-fails': 'StopExecution failing',
  'start-execution-fails': 'StartExecution failing',
};

export const RETRYABLE_GRAPH_CODES = [1, 2, 4, 17, 32, 613, 80006, 500];
const SECTION = 'faults';
const THROTTLE_RATE = 0.3;
const CONFLICT_RATE = 0.5;
const AMBIGUOUS_RATE = 0.4;

export interface FaultOutcome {
  kind: FaultKind;
  trial: number;
  jobId: string | null;
  finalStatus: string | null;
  /** Faults the simulator, the DynamoDB proxy or the SFN endpoint really injected. */
  injected: number;
  detail: string;
}

export interface FaultsResult extends SectionResult {
  outcomes: FaultOutcome[];
  durationMs: number;
}

/**
 * Runs `trialsPerKind` trials of every fault kind, one at a time (the faults are global to the
 * simulator and the endpoints), each on a page of the harness.
 */
export async function runFaults(
  h: Harness,
  opts: { trialsPerKind: number; seed: number; graphErrorRate?: number },
): Promise<FaultsResult> {
  const began = now();
  const section = new Section(h, opts.seed);
  if (!h.stack.dynamoFaults)
    throw new Error('the faults section needs startHarness({ dynamoDbFaults: true })');
  const outcomes: FaultOutcome[] = [];
  let trial = 0;
  for (let round = 0; round < opts.trialsPerKind; round++) {
    for (const kind of FAULT_KINDS) {
      trial++;
      const page = await h.acquirePage();
      const t = new Trial(section, page, `fault trial ${trial}: ${LABELS[kind]}`);
      const outcome: FaultOutcome = { kind, trial, jobId: null, finalStatus: null, injected: 0, detail: '' };
      try {
        await FAULTS[kind](t, outcome, { seed: opts.seed + trial, rate: opts.graphErrorRate ?? 0.1 });
      } catch (error) {
        const where = (error as Error).stack?.split('\n').slice(0, 3).join(' ') ?? String(error);
        t.violate('-', `the trial threw: ${where}`);
      } finally {
        clearFaults(h);
        h.releasePage(page);
      }
      outcome.jobId = t.jobId;
      if (outcome.injected === 0 && outcome.detail !== 'not run')
        t.violate('fault', 'no fault was injected: the trial proves nothing');
      outcomes.push(outcome);
    }
  }
  return {
    section: SECTION,
    trials: outcomes.length,
    faults: outcomes.reduce((sum, o) => sum + o.injected, 0),
    inputs: 0,
    requests: section.requests,
    violations: section.violations,
    outcomes,
    durationMs: Math.round(now() - began),
  };
}

/** One line per kind: the outcomes, for a report. */
export function describeFaults(outcomes: FaultOutcome[]): string {
  return FAULT_KINDS.map((kind) => {
    const mine = outcomes.filter((o) => o.kind === kind);
    return `${LABELS[kind]}: ${mine.map((o) => `${o.finalStatus} (${o.injected} injected; ${o.detail})`).join('; ')}`;
  }).join('\n');
}

// ---------------------------------------------------------------------------------------------

type FaultTrial = (t: Trial, outcome: FaultOutcome, opts: { seed: number; rate: number }) => Promise<void>;

const FAULTS: Record<FaultKind, FaultTrial> = {
  'graph-errors': async (t, outcome, { seed, rate }) => {
    const graph = simulator(t);
    const injectedBefore = graph.stats().faultsInjected;
    // The first Graph call of the sync always fails (a sync makes only a few calls: at a low rate
    // none might), then calls fail at `rate` until the end.
    graph.setFaults({ rate: 1, codes: RETRYABLE_GRAPH_CODES, seed });
    const begun = await begin(t, outcome);
    if (!begun) return;
    const deadline = now() + STUCK_AFTER_MS;
    while (graph.stats().faultsInjected === injectedBefore && now() < deadline) await sleep(5);
    graph.setFaults({ rate, codes: RETRYABLE_GRAPH_CODES, seed });
    const final = await settle(t, outcome, begun.before);
    outcome.injected = graph.stats().faultsInjected - injectedBefore;
    if (final) expectCompleted(t, final);
    outcome.detail = `rate ${rate}; ${final ? counters(final) : 'never ended'}`;
  },

  'token-revoked': async (t, outcome, { seed }) => {
    const graph = simulator(t);
    const begun = await begin(t, outcome);
    if (!begun) return;
    const running = await waitFor(t, begun.jobId, (j) => j.syncedContacts > 0);
    const injectedBefore = graph.stats().faultsInjected;
    graph.setFaults({ rate: 1, codes: [190], seed });
    const final = await settle(t, outcome, begun.before);
    outcome.injected = graph.stats().faultsInjected - injectedBefore;
    if (!final) return;
    outcome.detail = `revoked at ${running ? done(running) : '?'} done; ${counters(final)}; "${final.error}"`;
    // The revocation may come after the sync's last Graph call: then nothing was injected, and
    // the job rightly completes (the trial is flagged as proving nothing).
    if (outcome.injected > 0) {
      if (final.status !== 'FAILED') t.violate(1, `token revoked, yet the job ended ${final.status}`);
      else if (!/reconnect/i.test(final.error ?? ''))
        t.violate(1, `FAILED without telling the user to reconnect: "${final.error}"`);
      if (done(final) >= totalOf(t.page))
        t.violate(3, `FAILED after a revoked token, yet every conversation is counted: ${counters(final)}`);
    }
  },

  'worker-crash': async (t, outcome, { seed }) => {
    const proxy = dynamoProxy(t);
    const begun = await begin(t, outcome);
    if (!begun) return;
    // k in 1..4: a sync commits at least once per chunk (6 chunks here), so the crash lands on a
    // commit in the middle of the sync, not after the last one.
    const k = 1 + (seed % 4);
    proxy.setFault({ match: begun.jobId, after: k });
    const crashed = await waitForTaskFailure(t, begun.jobId, 'ProvisionedThroughputExceededException');
    outcome.injected = proxy.stats().injected;
    proxy.setFault(null);
    if (!crashed) t.violate('fault', `no chunk invocation died after ${k} writes`);
    const final = await settle(t, outcome, begun.before);
    if (final) expectCompleted(t, final);
    outcome.detail = `crash after ${k} commits (${crashed ?? 'no failed task'}); ${final ? counters(final) : 'never ended'}`;
  },

  'dynamodb-throttling': async (t, outcome, { seed }) => {
    const proxy = dynamoProxy(t);
    const begun = await begin(t, outcome);
    if (!begun) return;
    proxy.setFault({ match: begun.jobId, rate: THROTTLE_RATE, initial: 1, seed });
    const final = await settle(t, outcome, begun.before);
    outcome.injected = proxy.stats().injected;
    if (final) expectCompleted(t, final);
    outcome.detail = `${outcome.injected} of ${proxy.stats().matched} writes throttled; ${final ? counters(final) : 'never ended'}`;
  },

  'transaction-conflicts': async (t, outcome, { seed }) => {
    const proxy = dynamoProxy(t);
    const begun = await begin(t, outcome);
    if (!begun) return;
    proxy.setFault({ match: begun.jobId, rate: CONFLICT_RATE, initial: 1, seed, error: 'conflict' });
    const final = await settle(t, outcome, begun.before);
    outcome.injected = proxy.stats().injected;
    if (final) expectCompleted(t, final);
    outcome.detail = `${outcome.injected} of ${proxy.stats().matched} writes cancelled by a conflict; ${final ? counters(final) : 'never ended'}`;
  },

  'ambiguous-commits': async (t, outcome, { seed }) => {
    const proxy = dynamoProxy(t);
    const begun = await begin(t, outcome);
    if (!begun) return;
    const replaysBefore = proxy.conflicts().replays;
    proxy.setFault({ match: begun.jobId, rate: AMBIGUOUS_RATE, initial: 1, seed, error: 'ambiguous' });
    const final = await settle(t, outcome, begun.before);
    outcome.injected = proxy.stats().injected;
    const replays = proxy.conflicts().replays - replaysBefore;
    if (final) expectCompleted(t, final);
    // Each lost answer is followed by the SDK's retry with the same client token: a replay.
    if (outcome.injected > 0 && replays === 0)
      t.violate('fault', 'answers were lost, yet no commit was sent again with its client token');
    outcome.detail = `${outcome.injected} of ${proxy.stats().matched} commits applied with the answer lost, ${replays} replayed by token; ${final ? counters(final) : 'never ended'}`;
  },

  'stop-execution-fails': async (t, outcome) => {
    const { sfn } = t.section.h.stack;
    const begun = await begin(t, outcome);
    if (!begun) return;
    const { jobId } = begun;
    await waitFor(t, jobId, (j) => j.syncedContacts > 0);
    sfn.failing.add('StopExecution');
    const answer = await t.cancel(jobId);
    const ack = CancelSyncResponse.strict().safeParse(answer.body);
    const item = await t.section.jobItem(jobId);
    outcome.injected = String(item?.stopExecutionOutcome).startsWith('FAILED') ? 1 : 0;
    const final = await settle(t, outcome, begun.before);
    if (answer.status === 400 && final?.status === 'COMPLETED') {
      outcome.detail = 'completed before the cancel (nothing to stop)';
      return;
    }
    if (answer.status !== 200 || !ack.success) {
      t.violate(6, `cancel with StopExecution failing answered ${answer.status} ${answer.text}`);
      return;
    }
    if (!final) return;
    if (final.status !== 'CANCELLED') t.violate(2, `cancel answered 200 but the job is ${final.status}`);
    const a = ack.data.job;
    if (
      a.syncedContacts !== final.syncedContacts ||
      a.failedContacts !== final.failedContacts ||
      a.completedAt !== final.completedAt
    )
      t.violate(2, `acknowledged ${counters(a)}; the job shows ${counters(final)}`);
    // Not stopped by the API, the executions must stop themselves at their next cancel check.
    const running = await waitForExecutionsToEnd(t, jobId);
    if (running.length > 0)
      t.violate(
        1,
        `executions still RUNNING ${STUCK_AFTER_MS / 1000} s after the cancel: ${running.join(', ')}`,
      );
    outcome.detail = `stop outcome "${item?.stopExecutionOutcome}"; ${counters(final)}; executions drained`;
  },

  'start-execution-fails': async (t, outcome) => {
    const { sfn } = t.section.h.stack;
    const before = await prepare(t, outcome);
    if (!before) return;
    sfn.failing.add('StartExecution');
    // Sent without Trial.post: the 503 is the right answer here, not a violation.
    const { http, tokens } = t.section.h;
    t.section.requests++;
    const answer = await http.post(PATHS.start, tokens.demo, { pageId: t.page.id });
    sfn.failing.delete('StartExecution');
    const error = ErrorBody.strict().safeParse(answer.body);
    if (answer.status !== 503 || !error.success)
      t.violate(6, `start with StartExecution failing answered ${answer.status} ${answer.text}`);
    else outcome.injected = 1;
    const listed = await t.listedPage();
    const jobId = listed?.lastJob?.id ?? null;
    if (!jobId || listed?.lastJob?.status !== 'FAILED') {
      t.violate(1, `after a failed start the page shows lastJob ${JSON.stringify(listed?.lastJob)}`);
      return;
    }
    t.jobId = jobId;
    const final = await settle(t, outcome, before);
    if (final && (final.startedAt !== null || done(final) !== 0))
      t.violate(
        3,
        `a job whose execution never started shows ${counters(final)}, startedAt ${final.startedAt}`,
      );
    // The page is free: the next start is accepted and runs to the end.
    const next = await start(t);
    if (next) {
      const ended = await t.waitForTerminal(next);
      if (ended) expectCompleted(t, ended);
    }
    outcome.detail = `503 "${error.data?.error}"; job ${final?.status}; next start ${next ? 'ran' : 'refused'}`;
  },
};

function clearFaults(h: Harness): void {
  h.stack.graph?.setFaults(null);
  h.stack.dynamoFaults?.setFault(null);
  h.stack.sfn.failing.clear();
}

function simulator(t: Trial) {
  const graph = t.section.h.stack.graph;
  if (!graph) throw new Error('the faults section needs the Graph simulator');
  return graph;
}

function dynamoProxy(t: Trial) {
  const proxy = t.section.h.stack.dynamoFaults;
  if (!proxy) throw new Error('the faults section needs the DynamoDB fault proxy');
  return proxy;
}

const totalOf = (page: SimPage) => page.conversations.messenger.length + page.conversations.instagram.length;

/** Waits for the page to be idle and returns its contacts before the trial (null: not run). */
async function prepare(t: Trial, outcome: FaultOutcome) {
  if (!(await t.waitForIdlePage('before the trial'))) {
    outcome.detail = 'not run';
    return null;
  }
  return t.section.contactsOf(t.page.id);
}

/** `prepare`, then `start`: the contacts before and the job, or null when the trial cannot go on. */
async function begin(t: Trial, outcome: FaultOutcome) {
  const before = await prepare(t, outcome);
  const jobId = before && (await start(t));
  return before && jobId ? { before, jobId } : null;
}

/** Starts a sync of the trial's page; its job id, or null (with a violation). */
async function start(t: Trial): Promise<string | null> {
  // In full: trials reuse pages, and each fault must meet a whole import, not an incremental check.
  const answer = await t.post(PATHS.start, { pageId: t.page.id, mode: 'full' });
  const started = StartSyncResponse.safeParse(answer.body);
  if (answer.status !== 202 || !started.success) {
    t.violate(1, `start-sync answered ${answer.status} ${answer.text}`);
    return null;
  }
  t.jobId = started.data.jobId;
  return t.jobId;
}

/** Polls sync-status until `until` holds or the job ends (bounded). */
async function waitFor(t: Trial, jobId: string, until: (job: JobView) => boolean): Promise<JobView | null> {
  const deadline = now() + STUCK_AFTER_MS;
  let job: JobView | null = null;
  while (now() < deadline) {
    job = await t.job(jobId);
    if (!job || until(job) || !['PENDING', 'IN_PROGRESS'].includes(job.status)) return job;
    await sleep(20);
  }
  return job;
}

/** Waits for the job to end, then runs the common checks; the terminal job, or null. */
async function settle(t: Trial, outcome: FaultOutcome, before: Awaited<ReturnType<typeof prepare>>) {
  const jobId = t.jobId;
  if (!jobId || !before) return null;
  const final = await t.waitForTerminal(jobId);
  outcome.finalStatus = final?.status ?? null;
  if (!final) return null;
  await checkSettled(t, final, before, now());
  return final;
}

/** A fault the workflow absorbs: the job completes with every conversation counted once. */
function expectCompleted(t: Trial, final: JobView): void {
  const total = totalOf(t.page);
  if (final.status !== 'COMPLETED')
    t.violate(1, `the fault should have been absorbed, yet the job ended ${final.status}: ${final.error}`);
  else if (final.totalContacts !== total || done(final) !== total || final.progress !== 100)
    t.violate(
      3,
      `COMPLETED with ${counters(final)} of totalContacts ${final.totalContacts}; the page has ${total} conversations`,
    );
}

/** The job's executions (its own, and those it continued in), from the local Step Functions. */
function executionsOf(t: Trial, jobId: string) {
  const { sfn, machines } = t.section.h.stack;
  return machines.flatMap((m) =>
    sfn
      .ListExecutions({ stateMachineArn: m.arn, maxResults: 100_000 })
      .executions.filter((e) => e.name === jobId || e.name.startsWith(`${jobId}-`)),
  );
}

/** Waits (bounded) for a task of the job to fail with `error`; the failed state's name, or null. */
async function waitForTaskFailure(t: Trial, jobId: string, error: string): Promise<string | null> {
  const { sfn } = t.section.h.stack;
  const deadline = now() + STUCK_AFTER_MS;
  while (now() < deadline) {
    for (const e of executionsOf(t, jobId)) {
      const { events } = sfn.GetExecutionHistory({ executionArn: e.executionArn, maxResults: 100_000 });
      const failed = events.find(
        (ev) =>
          ev.type === 'TaskFailed' && (ev.taskFailedEventDetails as { error?: string })?.error === error,
      );
      if (failed) return `${error} in ${e.name}`;
    }
    await sleep(20);
  }
  return null;
}

/** Waits (bounded) until none of the job's executions is RUNNING; those still running. */
async function waitForExecutionsToEnd(t: Trial, jobId: string): Promise<string[]> {
  const deadline = now() + STUCK_AFTER_MS;
  for (;;) {
    const running = executionsOf(t, jobId)
      .filter((e) => e.status === 'RUNNING')
      .map((e) => e.name);
    if (running.length === 0 || now() > deadline) return running;
    await sleep(100);
  }
}
