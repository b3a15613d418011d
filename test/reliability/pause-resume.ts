import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { routePath } from '#shared/api/routes.ts';
import {
  ErrorBody,
  PagesResponse,
  PauseSyncResponse,
  ResumeSyncResponse,
  StartSyncResponse,
} from '#shared/contract.ts';
import { isActive } from '#shared/job-status.ts';
import { HttpClient, type JobView, PATHS, StrictStatus, sleep } from '#test/e2e/http-client.ts';
import { failedMarkerCount, storedContacts } from '#test/e2e/stored-items.ts';
import { signLocalToken } from '../../local/auth.ts';
import { generatePage, type SimPage } from '../../local/graph-sim/demo-data.ts';
import { DATA_DIR, type LocalStack, startLocalStack } from '../../local/local-stack.ts';
import { now, pool } from './observe.ts';

/**
 * The pause/resume equivalence property: a sync paused at a random moment (once or
 * twice) and resumed ends with the same contacts and the same counters as one uninterrupted sync
 * of the same conversations.
 *
 * Pages come in shapes: each shape is one seed of the Graph simulator's generator (so the same
 * conversations, customers and messages) served under several page ids. The first page of a
 * shape is synced without interruption: the baseline. Every trial page of that shape is synced
 * with pauses at delays drawn by fast-check over the baseline's duration, then compared with it.
 * Each pause must also hold the cancel protocol's guarantee: the counters it answers are final
 * until the resume (and match the contacts and failure markers written), and the page stays
 * locked (a start answers 409).
 *
 * `npm run test:pause-resume` runs the full size (at least 100 pause points); `npm test` runs a
 * bounded version (pause-resume.test.ts). Violations are collected, not thrown.
 */

/** Small chunks and segments, as the reliability harness: every stage happens within seconds. */
export const CONTEXT = { chunkSize: 3, mapConcurrency: 2, maxChunksPerSegment: 3 };
const ANALYZER_LATENCY_MS = '20';
/** How long a paused job is watched for a late write before it is resumed. */
const FROZEN_WATCH_MS = 400;
const STUCK_AFTER_MS = 60_000;

export interface PausePlan {
  trial: number;
  shape: number;
  /** Delays (ms after the start, then after each resume) at which to pause: one or two pauses. */
  pauseAfterMs: number[];
  /** How long each pause lasts before the resume. */
  resumeAfterMs: number[];
}

export interface TrialOutcome {
  plan: PausePlan;
  pageId: string;
  jobId: string;
  /** Per pause: "PAUSED at 7+0/18" or "COMPLETED first". */
  landed: string[];
}

export interface PauseResumeResult {
  trials: number;
  /** Pauses that committed (200 PAUSED) and were resumed: the pause points the property covered. */
  pausePoints: number;
  /** Pauses that arrived after completion (400), which the property also accepts. */
  completedFirst: number;
  violations: string[];
  outcomes: TrialOutcome[];
  baselineMs: number[];
  durationMs: number;
}

/** The trials of a seed: shapes round robin, pause delays drawn over [0, maxDelayMs]. */
export function planPauseResume(
  trials: number,
  shapes: number,
  seed: number,
  maxDelayMs: number,
): PausePlan[] {
  if (trials <= 0) return [];
  const trial = fc.record({
    pauses: fc.integer({ min: 1, max: 2 }),
    // Per mille of the range, unbiased: spread over the whole sync, not piled at 0.
    at: fc.array(fc.noBias(fc.integer({ min: 0, max: 1000 })), { minLength: 2, maxLength: 2 }),
    resume: fc.array(fc.noBias(fc.integer({ min: 0, max: 300 })), { minLength: 2, maxLength: 2 }),
  });
  const [drawn] = fc.sample(fc.array(trial, { minLength: trials, maxLength: trials }), { seed, numRuns: 1 });
  if (!drawn) throw new Error('fast-check drew no plan');
  return drawn.map((t, i) => ({
    trial: i + 1,
    shape: i % shapes,
    // A second pause comes sooner: the resumed run has less left to do.
    pauseAfterMs: t.at.slice(0, t.pauses).map((p, k) => Math.round((p * maxDelayMs) / 1000 / (k + 1))),
    resumeAfterMs: t.resume.slice(0, t.pauses),
  }));
}

