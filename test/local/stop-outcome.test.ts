import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionArnFor } from '#shared/sfn.ts';
import { JOB_SK } from '#shared/store/db.ts';
import { signLocalToken } from '../../local/auth.ts';
import { generatePage } from '../../local/graph-sim/demo-data/generate-page.ts';
import { DATA_DIR, type LocalStack, startLocalStack } from '../../local/local-stack.ts';

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
const ORIGINAL_ANALYZER_LATENCY = process.env.ANALYZER_LATENCY_MS;

let stack: LocalStack;
let sfn: SFNClient;
let headers: Record<string, string>;

beforeAll(async () => {
  // Slow analyses, so that every sync is still running when it is stopped.
  process.env.ANALYZER_LATENCY_MS = '200';
  stack = await startLocalStack({
    port: 0,
    sfnPort: 0,
    graphSimPort: 0,
    pages: Object.values(PAGES),
    context: { chunkSize: 10, mapConcurrency: 2 },
  });
  sfn = new SFNClient({
    endpoint: stack.sfnEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  const token = await signLocalToken(DATA_DIR, { org: 'demo-org', user: 'stopper' });
  headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
});
afterAll(async () => {
  stack?.sfn.failing.clear();
  sfn?.destroy();
  await stack?.stop();
  if (ORIGINAL_ANALYZER_LATENCY === undefined) delete process.env.ANALYZER_LATENCY_MS;
  else process.env.ANALYZER_LATENCY_MS = ORIGINAL_ANALYZER_LATENCY;
});

const post = async (path: string, body: unknown) => {
  const res = await fetch(`${stack.apiUrl}/api/facebook/${path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { jobId?: string; job?: { status?: string } } };
};

/** The job item as stored (sync-status does not show the stop's outcome). */
async function jobItem(jobId: string): Promise<Record<string, unknown>> {
  const out = await stack.dynamo.send(
    new GetItemCommand({ TableName: stack.tables.jobs, Key: { jobId: { S: jobId }, sk: { S: JOB_SK } } }),
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
  const started = await post('sync-background', { pageId });
  expect(started.status).toBe(202);
  const jobId = String(started.body.jobId);
  expect((await eventually(jobId, (j) => j.status === 'IN_PROGRESS')).status).toBe('IN_PROGRESS');
  return jobId;
}

describe('the StopExecution outcome of a stop', () => {
  it.each([
    ['cancel', 'sync-cancel', PAGES.cancelled, 'CANCELLED'],
    ['pause', 'sync-pause', PAGES.paused, 'PAUSED'],
  ])(
    'a %s that stopped the execution: recorded STOPPED by the execution mirror, with ABORTED',
    async (_kind, path, page, status) => {
      const jobId = await running(page.id);

      const answer = await post(path, { jobId });

      expect(answer).toMatchObject({ status: 200, body: { job: { status } } });
      const executionArn = executionArnFor(jobId, stack.machines[0]?.arn);
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
      if (status === 'PAUSED') expect((await post('sync-cancel', { jobId })).status).toBe(200);
    },
  );

  it('a cancel whose StopExecution fails: recorded FAILED before the answer, and the workflow stops itself', async () => {
    const jobId = await running(PAGES.failing.id);
    stack.sfn.failing.add('StopExecution');
    try {
      const answer = await post('sync-cancel', { jobId });

      expect(answer).toMatchObject({ status: 200, body: { job: { status: 'CANCELLED' } } });
      expect(String((await jobItem(jobId)).stopExecutionOutcome)).toMatch(/^FAILED: /);
    } finally {
      stack.sfn.failing.delete('StopExecution');
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
