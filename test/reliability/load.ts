import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import autocannon from 'autocannon';
import { routePath } from '#shared/api/routes.ts';
import {
  CancelSyncResponse,
  ConflictBody,
  ErrorBody,
  PagesResponse,
  StartSyncResponse,
  SyncJobsResponse,
} from '#shared/contract.ts';
import { isActive } from '#shared/job-status.ts';
import { finalView, type JobView, PATHS, StrictStatus, sleep } from '#test/e2e/http-client.ts';
import { storedContacts } from '#test/e2e/stored-items.ts';
import { mulberry32, type SimPage } from '../../local/graph-sim/demo-data.ts';
import type { Harness, SectionResult } from './harness.ts';

/**
 * The load section of the reliability harness: the UI's polling (GET sync-status of jobs that
 * exist, GET pages) from autocannon, while start/cancel loops run on `opts.pages` pages at once
 * (POST sync-background, a pause or a watch of the job, POST sync-cancel of the returned job,
 * again). Latency p50/p99 are autocannon's, over the polls.
 *
 * Every response status is collected. Allowed: 200 for the reads; 202 or 409 for a start; 200 or
 * 400 "Cannot cancel job with status: COMPLETED" for a cancel. Any 5xx, any other status, a
 * malformed body or a connection error is a violation. While the traffic runs:
 * - a terminal state is final: once one is seen (a cancel's acknowledgement, a 400 COMPLETED, a
 *   read), every other terminal state seen for the job must be the same (status, counters, and
 *   the whole view between reads), and no read sent afterwards may show the job active;
 * - once a job is terminal, the contacts carrying its id are counted in DynamoDB before the
 *   page's next start: they must equal its final `syncedContacts`.
 * After the traffic (every job and execution terminal, bounded waits), for every job started:
 * one terminal status, the one the loop saw (sync-status twice, 1 s apart, identical; listed
 * once in sync-jobs with that status); the acknowledged counters of cancelled jobs unchanged;
 * COMPLETED jobs count every conversation; no page left locked (GET pages activeJob null, and
 * no lock on the page item); a page's contactCount equals its stored contacts; no job has more
 * contacts carrying its id than it counted, and each page's last job has all of them.
 */

const SEED = 20261105;
/**
 * Where a cycle's cancel lands (a sync of the harness's 18 conversations takes ~5 s unloaded, at
 * the Graph's 2 calls/s, and longer under load, so the cycles watch their job rather than guess):
 * - early: after a random pause of up to EARLY_MS (PENDING, starting, discovery);
 * - mid: once the job has saved k contacts (k from 1 to 9, within the first platform), then up to
 *   MID_MS later: at and between chunk writes, around the continue-as-new;
 * - late: once all contacts (or all but the last chunk) are saved, then up to LATE_MS later: the
 *   race with finalize (400 COMPLETED or 200). Every sixth cycle (the first included) of every
 *   fifth page; these finish even when the polls have ended (bounded by LATE_WAIT_MS).
 * A cycle watches its job by polling it every WATCH_MS, as the UI does.
 */
type CycleKind = 'early' | 'mid' | 'late';
const EARLY_MS = 1000;
const MID_MS = 800;
const LATE_MS = 1600;
const WATCH_MS = 500;
const EARLY_SHARE = 0.35;
function kindOf(pageIndex: number, cycle: number, rng: () => number): CycleKind {
  if (cycle % 6 === 0 && pageIndex % 5 === 0) return 'late';
  return rng() < EARLY_SHARE ? 'early' : 'mid';
}
/** Share of `opts.requests` that the start/cancel loops send at least (the rest: autocannon). */
const CYCLE_SHARE = 0.15;
/**
 * By default the polls are paced to last at least this long: a short run polls at a steady rate
 * (as a UI's timers do) rather than flat out, so the syncs keep enough CPU to reach every stage
 * (discovery, chunks, the platform switch, finalize) while the polls run and the cancels land in
 * all of them. A long run is not slowed down (20,000 requests take far longer than this anyway).
 */
