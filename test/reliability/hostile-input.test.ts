import { beforeAll, describe, expect, it } from 'vitest';
import { StartSyncResponse } from '#shared/contract.ts';
import { PATHS, pollUntil, readJob } from '#test/e2e/http-client.ts';
import { harnessForFile } from './harness.ts';
import { CATEGORIES, ROUTES, runHostileInput } from './hostile-input.ts';

/**
 * The hostile-input section at its bounded size: 600 seeded hostile requests over every route
 * (12 routes: about as many per route as 400 gave the first 8). One page has a completed sync
 * first, so a real job, real contacts and real cursors are among the targets; pause, resume and
 * retry of that COMPLETED job are refused (400) and change nothing. Nothing else runs on this stack meanwhile: the section compares the tables, executions
 * and Graph calls before and after (and holds every page of the harness while it runs).
 */
const harness = harnessForFile({ pages: 2, messenger: 6, instagram: 3 });

beforeAll(async () => {
  const h = harness();
  const page = h.pages[0];
  if (!page) throw new Error('the harness has no page');
  const started = await h.http.post(PATHS.start, h.tokens.demo, { pageId: page.id });
  expect(started.status, started.text).toBe(202);
  const { jobId } = StartSyncResponse.parse(started.body);
  await pollUntil(
    `job ${jobId} to complete`,
    () => readJob(h.http, jobId, h.tokens.demo),
    (job) => job.status === 'COMPLETED',
    { tries: 600, intervalMs: 100 },
  );
}, 120_000);

describe('reliability: hostile input', () => {
  it('600 hostile requests over every route: a 4xx {error} (200 for reads and for a bulk cancel with nothing to stop), no 5xx, no reset, no state change', async () => {
    const result = await runHostileInput(harness(), { inputs: 600, seed: 7 });
    console.info(
      `[hostile input] ${result.requests} requests in ${result.sendMs} ms, ${result.violations.length} violations; ` +
        `by route ${JSON.stringify(result.byRoute)}; by category ${JSON.stringify(result.byCategory)}; ` +
        `by status ${JSON.stringify(result.byStatus)}`,
    );
    expect(result.violations).toEqual([]);
    expect(result.section).toBe('hostile input');
    expect(result.inputs).toBe(600);
    expect(result.requests).toBe(600);
    expect(result.trials).toBe(0);
    expect(result.faults).toBe(0);
    expect(Object.keys(result.byRoute).sort()).toEqual([...ROUTES].sort());
    expect(Object.keys(result.byCategory).sort()).toEqual([...CATEGORIES].sort());
  }, 60_000);
});