/**
 * What two syncs of the same conversations must agree on, whatever the page and the job: every
 * field but the page, the job and the times of the writes. Instagram conversation ids embed the
 * page's Instagram account id, which is the one thing the pages of a shape do not share.
 */
function normalized(page: SimPage, contact: Record<string, unknown>): string {
  const {
    pageId: _p,
    firstSyncedAt: _f,
    lastSyncedAt: _l,
    lastSyncJobId: _j,
    createdByJobId: _c,
    ...rest
  } = contact;
  const decoded = Buffer.from(String(rest.conversationId), 'base64').toString('utf8');
  if (page.instagramAccountId && decoded.includes(page.instagramAccountId))
    rest.conversationId = decoded.replace(page.instagramAccountId, '<instagram account>');
  return JSON.stringify(Object.fromEntries(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b))));
}

interface Final {
  job: JobView;
  contacts: string[];
  contactCount: number;
}

export async function runPauseResume(opts: {
  trials: number;
  shapes: number;
  concurrency: number;
  seed: number;
  /** Log a line per trial. @default false */
  verbose?: boolean;
}): Promise<PauseResumeResult> {
  const began = now();
  const shapes = Math.max(1, Math.min(opts.shapes, opts.trials));
  const perShape = Math.ceil(opts.trials / shapes);
  // The shapes: 9-14 Messenger and 3-6 Instagram conversations, from the seed.
  const rng = fc.sample(fc.tuple(fc.integer({ min: 9, max: 14 }), fc.integer({ min: 3, max: 6 })), {
    seed: opts.seed,
    numRuns: shapes,
  });
  const pageOf = (shape: number, n: number): SimPage => {
    const id = `87${String(shape).padStart(3, '0')}${String(n).padStart(5, '0')}`;
    const [messenger, instagram] = rng[shape] ?? [10, 4];
    return generatePage({
      id,
      name: `Pause shape ${shape}`,
      accessToken: `pause_resume_token_${id}_secret`,
      // Its own Instagram account per page (the generator would derive one per seed).
      instagramAccountId: `1784150${id}`,
      messenger,
      instagram,
      seed: opts.seed * 1000 + shape,
    });
  };
  const baselines = Array.from({ length: shapes }, (_, s) => pageOf(s, 0));
  const trialPages = Array.from({ length: shapes }, (_, s) =>
    Array.from({ length: perShape }, (_, n) => pageOf(s, n + 1)),
  );

  const savedLatency = process.env.ANALYZER_LATENCY_MS;
  process.env.ANALYZER_LATENCY_MS = ANALYZER_LATENCY_MS;
  let stack: LocalStack | undefined;
  const violations: string[] = [];
  const outcomes: TrialOutcome[] = [];
  const baselineMs: number[] = [];
  try {
    stack = await startLocalStack({
      port: 0,
      sfnPort: 0,
      graphSimPort: 0,
      pages: [...baselines, ...trialPages.flat()],
      context: CONTEXT,
    });
    const http = new HttpClient(stack.apiUrl);
    const token = await signLocalToken(DATA_DIR, { org: 'demo-org', user: 'pause-resume' });
    const doc = DynamoDBDocumentClient.from(stack.dynamo);
    const tables = stack.tables;

    const contactsOf = (pageId: string) => storedContacts(doc, tables.contacts, pageId);
    const failedMarkersOf = (jobId: string) => failedMarkerCount(doc, tables.jobs, jobId);
    const status = async (jobId: string) => {
      const answer = await http.get(routePath('syncStatus', { jobId }), token);
      return StrictStatus.parse(answer.body).job;
    };
    const listed = async (pageId: string) => {
      const answer = await http.get(PATHS.pages, token);
      return PagesResponse.parse(answer.body).pages.find((p) => p.id === pageId);
    };
    // In full: trials reuse pages, and each pause must meet a whole import.
    const start = async (pageId: string) => {
      const answer = await http.post(PATHS.start, token, { pageId, mode: 'full' });
      if (answer.status !== 202) throw new Error(`start answered ${answer.status} ${answer.text}`);
      return StartSyncResponse.parse(answer.body).jobId;
    };
    const waitTerminal = async (jobId: string) => {
      const deadline = now() + STUCK_AFTER_MS;
      for (;;) {
        const job = await status(jobId);
        if (!isActive(job)) return job;
        if (now() > deadline) throw new Error(`job stuck ${job.status} (phase ${job.phase})`);
        await sleep(100);
      }
    };
    const finalOf = async (sim: SimPage, job: JobView): Promise<Final> => {
      const pageId = sim.id;
      // The lock goes just after the final status: a bounded wait for it.
      let page = await listed(pageId);
      for (let i = 0; i < 50 && page?.activeJob; i++) {
        await sleep(100);
        page = await listed(pageId);
      }
      if (page?.activeJob) throw new Error(`the page stays locked by ${page.activeJob.id}`);
      return {
        job,
        contacts: (await contactsOf(pageId)).map((c) => normalized(sim, c)).sort(),
        contactCount: page?.contactCount ?? -1,
      };
    };

    // Warm the routes a trial uses, so no pause waits on a cold handler.
    await http.post(PATHS.pause, token, { jobId: crypto.randomUUID() });
    await http.post(PATHS.resume, token, { jobId: crypto.randomUUID() });

    // 1. The baselines: one uninterrupted sync per shape.
    const expected: Final[] = [];
    await pool(baselines, opts.concurrency, async (page) => {
      const t0 = now();
      const jobId = await start(page.id);
      const job = await waitTerminal(jobId);
      baselineMs.push(Math.round(now() - t0));
      if (job.status !== 'COMPLETED')
        throw new Error(`baseline ${page.id} ended ${job.status}: ${job.error}`);
      expected[baselines.indexOf(page)] = await finalOf(page, job);
    });
    const maxDelayMs = Math.round(Math.min(...baselineMs) * 0.9);
    const plan = planPauseResume(opts.trials, shapes, opts.seed, maxDelayMs);

    // 2. The trials.
    const used = new Map<number, number>();
    const runTrial = async (p: PausePlan) => {
      const n = used.get(p.shape) ?? 0;
      used.set(p.shape, n + 1);
      const page = trialPages[p.shape]?.[n] as SimPage;
      const label = `[seed ${opts.seed} trial ${p.trial} (pauses at ${p.pauseAfterMs.join(', ')} ms), page ${page.id}]`;
      const violate = (message: string) => violations.push(`${label} ${message}`);
      const landed: string[] = [];
      let jobId = '';
      try {
        jobId = await start(page.id);
        for (const [k, delay] of p.pauseAfterMs.entries()) {
          await sleep(delay);
          const answer = await http.post(PATHS.pause, token, { jobId });
          if (answer.status === 400) {
            const { error } = ErrorBody.parse(answer.body);
            if (error !== 'Cannot pause job with status: COMPLETED') violate(`pause answered 400 "${error}"`);
            if ((await status(jobId)).status !== 'COMPLETED')
              violate('pause answered 400 but the job is not COMPLETED');
            landed.push('COMPLETED first');
            break;
          }
          if (answer.status !== 200) {
            violate(`pause answered ${answer.status} ${answer.text}`);
            break;
          }
          const acked = PauseSyncResponse.parse(answer.body).job;
          landed.push(`PAUSED at ${acked.syncedContacts}+${acked.failedContacts}/${acked.totalContacts}`);
          // Nothing moves after the acknowledgement, and the counters are what was written.
          await sleep(FROZEN_WATCH_MS);
          const later = await status(jobId);
          if (
            later.status !== 'PAUSED' ||
            later.syncedContacts !== acked.syncedContacts ||
            later.failedContacts !== acked.failedContacts
          )
            violate(
              `paused job moved: acked ${acked.syncedContacts}+${acked.failedContacts}, later ${later.status} ${later.syncedContacts}+${later.failedContacts}`,
            );
          const written = (await contactsOf(page.id)).filter((c) => c.lastSyncJobId === jobId).length;
          if (written !== acked.syncedContacts)
            violate(`paused at syncedContacts ${acked.syncedContacts} but ${written} contacts carry the job`);
          const markers = await failedMarkersOf(jobId);
          if (markers !== acked.failedContacts)
            violate(`paused at failedContacts ${acked.failedContacts} but ${markers} failure markers`);
          // The page stays locked: a start is refused with this job as the active one.
          const again = await http.post(PATHS.start, token, { pageId: page.id });
          if (again.status !== 409 || (again.body as { activeJobId?: string }).activeJobId !== jobId)
            violate(`a start while paused answered ${again.status} ${again.text}`);
          // Pausing twice is idempotent.
          const twice = await http.post(PATHS.pause, token, { jobId });
          if (
            twice.status !== 200 ||
            PauseSyncResponse.parse(twice.body).job.syncedContacts !== acked.syncedContacts
          )
            violate(`a second pause answered ${twice.status} ${twice.text}`);

          await sleep(p.resumeAfterMs[k] ?? 0);
          const resumed = await http.post(PATHS.resume, token, { jobId });
          if (resumed.status !== 200) {
            violate(`resume answered ${resumed.status} ${resumed.text}`);
            break;
          }
          const job = ResumeSyncResponse.parse(resumed.body).job;
          if (job.syncedContacts !== acked.syncedContacts) violate('resume did not continue the counters');
        }
        const final = await waitTerminal(jobId);
        if (final.status !== 'COMPLETED') violate(`ended ${final.status}: ${final.error ?? ''}`);
        const got = await finalOf(page, final);
        const want = expected[p.shape] as Final;
        for (const field of ['syncedContacts', 'failedContacts', 'totalContacts', 'progress'] as const)
          if (got.job[field] !== want.job[field])
            violate(`${field} ${got.job[field]}, uninterrupted ${want.job[field]}`);
        if (got.contactCount !== want.contactCount)
          violate(`contactCount ${got.contactCount}, uninterrupted ${want.contactCount}`);
        if (JSON.stringify(got.contacts) !== JSON.stringify(want.contacts)) {
          const missing = want.contacts.filter((c) => !got.contacts.includes(c)).length;
          const extra = got.contacts.filter((c) => !want.contacts.includes(c)).length;
          const first = got.contacts.find((c) => !want.contacts.includes(c));
          const like = want.contacts.find((c) => c.slice(0, 60) === first?.slice(0, 60));
          violate(
            `contacts differ from the uninterrupted sync: ${missing} missing or changed, ${extra} extra (e.g. ${first?.slice(0, 400)} vs ${like?.slice(0, 400)})`,
          );
        }
        const carrying = (await contactsOf(page.id)).filter((c) => c.lastSyncJobId === jobId).length;
        if (carrying !== final.syncedContacts)
          violate(`syncedContacts ${final.syncedContacts} but ${carrying} contacts carry the job`);
      } catch (error) {
        violate(`threw: ${(error as Error).message}`);
      }
      outcomes.push({ plan: p, pageId: page.id, jobId, landed });
      if (opts.verbose) console.info(`${label} ${landed.join('; ') || '-'}`);
    };
    await pool(plan, opts.concurrency, runTrial);
  } finally {
    await stack?.stop();
    if (savedLatency === undefined) delete process.env.ANALYZER_LATENCY_MS;
    else process.env.ANALYZER_LATENCY_MS = savedLatency;
  }
  outcomes.sort((a, b) => a.plan.trial - b.plan.trial);
  const all = outcomes.flatMap((o) => o.landed);
  return {
    trials: outcomes.length,
    pausePoints: all.filter((l) => l.startsWith('PAUSED')).length,
    completedFirst: all.filter((l) => l === 'COMPLETED first').length,
    violations,
    outcomes,
    baselineMs,
    durationMs: Math.round(now() - began),
  };
}

/** `npm run test:pause-resume [-- --trials N --seed S --concurrency C]`: the full-size run. */
async function main() {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const trials = arg('trials', 110);
  const seed = arg('seed', 8);
  const result = await runPauseResume({
    trials,
    shapes: arg('shapes', 10),
    concurrency: arg('concurrency', 6),
    seed,
    verbose: true,
  });
  console.info(
    `pause/resume equivalence: ${result.trials} trials, ${result.pausePoints} pause points paused and resumed, ${result.completedFirst} pauses after completion (400), baselines ${result.baselineMs.join('/')} ms, ${Math.round(result.durationMs / 1000)} s, ${result.violations.length} violation(s)`,
  );
  for (const v of result.violations) console.error(v);
  process.exitCode = result.violations.length === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) await main();