const MIN_POLL_SECONDS = 14;
/** One in this many polls is GET pages (heavy: every page with its jobs); the rest sync-status. */
const PAGES_POLL_EVERY = 20;
/** A page stays locked (409) after its job ended for at most this long. */
const MAX_LOCKED_MS = 5000;
/** Bounded waits: start/cancel after the polls end (to reach their share), a cycle's watch,
 * every job and execution terminal after the traffic. */
const LOOP_DEADLINE_MS = 60_000;
const LATE_WAIT_MS = 20_000;
const SETTLE_DEADLINE_MS = 20_000;

type Counters = Pick<
  JobView,
  'status' | 'syncedContacts' | 'failedContacts' | 'totalContacts' | 'completedAt'
>;

/** What is known of a job's end, and since when (performance.now()). */
interface TerminalFact {
  at: number;
  source: string;
  status: JobView['status'];
  /** Unknown for a cancel answered 400 COMPLETED. */
  counters?: Counters;
  /** The whole job, when the fact comes from a read. */
  job?: ReturnType<typeof finalView>;
}

interface StartedJob {
  jobId: string;
  pageId: string;
  /** The outcome the start/cancel loop saw. */
  outcome?: 'CANCELLED' | 'COMPLETED';
  ack?: Counters;
  /** Contacts carrying the job id, counted once the job was terminal and before the next start. */
  savedAtEnd?: number;
  kind?: CycleKind;
}

interface PollContext {
  route?: string;
  jobId?: string;
  sentAt?: number;
}

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);
const counters = (job: Counters): Counters => ({
  status: job.status,
  syncedContacts: job.syncedContacts,
  failedContacts: job.failedContacts,
  totalContacts: job.totalContacts,
  completedAt: job.completedAt,
});
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
const clip = (text: string, max = 300) => (text.length > max ? `${text.slice(0, max)}…` : text);

