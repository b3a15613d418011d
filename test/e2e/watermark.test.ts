import { createHash } from 'node:crypto';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalAnalyzer } from '#shared/analyzer/local-analyzer.ts';
import { StartSyncResponse } from '#shared/contract.ts';
import { isActive } from '#shared/job-status.ts';
import type { SimPage } from '../../local/graph-sim/demo-data.ts';
import { e2eStack } from './e2e-stack.ts';
import { type JobView, PATHS, simPages, sleep } from './http-client.ts';
import { storedContacts } from './stored-items.ts';

/**
 * The incremental re-sync's rule, as a property: whatever happened before (new messages in some
 * conversations, incremental and full syncs, syncs cancelled or paused and resumed at random
 * moments, messages arriving while a sync runs, conversations whose analysis failed), one last
 * incremental sync leaves every contact as a full sync of the final state writes it:
 * `lastMessageAt`, `messageCount`, `aiContext` and `displayName`, contact by contact.
 *
 * Each run has a page of its own (two Messenger list pages and one Instagram page, at Graph's real
 * 2 calls/s), on one embedded stack. Failures are injected in the analyzer of the stack's workers
 * (they run in this process): a conversation fails when a hash of its messages and the sync's salt
 * falls under the drawn rate, so it may fail in one sync and pass in the next.
 */
const RUNS = 6;
const simPage = simPages('9520000000', 'Watermark');
const PAGES = Array.from({ length: RUNS }, (_, i) => simPage(`run ${i + 1}`, 70, 20));
const DEFAULTS = simPage('mode defaults', 30, 10);

type Interrupt = { kind: 'none' } | { kind: 'cancel' | 'pause'; afterMs: number };
type Step =
  | { kind: 'messages'; platform: 'messenger' | 'instagram'; count: number }
  | {
      kind: 'sync';
      mode: 'incremental' | 'full';
      interrupt: Interrupt;
      /** New messages in this many conversations while the sync runs. */
      messagesDuring: number;
      /** Percent of conversations whose analysis fails in this sync. */
      failPct: number;
    };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('messages' as const),
    platform: fc.constantFrom('messenger' as const, 'instagram' as const),
    count: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({
    kind: fc.constant('sync' as const),
    mode: fc.constantFrom('incremental' as const, 'full' as const),
    interrupt: fc.oneof(
      fc.constant({ kind: 'none' as const }),
      fc.record({
        kind: fc.constantFrom('cancel' as const, 'pause' as const),
        afterMs: fc.integer({ min: 0, max: 1500 }),
      }),
    ),
    messagesDuring: fc.integer({ min: 0, max: 3 }),
    failPct: fc.constantFrom(0, 0, 10, 30),
  }),
);

const e2e = e2eStack({ pages: [...PAGES, DEFAULTS], analyzerLatencyMs: '5', user: 'watermark-tester' });
let ddb: DynamoDBDocumentClient;
/** The failure rule of the sync running now. */
const failing = { pct: 0, salt: '' };

beforeAll(() => {
  ddb = DynamoDBDocumentClient.from(e2e.stack.dynamo);
  const analyze = LocalAnalyzer.prototype.analyze;
  vi.spyOn(LocalAnalyzer.prototype, 'analyze').mockImplementation(async function (
    this: LocalAnalyzer,
    messages,
    signal,
  ) {
    const digest = createHash('sha256')
      .update(`${failing.salt}${JSON.stringify(messages)}`)
      .digest();
    if ((digest[0] ?? 0) % 100 < failing.pct) throw new Error('injected analysis failure');
    return analyze.call(this, messages, signal);
  });
});

afterAll(() => {
  vi.restoreAllMocks();
});

const settled = (jobId: string) =>
  e2e.waitForJob(jobId, `job ${jobId} to end`, (j) => !isActive(j), { tries: 600, intervalMs: 50 });

/** Starts a sync; a 409 while the last job's lock is being released is tried again. */
async function start(page: SimPage, mode: 'incremental' | 'full' | undefined): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const answer = await e2e.http.post(PATHS.start, e2e.token, {
      pageId: page.id,
      ...(mode ? { mode } : {}),
    });
    if (answer.status === 202) return StartSyncResponse.parse(answer.body).jobId;
    if (answer.status !== 409 || attempt > 100) throw new Error(`start: ${answer.status} ${answer.text}`);
    await sleep(50);
  }
}

async function runSync(page: SimPage, s: Extract<Step, { kind: 'sync' }>, salt: string): Promise<JobView> {
  failing.pct = s.failPct;
  failing.salt = salt;
  const jobId = await start(page, s.mode);
  const during = (async () => {
    for (let i = 0; i < s.messagesDuring; i++) {
      await sleep(150 + 200 * i);
      e2e.stack.graph?.addMessages({
        pageId: page.id,
        platform: i % 2 ? 'instagram' : 'messenger',
        count: 1,
      });
    }
  })();
  if (s.interrupt.kind !== 'none') {
    await sleep(s.interrupt.afterMs);
    if (s.interrupt.kind === 'cancel')
      await e2e.http.post(PATHS.cancel, e2e.token, { jobId, reason: 'property' });
    else {
      const paused = await e2e.http.post(PATHS.pause, e2e.token, { jobId });
      if (paused.status === 200) {
        await sleep(100);
        const resumed = await e2e.http.post(PATHS.resume, e2e.token, { jobId });
        expect([200, 400], resumed.text).toContain(resumed.status);
      }
    }
  }
  await during;
  const final = await settled(jobId);
  failing.pct = 0;
  return final;
}

