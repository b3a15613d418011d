import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  DescribeExecutionCommand,
  type ExecutionListItem,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routePath } from '#shared/api/routes.ts';
import { ContactsResponse, PagesResponse } from '#shared/contract.ts';
import { isActive } from '#shared/job-status.ts';
import { generatePage } from '../../local/graph-sim/demo-data.ts';
import { e2eStack } from './e2e-stack.ts';
import { localSfnClient, PATHS, pollUntil } from './http-client.ts';

/**
 * One large sync end to end over HTTP on the embedded stack: 4,000 Messenger + 1,000 Instagram
 * conversations, chunks of 100, at most 20 chunks per execution, so Messenger alone needs two
 * executions (continue-as-new). The simulator enforces the real 2 calls/s per Page, so the run
 * takes about a minute; nothing here asserts a timing, the wall time is only reported.
 */

const MESSENGER = 4_000;
const INSTAGRAM = 1_000;
const TOTAL = MESSENGER + INSTAGRAM;
const CONTEXT = { chunkSize: 100, mapConcurrency: 4, maxChunksPerSegment: 20 };
/** A Standard execution fails at 25,000 history events; "far fewer" means under a tenth of that. */
const HISTORY_EVENT_LIMIT = 25_000;

const page = generatePage({
  id: '930000000000001',
  name: 'E2E Scale Page',
  accessToken: 'e2e_scale_page_token_930000000000001_secret',
  messenger: MESSENGER,
  instagram: INSTAGRAM,
});

const e2e = e2eStack({ pages: [page], context: CONTEXT, user: 'scale-tester' });
let sfn: SFNClient;

beforeAll(() => {
  sfn = localSfnClient(e2e.stack.sfnEndpoint);
});

afterAll(() => {
  sfn?.destroy();
});

/** The executions of a job: the first is named after the job, continuations `<jobId>-<platform><n>`. */
async function executionsOf(jobId: string): Promise<ExecutionListItem[]> {
  const stateMachineArn = e2e.stack.machines[0]?.arn;
  expect(stateMachineArn).toBeDefined();
  const { executions = [] } = await sfn.send(
    new ListExecutionsCommand({ stateMachineArn, maxResults: 1000 }),
  );
  return executions.filter((e) => e.name === jobId || e.name?.startsWith(`${jobId}-`));
}

async function historyOf(executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  for (let i = 0; i < 100; i++) {
    const answer = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 100_000, nextToken }),
    );
    events.push(...(answer.events ?? []));
    nextToken = answer.nextToken;
    if (!nextToken) return events;
  }
  throw new Error(`the history of ${executionArn} never ended`);
}