export async function runLoad(
  h: Harness,
  opts: {
    requests: number;
    pages: number;
    connections?: number;
    /**
     * Polls per second offered; 0 polls as fast as the API answers. Default: enough to send the
     * polls in MIN_POLL_SECONDS.
     */
    pollRate?: number;
  },
): Promise<SectionResult & { latency: { p50: number; p99: number } }> {
  const violations: string[] = [];
  const token = h.tokens.demo;
  const doc = DynamoDBDocumentClient.from(h.stack.dynamo);
  const statusCounts = new Map<string, number>();
  let requests = 0;
  let trials = 0;

  const jobs = new Map<string, StartedJob>();
  /** Job ids in start order, for the pollers (active ones first: what the UI polls). */
  const known: string[] = [];
  const facts = new Map<string, TerminalFact>();

  /** Counts a response; a 5xx or a status the route does not allow is a violation. */
  function record(route: string, status: number, body: string, allowed: number[], note = ''): void {
    const key = `${route} ${status}`;
    statusCounts.set(key, (statusCounts.get(key) ?? 0) + 1);
    if (status >= 500) violations.push(`5xx: ${route} -> ${status} ${clip(body)}${note}`);
    else if (!allowed.includes(status))
      violations.push(`unexpected status: ${route} -> ${status} ${clip(body)}${note}`);
  }

  /**
   * A job state seen by a read sent at `sentAt`. A terminal state is final: the first one seen
   * becomes the job's fact and every other terminal state seen must be the same (status and
   * counters; the whole view when both are reads). A read sent after the fact was established
   * must not show an active state.
   */
  function observe(jobId: string, seen: TerminalFact, sentAt: number): void {
    const fact = facts.get(jobId);
    if (!fact) {
      if (TERMINAL.has(seen.status)) facts.set(jobId, seen);
      return;
    }
    const mismatch = TERMINAL.has(seen.status)
      ? seen.status !== fact.status ||
        (seen.counters && fact.counters && !same(seen.counters, fact.counters)) ||
        (seen.job && fact.job && !same(seen.job, fact.job))
      : sentAt > fact.at;
    if (mismatch) {
      violations.push(
        `job ${jobId} changed after it was terminal: ${fact.source} saw ${JSON.stringify(fact.job ?? fact.counters ?? fact.status)}, ` +
          `then ${seen.source} saw ${JSON.stringify(seen.job ?? seen.counters ?? seen.status)}`,
      );
      facts.set(jobId, { ...seen, at: Number.POSITIVE_INFINITY }); // report each job once
    }
  }

  /** A sync-status answer, from a poll or a check. */
  function statusAnswer(
    jobId: string,
    status: number,
    body: string,
    sentAt: number,
    source: string,
  ): JobView | null {
    if (status !== 200) return null;
    let parsed: ReturnType<typeof StrictStatus.safeParse>;
    try {
      parsed = StrictStatus.safeParse(JSON.parse(body));
    } catch {
      violations.push(
        `${source}: sync-status of ${jobId} answered 200 with a body that is not JSON: ${clip(body)}`,
      );
      return null;
    }
    if (!parsed.success) {
      violations.push(
        `${source}: sync-status of ${jobId} does not match the contract: ${clip(parsed.error.message)}`,
      );
      return null;
    }
    const job = parsed.data.job;
    if (job.id !== jobId) violations.push(`${source}: sync-status of ${jobId} answered job ${job.id}`);
    observe(
      jobId,
      { at: performance.now(), source, status: job.status, counters: counters(job), job: finalView(job) },
      sentAt,
    );
    return job;
  }

  /** fetch, counted and recorded; `allowed` as for `record`. */
  async function send(
    method: 'GET' | 'POST',
    path: string,
    json: unknown,
    allowed: number[],
    note = '',
  ): Promise<{ status: number; text: string; body: unknown; sentAt: number }> {
    const route = `${method} ${path.split('?')[0]}`;
    const sentAt = performance.now();
    requests++;
    let res: Response;
    try {
      res = await fetch(`${h.stack.apiUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(json === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: json === undefined ? undefined : JSON.stringify(json),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      violations.push(`no answer: ${route}${note}: ${(error as Error).message}`);
      return { status: 0, text: '', body: undefined, sentAt };
    }
    const text = await res.text();
    record(route, res.status, text, allowed, note);
    return { status: res.status, text, body: parseJson(text), sentAt };
  }

  /** One job's sync-status (counted), as `statusAnswer` reads it. */
  async function readStatus(jobId: string, source: string) {
    const answer = await send('GET', routePath('syncStatus', { jobId }), undefined, [200], ` (job ${jobId})`);
    return statusAnswer(jobId, answer.status, answer.text, answer.sentAt, source);
  }

  const countSaved = async (pageId: string): Promise<Map<string, number>> => {
    const byJob = new Map<string, number>();
    for (const item of await storedContacts(doc, h.stack.tables.contacts, pageId, 'lastSyncJobId')) {
      const id = String(item.lastSyncJobId);
      byJob.set(id, (byJob.get(id) ?? 0) + 1);
    }
    return byJob;
  };

  // --- start/cancel loops ----------------------------------------------------------------------

  const minCycleRequests = Math.ceil(opts.requests * CYCLE_SHARE);
  let cycleRequests = 0;
  let pollsDone = false;
  let pollsDoneAt = 0;
  let endPolls = () => {};
  const pollsOver = new Promise<void>((resolve) => {
    endPolls = resolve;
  });
  /** A loop's pause, cut short when the polls end (a started cycle then finishes at once). */
  const pause = (ms: number) => Promise.race([sleep(ms), pollsOver]);
  /** While the polls run; after them only until the loops' share is sent (bounded). */
  const keepCycling = () =>
    !pollsDone || (cycleRequests < minCycleRequests && performance.now() - pollsDoneAt < LOOP_DEADLINE_MS);

  /** Polls one job (counted) until `reached`, its end, LATE_WAIT_MS, or (unless `late`) the end of the polls. */
  async function watch(jobId: string, reached: (job: JobView) => boolean, late = false): Promise<void> {
    const until = performance.now() + LATE_WAIT_MS;
    for (;;) {
      const seen = await readStatus(jobId, 'cycle watch');
      cycleRequests++;
      if (!seen || !isActive(seen) || reached(seen) || (pollsDone && !late) || performance.now() > until)
        return;
      await (late ? sleep : pause)(WATCH_MS);
    }
  }

  async function cycles(page: SimPage, index: number): Promise<void> {
    const rng = mulberry32(SEED + index);
    let lockedSince: number | undefined;
    let previous: string | undefined;
    for (let cycle = 0; keepCycling(); ) {
      const label = ` (page ${page.id})`;
      cycleRequests++;
      const start = await send('POST', PATHS.start, { pageId: page.id }, [202, 409], label);
      if (start.status === 409) {
        // The previous job ended (its cancel said COMPLETED) and start raced finalize's lock
        // release: expected briefly, never for long, and only ever about that job.
        const conflict = ConflictBody.strict().safeParse(start.body);
        if (!conflict.success)
          violations.push(`409 start${label} has no {error, activeJobId} body: ${start.text}`);
        else if (conflict.data.activeJobId !== null && conflict.data.activeJobId !== previous)
          violations.push(
            `409 start${label} names job ${conflict.data.activeJobId}, not this page's last job ${previous}`,
          );
        lockedSince ??= performance.now();
        if (performance.now() - lockedSince > MAX_LOCKED_MS) {
          violations.push(
            `page ${page.id} stayed locked over ${MAX_LOCKED_MS} ms after its job ended: ${start.text}`,
          );
          return;
        }
        await sleep(50);
        continue;
      }
      if (start.status !== 202) {
        await sleep(100);
        continue;
      }
      lockedSince = undefined;
      const parsed = StartSyncResponse.strict().safeParse(start.body);
      if (!parsed.success) {
        violations.push(`202 start${label} does not match the contract: ${start.text}`);
        continue;
      }
      const { jobId } = parsed.data;
      const job: StartedJob = { jobId, pageId: page.id };
      jobs.set(jobId, job);
      previous = jobId;
      known.push(jobId);

      job.kind = kindOf(index, cycle++, rng);
      if (job.kind === 'early') {
        await pause(Math.floor(rng() * EARLY_MS));
      } else if (job.kind === 'mid') {
        const k = 1 + Math.floor(rng() * 9);
        await watch(jobId, (seen) => seen.syncedContacts + seen.failedContacts >= k);
        await pause(Math.floor(rng() * MID_MS));
      } else {
        // All saved (the cancel races finalize), or all but the last chunk (3 conversations).
        const left = rng() < 0.5 ? 0 : 3;
        await watch(
          jobId,
          (seen) =>
            seen.phase === 'syncing:instagram' &&
            seen.syncedContacts + seen.failedContacts >= seen.totalContacts - left,
          true,
        );
        await sleep(Math.floor(rng() * (left === 0 ? LATE_MS : LATE_MS / 4)));
      }

      cycleRequests++;
      const note = ` (job ${jobId})`;
      const cancel = await send(
        'POST',
        PATHS.cancel,
        { jobId, reason: 'reliability load' },
        [200, 400],
        note,
      );
      trials++;
      if (cancel.status === 200) {
        const ack = CancelSyncResponse.strict().safeParse(cancel.body);
        if (!ack.success || ack.data.job.id !== jobId) {
          violations.push(`200 cancel${note} does not match the contract: ${cancel.text}`);
        } else {
          job.outcome = 'CANCELLED';
          job.ack = counters(ack.data.job);
          observe(
            jobId,
            { at: performance.now(), source: 'cancel ack', status: 'CANCELLED', counters: job.ack },
            cancel.sentAt,
          );
        }
      } else if (cancel.status === 400) {
        const error = ErrorBody.strict().safeParse(cancel.body);
        if (!error.success || error.data.error !== 'Cannot cancel job with status: COMPLETED') {
          violations.push(
            `400 cancel${note} is not "Cannot cancel job with status: COMPLETED": ${cancel.text}`,
          );
        } else {
          job.outcome = 'COMPLETED';
          observe(jobId, { at: performance.now(), source: 'cancel 400', status: 'COMPLETED' }, cancel.sentAt);
        }
      }
      // The job is terminal (acknowledged or completed): no contact may change for it any more.
      if (job.outcome) job.savedAtEnd = (await countSaved(page.id)).get(jobId) ?? 0;
    }
  }

  // --- the pollers (autocannon) ----------------------------------------------------------------

  const pollRng = mulberry32(SEED - 1);
  const pollAmount = Math.max(opts.requests - minCycleRequests, 1);
  const pollRate = opts.pollRate ?? Math.ceil(pollAmount / MIN_POLL_SECONDS);
  let polls = 0;
  const pickPath = (context: PollContext): string => {
    context.sentAt = performance.now();
    if (known.length === 0 || pollRng() < 1 / PAGES_POLL_EVERY) {
      context.route = `GET ${PATHS.pages}`;
      context.jobId = undefined;
      return PATHS.pages;
    }
    // Mostly the latest jobs (the ones still running), sometimes any earlier one.
    const recent = Math.min(known.length, opts.pages);
    const i =
      pollRng() < 0.75
        ? known.length - 1 - Math.floor(pollRng() * recent)
        : Math.floor(pollRng() * known.length);
    const jobId = known[i] as string;
    context.route = `GET ${PATHS.status}`;
    context.jobId = jobId;
    return routePath('syncStatus', { jobId });
  };

  const pages: SimPage[] = [];
  let trafficStart = performance.now();
  for (let i = 0; i < opts.pages; i++) pages.push(await h.acquirePage());
  try {
    trafficStart = performance.now();
    const loops = Promise.all(pages.map((page, i) => cycles(page, i)));
    // Let the first starts land so most polls read real jobs.
    for (let i = 0; i < 50 && known.length < Math.min(opts.pages, 5); i++) await sleep(20);

    const instance = autocannon({
      url: h.stack.apiUrl,
      connections: opts.connections ?? 10,
      ...(pollRate > 0 ? { overallRate: pollRate } : {}),
      amount: pollAmount,
      timeout: 15,
      headers: { authorization: `Bearer ${token}` },
      requests: [
        {
          method: 'GET',
          setupRequest: (request, context) => ({ ...request, path: pickPath(context as PollContext) }),
          onResponse: (status, body, context) => {
            polls++;
            const { route = '?', jobId, sentAt = 0 } = context as PollContext;
            record(route, status, body, [200], jobId ? ` (job ${jobId})` : '');
            if (jobId) statusAnswer(jobId, status, body, sentAt, 'poll');
            else if (status === 200 && !PagesResponse.strict().safeParse(parseJson(body)).success)
              violations.push(`poll: GET pages does not match the contract: ${clip(body)}`);
          },
        },
      ],
    });
    const result = await instance;
    pollsDone = true;
    pollsDoneAt = performance.now();
    endPolls();
    await loops;
    requests += result.requests.sent ?? polls;
    if (result.errors > 0 || result.timeouts > 0)
      violations.push(`autocannon: ${result.errors} connection errors, ${result.timeouts} timeouts`);
    if (polls < pollAmount) violations.push(`autocannon: ${polls} answers of ${pollAmount} polls`);

    // --- after the traffic: every job and execution terminal (bounded) ----------------------------

    const trafficMs = performance.now() - trafficStart;
    const checkStart = performance.now();
    const started = [...jobs.values()];
    const readAll = async (source: string) => {
      const out = new Map<string, JobView | null>();
      for (let i = 0; i < started.length; i += 20) {
        const batch = started.slice(i, i + 20);
        const read = await Promise.all(batch.map((job) => readStatus(job.jobId, source)));
        for (const [k, job] of batch.entries()) out.set(job.jobId, read[k] ?? null);
      }
      return out;
    };

    const settleBy = performance.now() + SETTLE_DEADLINE_MS;
    let active = started.filter((job) => !job.outcome).map((job) => job.jobId);
    while (active.length > 0 && performance.now() < settleBy) {
      const read = await Promise.all(active.map((jobId) => readStatus(jobId, 'settle')));
      active = active.filter((_, i) => {
        const job = read[i];
        return job !== null && job !== undefined && isActive(job);
      });
      if (active.length > 0) await sleep(250);
    }
    for (const jobId of active)
      violations.push(`job ${jobId} still active ${SETTLE_DEADLINE_MS} ms after the traffic`);

    const machineArns = h.stack.machines.map((m) => m.arn);
    const running = () =>
      machineArns.flatMap((stateMachineArn) =>
        h.stack.sfn
          .ListExecutions({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 100_000 })
          .executions.filter((e) => jobs.has(e.name.slice(0, 36))),
      );
    while (running().length > 0 && performance.now() < settleBy) await sleep(100);
    for (const e of running())
      violations.push(
        `execution ${e.name} of a terminal job still RUNNING ${SETTLE_DEADLINE_MS} ms after the traffic`,
      );

    // --- invariants, for every job started -------------------------------------------------------

    const first = await readAll('check 1');
    await sleep(1000);
    const second = await readAll('check 2');
    const savedByPage = new Map<string, Map<string, number>>();
    for (const page of pages) savedByPage.set(page.id, await countSaved(page.id));

    const outcomes = { CANCELLED: 0, COMPLETED: 0, FAILED: 0 };
    for (const job of started) {
      const label = `job ${job.jobId} (page ${job.pageId})`;
      const a = first.get(job.jobId);
      const b = second.get(job.jobId);
      if (!a || !b) continue; // already a violation (status or shape)
      if (!same(a, b))
        violations.push(
          `${label} changed within 1 s after the traffic: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`,
        );
      if (!TERMINAL.has(a.status)) {
        violations.push(`${label} not terminal after the traffic: ${a.status}`);
        continue;
      }
      outcomes[a.status as keyof typeof outcomes]++;
      if (a.completedAt === null) violations.push(`${label} is ${a.status} without completedAt`);
      if (a.status === 'FAILED') violations.push(`${label} FAILED under load: ${a.error ?? '(no error)'}`);
      if (job.outcome && a.status !== job.outcome)
        violations.push(`${label}: its cancel said ${job.outcome}, sync-status says ${a.status}`);
      if (job.ack && !same(counters(a), job.ack))
        violations.push(
          `${label}: counters moved after the cancel acknowledgement: ack ${JSON.stringify(job.ack)}, now ${JSON.stringify(counters(a))}`,
        );
      if (
        a.status === 'COMPLETED' &&
        (a.syncedContacts + a.failedContacts !== a.totalContacts || a.progress !== 100)
      )
        violations.push(
          `${label} COMPLETED with ${a.syncedContacts} synced + ${a.failedContacts} failed of ${a.totalContacts}, progress ${a.progress}`,
        );
      if (job.savedAtEnd !== undefined && job.savedAtEnd !== a.syncedContacts)
        violations.push(
          `${label}: ${job.savedAtEnd} contacts carried its id when it ended, syncedContacts is ${a.syncedContacts}`,
        );
      const stillCarrying = savedByPage.get(job.pageId)?.get(job.jobId) ?? 0;
      if (stillCarrying > a.syncedContacts)
        violations.push(
          `${label}: ${stillCarrying} contacts carry its id, more than its syncedContacts ${a.syncedContacts}`,
        );
    }

    // Each page: its jobs listed once each, with the status sync-status gives; no lock left; the
    // last job's contacts still all carry its id; contactCount is the number of contacts.
    const listed = await send('GET', PATHS.pages, undefined, [200]);
    const pageViews = PagesResponse.strict().safeParse(listed.body);
    if (!pageViews.success)
      violations.push(`GET pages after the traffic does not match the contract: ${clip(listed.text)}`);
    for (const page of pages) {
      const mine = started.filter((job) => job.pageId === page.id);
      const view = pageViews.data?.pages.find((p) => p.id === page.id);
      const saved = savedByPage.get(page.id) ?? new Map<string, number>();
      const contacts = [...saved.values()].reduce((sum, n) => sum + n, 0);
      if (pageViews.success && !view) violations.push(`page ${page.id} is not listed by GET pages`);
      if (view?.activeJob)
        violations.push(
          `page ${page.id} left locked: activeJob ${view.activeJob.id} (${view.activeJob.status})`,
        );
      if (view && view.contactCount !== contacts)
        violations.push(`page ${page.id}: contactCount ${view.contactCount}, ${contacts} contacts stored`);
      const item = await doc.send(
        new GetCommand({ TableName: h.stack.tables.pages, Key: { pageId: page.id }, ConsistentRead: true }),
      );
      if (item.Item?.activeJobId)
        violations.push(`page ${page.id} keeps the lock of job ${String(item.Item.activeJobId)}`);

      const last = mine.at(-1);
      const lastJob = last && first.get(last.jobId);
      if (last && lastJob && (saved.get(last.jobId) ?? 0) !== lastJob.syncedContacts)
        violations.push(
          `page ${page.id}: its last job ${last.jobId} counts ${lastJob.syncedContacts}, ${saved.get(last.jobId) ?? 0} contacts carry its id`,
        );

      const history = await send(
        'GET',
        routePath('syncJobs', { pageId: page.id, limit: 100 }),
        undefined,
        [200],
      );
      const parsed = SyncJobsResponse.safeParse(history.body);
      if (!parsed.success) {
        violations.push(`sync-jobs of page ${page.id} does not match the contract: ${clip(history.text)}`);
        continue;
      }
      const seen = new Map<string, number>();
      for (const listedJob of parsed.data.jobs) seen.set(listedJob.id, (seen.get(listedJob.id) ?? 0) + 1);
      const checkable = mine.length <= 100 ? mine : mine.slice(-50); // the history holds the newest 100
      for (const job of checkable) {
        const times = seen.get(job.jobId) ?? 0;
        const status = parsed.data.jobs.find((j) => j.id === job.jobId)?.status;
        if (times !== 1)
          violations.push(`sync-jobs of page ${page.id} lists job ${job.jobId} ${times} times`);
        else if (status !== first.get(job.jobId)?.status)
          violations.push(
            `sync-jobs lists job ${job.jobId} as ${status}, sync-status says ${first.get(job.jobId)?.status}`,
          );
      }
    }

    const checkMs = performance.now() - checkStart;
    const latency = { p50: result.latency.p50, p99: result.latency.p99 };
    const cancelledMidSync = started.filter((job) => (job.ack?.syncedContacts ?? 0) > 0).length;
    const landed = (kind: CycleKind) => {
      const tally = new Map<string, number>();
      for (const job of started.filter((j) => j.kind === kind)) {
        const at = job.ack ? `@${job.ack.syncedContacts}` : (job.outcome ?? '?');
        tally.set(at, (tally.get(at) ?? 0) + 1);
      }
      return [...tally].map(([at, n]) => `${at}×${n}`).join(' ') || '-';
    };
    const statuses = [...statusCounts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, n]) => `${key}: ${n}`)
      .join(', ');
    console.info(
      `[load] ${requests} requests (${polls} polls by autocannon over ${opts.connections ?? 10} connections at ${pollRate > 0 ? `${pollRate}/s offered` : 'full speed'}, in ` +
        `${result.duration.toFixed(1)} s, ${cycleRequests} by the start/cancel loops); ${trials} start/cancel cycles on ${pages.length} pages ` +
        `-> ${outcomes.CANCELLED} cancelled (${cancelledMidSync} of them mid-sync, after contacts were saved), ` +
        `${outcomes.COMPLETED} completed, ${outcomes.FAILED} failed; cancelled at (contacts saved): ` +
        `early ${landed('early')}, mid ${landed('mid')}, late ${landed('late')}; ` +
        `poll latency p50 ${latency.p50} ms, p99 ${latency.p99} ms (avg ${result.latency.average} ms, max ${result.latency.max} ms); ` +
        `statuses: ${statuses}; traffic ${(trafficMs / 1000).toFixed(1)} s, checks ${(checkMs / 1000).toFixed(1)} s; ` +
        `${violations.length} violations`,
    );
    return { section: 'load', trials, faults: 0, inputs: 0, requests, violations, latency };
  } finally {
    pollsDone = true; // stops the loops if the traffic threw
    endPolls();
    for (const page of pages) h.releasePage(page);
  }
}