async function watermarksOf(pageId: string): Promise<string> {
  const out = await ddb.send(
    new GetCommand({ TableName: e2e.stack.tables.pages, Key: { pageId }, ConsistentRead: true }),
  );
  const { messengerWatermark, instagramWatermark, watermarkRecordedAt, syncsSinceFull } = out.Item ?? {};
  return JSON.stringify({ messengerWatermark, instagramWatermark, watermarkRecordedAt, syncsSinceFull });
}

type ContactFields = Record<
  string,
  { lastMessageAt: string; messageCount: number; aiContext: unknown; displayName: string }
>;

async function contactsOf(pageId: string): Promise<ContactFields> {
  const out: ContactFields = {};
  for (const c of await storedContacts(ddb, e2e.stack.tables.contacts, pageId))
    out[c.contactKey as string] = {
      lastMessageAt: c.lastMessageAt as string,
      messageCount: c.messageCount as number,
      aiContext: c.aiContext,
      displayName: c.displayName as string,
    };
  return out;
}

describe('incremental re-sync by watermark', () => {
  it('runs in full without a mode until the page has completed a sync, incrementally after; another mode is a 400', async () => {
    const bad = await e2e.http.post(PATHS.start, e2e.token, { pageId: DEFAULTS.id, mode: 'partial' });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: 'mode must be "incremental" or "full"' });
    const listed = async () =>
      (
        (await e2e.http.get(PATHS.pages, e2e.token)).body as { pages: { id: string; activeJob: unknown }[] }
      ).pages.find((p) => p.id === DEFAULTS.id);
    expect((await listed())?.activeJob).toBeNull();

    const first = await e2e.http.post(PATHS.start, e2e.token, { pageId: DEFAULTS.id });
    expect(first.body).toMatchObject({ mode: 'full', since: null });
    const firstJob = await settled(StartSyncResponse.parse(first.body).jobId);
    expect(firstJob).toMatchObject({ status: 'COMPLETED', mode: 'full', since: null, syncedContacts: 40 });

    const newest = (platform: 'messenger' | 'instagram') =>
      DEFAULTS.conversations[platform]
        .map((c) => c.updated_time)
        .sort()
        .at(-1);
    const oldestWatermark = [newest('messenger'), newest('instagram')].sort()[0];
    const again = await start(DEFAULTS, undefined);
    const againJob = await settled(again);
    expect(againJob, await watermarksOf(DEFAULTS.id)).toMatchObject({
      status: 'COMPLETED',
      mode: 'incremental',
      syncedContacts: 0,
      totalContacts: 0,
    });
    expect(Date.parse(againJob.since ?? '')).toBe(Date.parse(oldestWatermark ?? ''));
  });

  it('leaves every contact as a full sync would, after any history of changes, syncs, stops and failures', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 2, maxLength: 6 }), async (steps) => {
        const page = PAGES[run++];
        if (!page) throw new Error('more runs than pages');
        // The page's first sync: every history starts from a page that was synced once.
        expect(
          (
            await runSync(
              page,
              { kind: 'sync', mode: 'full', interrupt: { kind: 'none' }, messagesDuring: 0, failPct: 0 },
              'first',
            )
          ).status,
        ).toBe('COMPLETED');
        for (const [i, s] of steps.entries()) {
          if (s.kind === 'messages')
            e2e.stack.graph?.addMessages({ pageId: page.id, platform: s.platform, count: s.count });
          else await runSync(page, s, `${run}:${i}`);
        }
        // The last incremental sync, without failures or interruptions.
        const last = await runSync(
          page,
          { kind: 'sync', mode: 'incremental', interrupt: { kind: 'none' }, messagesDuring: 0, failPct: 0 },
          'last',
        );
        expect(last.status).toBe('COMPLETED');
        expect(last.mode, `the page's watermarks: ${await watermarksOf(page.id)}`).toBe('incremental');
        expect(last.failedContacts).toBe(0);
        const incremental = await contactsOf(page.id);

        // What a full sync of the final state writes.
        const full = await runSync(
          page,
          { kind: 'sync', mode: 'full', interrupt: { kind: 'none' }, messagesDuring: 0, failPct: 0 },
          'check',
        );
        expect(full.status).toBe('COMPLETED');
        expect(full.syncedContacts).toBe(90);
        expect(incremental).toEqual(await contactsOf(page.id));
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  }, 600_000);
});