describe('a sync at scale', () => {
  it('imports 5,000 conversations exactly once, within the Page rate limit, in small executions', async () => {
    // Report-only diagnostic: how late this process's event loop ran (the simulator and the
    // workers share it, so a late loop delays a Graph call's arrival after its limiter slot).
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const t0 = performance.now();
    const jobId = await e2e.started(page.id);

    // Bounded: 600 reads 500 ms apart is 5 minutes at most (plus the reads themselves).
    const job = await e2e.waitForJob(jobId, 'the sync to end', (j) => !isActive(j), {
      tries: 600,
      intervalMs: 500,
    });
    const wallSeconds = (performance.now() - t0) / 1000;
    loopDelay.disable();
    const stats = e2e.stack.graph?.stats();
    const peaks = stats?.maxCallsInAnyOneSecondByPage ?? {};

    // The executions: the job's own plus its continuations. Finalize completes the job a moment
    // before its execution ends, so wait (bounded) for RUNNING to settle.
    const settled = await pollUntil(
      'the job executions to settle',
      () => executionsOf(jobId),
      (list) => list.length > 0 && list.every((e) => e.status !== 'RUNNING'),
      { tries: 100, intervalMs: 100 },
    );
    const historyCounts: Record<string, number> = {};
    for (const execution of settled)
      historyCounts[execution.name as string] = (await historyOf(execution.executionArn as string)).length;

    // The figures first (kept out of the assertions), so that a failing run still reports them.
    console.info(
      `[sync-at-scale] ${TOTAL} conversations (${MESSENGER} messenger + ${INSTAGRAM} instagram), ` +
        `context ${JSON.stringify(CONTEXT)}: ${job.status} in ${wallSeconds.toFixed(1)} s wall time ` +
        `(synced ${job.syncedContacts}, failed ${job.failedContacts}, total ${job.totalContacts}); ` +
        `${settled.length} executions ${JSON.stringify(settled.map((e) => [e.name, e.status]))}, ` +
        `history events ${JSON.stringify(historyCounts)}; Graph calls ${stats?.totalCalls}, ` +
        `peak calls/s ${JSON.stringify(peaks)}, rate-limit rejections ${stats?.rateLimitRejections}; ` +
        `event-loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms, ` +
        `max ${(loopDelay.max / 1e6).toFixed(0)} ms`,
    );

    expect(job).toMatchObject({
      id: jobId,
      pageId: page.id,
      status: 'COMPLETED',
      syncedContacts: TOTAL,
      totalContacts: TOTAL,
      failedContacts: 0,
      progress: 100,
    });
    expect(job.error).toBeUndefined();

    // The page's contact count, and no lock left behind.
    const pages = await e2e.http.get(PATHS.pages, e2e.token);
    expect(pages.status, pages.text).toBe(200);
    const listed = PagesResponse.strict()
      .parse(pages.body)
      .pages.find((p) => p.id === page.id);
    expect(listed).toBeDefined();
    expect(listed?.contactCount).toBe(TOTAL);
    expect(listed?.activeJob).toBeNull();

    // Every contact, walking the cursor: 5,000 distinct ones, each written by this job.
    const keys = new Set<string>();
    const byPlatform = { messenger: 0, instagram: 0 };
    let listedContacts = 0;
    let cursor: string | undefined;
    let ended = false;
    for (let i = 0; i < 200 && !ended; i++) {
      const answer = await e2e.http.get(
        routePath('pageContacts', { pageId: page.id, limit: 100, cursor }),
        e2e.token,
      );
      expect(answer.status, answer.text).toBe(200);
      const body = ContactsResponse.strict().parse(answer.body);
      for (const contact of body.contacts) {
        listedContacts++;
        keys.add(contact.contactKey);
        byPlatform[contact.platform]++;
        expect(contact.lastSyncJobId, contact.contactKey).toBe(jobId);
      }
      if (body.nextCursor === null) ended = true;
      else cursor = body.nextCursor;
    }
    expect(ended, 'the contacts cursor ended').toBe(true);
    expect(listedContacts).toBe(TOTAL);
    expect(keys.size).toBe(TOTAL);
    expect(byPlatform).toEqual({ messenger: MESSENGER, instagram: INSTAGRAM });

    // Every worker drew from the shared per-Page budget: nothing throttled, never above 2/s.
    expect(stats).toBeDefined();
    expect(stats?.rateLimitRejections).toBe(0);
    expect(Object.keys(peaks).length).toBeGreaterThan(0);
    for (const [key, peak] of Object.entries(peaks))
      expect(peak, `peak calls/s of ${key}`).toBeLessThanOrEqual(2);

    // Messenger alone needs two executions; every one SUCCEEDED and stayed far below the limit.
    expect(settled.map((e) => e.name)).toContain(jobId);
    expect(settled.length).toBeGreaterThanOrEqual(2);
    for (const execution of settled) {
      expect(execution.status, execution.name).toBe('SUCCEEDED');
      const described = await sfn.send(
        new DescribeExecutionCommand({ executionArn: execution.executionArn }),
      );
      expect(described.status, execution.name).toBe('SUCCEEDED');
      const events = historyCounts[execution.name as string] ?? 0;
      expect(events, `history events of ${execution.name}`).toBeGreaterThan(0);
      expect(events, `history events of ${execution.name}`).toBeLessThan(HISTORY_EVENT_LIMIT / 10);
    }
  }, 300_000);
});
