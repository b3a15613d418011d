import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routePath } from '#shared/api/routes.ts';
import { executionArnFor } from '#shared/sfn.ts';
import { JOB_SK } from '#shared/store/table-keys.ts';
import { e2eStack } from '#test/e2e/e2e-stack.ts';
import { localSfnClient } from '#test/e2e/http-client.ts';
import { generatePage } from '../../local/graph-sim/demo-data/generate-page.ts';

/**
 * Where a stop's StopExecution outcome ends up, on the embedded stack: a cancel or pause that
 * stopped the execution leaves the record to the execution mirror (the target of the local Step
 * Functions' status-change events), which writes it with the ABORTED status after the answer; a
 * stop whose StopExecution failed records the outcome itself, before the answer.
 */
const pageOf = (n: number, name: string) =>
  generatePage({
    id: `91000000000000${n}`,
    name,
    accessToken: `stop-outcome-token-${n}`,
    messenger: 120,
    instagram: 0,
  });
const PAGES = {
  cancelled: pageOf(1, 'Stop outcome cancel'),
  paused: pageOf(2, 'Stop outcome pause'),
  failing: pageOf(3, 'Stop outcome failing'),
};
// Slow analyses, so that every sync is still running when it is stopped.
const e2e = e2eStack({
  pages: Object.values(PAGES),
  context: { chunkSize: 10, mapConcurrency: 2 },
  analyzerLatencyMs: '200',
  user: 'stopper',
});
let sfn: SFNClient;

beforeAll(() => {
  sfn = localSfnClient(e2e.stack.sfnEndpoint);
});
afterAll(() => {
  e2e.stack?.sfn.failing.clear();
  sfn?.destroy();
});

const post = (name: 'cancelSync' | 'pauseSync', body: unknown) =>
  e2e.http.post(routePath(name), e2e.token, body);

/** The job item as stored (sync-status does not show the stop's outcome). */
async function jobItem(jobId: string): Promise<Record<string, unknown>> {
  const out = await e2e.stack.dynamo.send(
    new GetItemCommand({ TableName: e2e.stack.tables.jobs, Key: { jobId: { S: jobId }, sk: { S: JOB_SK } } }),
  );
  return out.Item ? unmarshall(out.Item) : {};
}

async function eventually(jobId: string, done: (item: Record<string, unknown>) => boolean) {
  let item = await jobItem(jobId);
  for (let i = 0; i < 200 && !done(item); i++) {
    await new Promise((r) => setTimeout(r, 50));
    item = await jobItem(jobId);
  }
  return item;
}

/** Starts a sync of `pageId` and waits until its workflow has marked it IN_PROGRESS. */
async function running(pageId: string): Promise<string> {
  const jobId = await e2e.started(pageId);
  expect((await eventually(jobId, (j) => j.status === 'IN_PROGRESS')).status).toBe('IN_PROGRESS');
  return jobId;
}

describe('the StopExecution outcome of a stop', () => {
  it.each([
    ['cancel', 'cancelSync', PAGES.cancelled, 'CANCELLED'],
    ['pause', 'pauseSync', PAGES.paused, 'PAUSED'],
  ] as const)(
    'a %s that stopped the execution: recorded STOPPED by the execution mirror, with ABORTED',
    async (_kind, route, page, status) => {
      const jobId = await running(page.id);

      const answer = await post(route, { jobId });

      expect(answer).toMatchObject({ status: 200, body: { job: { status } } });
      const executionArn = executionArnFor(jobId, e2e.stack.machines[0]?.arn);
      const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      expect(execution.status).toBe('ABORTED');
      const item = await eventually(jobId, (j) => j.stopExecutionOutcome !== undefined);
      expect(item).toMatchObject({
        status,
        executionStatus: 'ABORTED',
        executionStatusArn: executionArn,
        stopExecutionOutcome: 'STOPPED',
      });
      // A paused job keeps its page locked: free it for the other tests.
      if (status === 'PAUSED') expect((await post('cancelSync', { jobId })).status).toBe(200);
    },
  );

  it('a cancel whose StopExecution fails: recorded FAILED before the answer, and the workflow stops itself', async () => {
    const jobId = await running(PAGES.failing.id);
    e2e.stack.sfn.failing.add('StopExecution');
    try {
      const answer = await post('cancelSync', { jobId });

      expect(answer).toMatchObject({ status: 200, body: { job: { status: 'CANCELLED' } } });
      expect(String((await jobItem(jobId)).stopExecutionOutcome)).toMatch(/^FAILED: /);
    } finally {
      e2e.stack.sfn.failing.delete('StopExecution');
    }
    // Not aborted: the execution ends at its next cancel check, and no STOPPED is written over.
    const item = await eventually(
      jobId,
      (j) => j.executionStatus !== undefined && j.executionStatus !== 'RUNNING',
    );
    expect(item.executionStatus).not.toBe('ABORTED');
    expect(String(item.stopExecutionOutcome)).toMatch(/^FAILED: /);
  });
});
