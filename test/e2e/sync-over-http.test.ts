import { type ChildProcess, spawn } from 'node:child_process';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, type RouteName, routePath } from '#shared/api/routes.ts';
import { sleep } from '#shared/sleep.ts';
import { signLocalToken } from '../../local/auth.ts';
import { DATA_DIR, ROOT } from '../../local/local-stack.ts';
import { storedContacts } from './stored-items.ts';

/**
 * The README walk-through as a test: `npm start` in a child process (every port free-picked),
 * then only HTTP: list pages, start a sync, watch it rise, stop it, and check it stays stopped.
 */
const PAGE_ID = '104729384756192';
const credentials = { accessKeyId: 'e2e', secretAccessKey: 'e2e' };

let child: ChildProcess;
let output = '';
let api: string;
let headers: Record<string, string>;
const endpoints: Record<string, string> = {};

type Job = {
  id: string;
  status: string;
  syncedContacts: number;
  failedContacts: number;
  totalContacts: number;
  progress: number | null;
  completedAt: string | null;
  executions: { name: string; status: string }[];
};

/** A route of the route table, at `path` (default: its own). */
async function call(route: RouteName, body?: unknown, path: string = ROUTES[route].path) {
  const res = await fetch(`${api}${path}`, {
    method: ROUTES[route].method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const status = async (jobId: string) =>
  (await call('syncStatus', undefined, routePath('syncStatus', { jobId }))).body.job as Job;

beforeAll(async () => {
  headers = {
    authorization: `Bearer ${await signLocalToken(DATA_DIR, { org: 'demo-org', user: 'e2e-user' })}`,
    'content-type': 'application/json',
  };
  child = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: '0',
      DYNAMODB_PORT: '0',
      SFN_PORT: '0',
      GRAPH_SIM_PORT: '0',
      OIDC_PORT: '0',
      // Slow enough to watch and stop mid-way, as a person would.
      GRAPH_SIM_LATENCY_MS: '100',
      ANALYZER_LATENCY_MS: '25',
      AWS_ENDPOINT_URL_DYNAMODB: '',
      AWS_ENDPOINT_URL_SFN: '',
    },
  });
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const deadline = Date.now() + 90_000;
  while (!/ready at (http\S+)/.test(output)) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`npm start did not become ready:\n${output}`);
    await sleep(100);
  }
  api = (/ready at (http\S+)/.exec(output) as RegExpExecArray)[1] as string;
  for (const [name, pattern] of [
    ['dynamodb', /DynamoDB Local\s+(http\S+)/],
    ['sfn', /Step Functions\s+(http\S+)/],
  ] as const) {
    endpoints[name] = (pattern.exec(output) as RegExpExecArray)[1] as string;
  }
}, 120_000);

afterAll(async () => {
  if (child?.pid && child.exitCode === null) {
    process.kill(-child.pid, 'SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  // npm start enforces the template's IAM policies too (local/iam.ts): nothing may be denied.
  expect(output).not.toContain('[iam] DENIED');
});

describe('a sync started, watched and stopped over HTTP', () => {
  it('serves the API on loopback and lists the demo page', async () => {
    expect(api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { status: code, body } = await call('listPages');
    expect(code).toBe(200);
    expect(body.pages).toEqual([
      expect.objectContaining({ id: PAGE_ID, pageName: 'My Business Page', activeJob: null }),
    ]);
    expect(JSON.stringify(body)).not.toContain('demo-page-token');
  });

  it('rejects a request without a valid token', async () => {
    const res = await fetch(`${api}${ROUTES.listPages.path}`, {
      headers: { authorization: 'Bearer not-a-jwt' },
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'Unauthorized' });
  });

  it('starts, rises, stops on cancel, and stays stopped with the saved contacts kept', async () => {
    const { count: contactsBefore } = await contactsOfJob('none');
    const started = await call('startSync', { pageId: PAGE_ID });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: 'PENDING', message: 'Sync started' });
    const jobId = started.body.jobId as string;

    const duplicate = await call('startSync', { pageId: PAGE_ID });
    expect(duplicate).toEqual({
      status: 409,
      body: { error: 'A sync is already running for this page', activeJobId: jobId },
    });

    // Watch syncedContacts rise: two increasing readings while the job is still running.
    const seen: number[] = [];
    for (let i = 0; i < 300 && seen.length < 2; i++) {
      const job = await status(jobId);
      expect(job.status, JSON.stringify(job)).toBe('IN_PROGRESS');
      if (job.syncedContacts > (seen.at(-1) ?? 0)) seen.push(job.syncedContacts);
      await sleep(100);
    }
    expect(seen).toHaveLength(2);

    const cancelled = await call('cancelSync', { jobId, reason: 'wrong page' });
    expect(cancelled.status).toBe(200);
    const ack = (cancelled.body as { success: boolean; job: Job }).job;
    expect(cancelled.body.success).toBe(true);
    expect(ack.status).toBe('CANCELLED');
    expect(ack.syncedContacts).toBeGreaterThanOrEqual(seen[1] as number);
    expect(ack.syncedContacts).toBeLessThan(497);

    const afterCancel = await status(jobId);
    expect(afterCancel).toMatchObject({
      status: 'CANCELLED',
      syncedContacts: ack.syncedContacts,
      failedContacts: ack.failedContacts,
    });
    expect(afterCancel).toMatchObject({ cancelledBy: 'e2e-user', cancelReason: 'wrong page' });

    // Counters frozen: in-flight chunk work finds the job cancelled and writes nothing more.
    // The executions' list mirrors Step Functions, so it may still move (RUNNING, then ABORTED) after
    // the job is final: the same executions, and everything else exactly as it was.
    await sleep(2500);
    const later = await status(jobId);
    expect({ ...later, executions: [] }).toEqual({ ...afterCancel, executions: [] });
    expect(later.executions.map((e) => e.name)).toEqual(afterCancel.executions.map((e) => e.name));

    // Partial contacts kept, and exactly as many as the counter says.
    const saved = await contactsOfJob(jobId);
    expect(saved.count).toBe(ack.syncedContacts);
    const pages = (await call('listPages')).body.pages as {
      contactCount: number;
      activeJob: unknown;
    }[];
    expect(pages[0]).toMatchObject({ contactCount: contactsBefore + ack.syncedContacts, activeJob: null });

    // The execution itself was stopped.
    const sfn = new SFNClient({ endpoint: endpoints.sfn, region: 'us-east-1', credentials });
    const execution = await sfn.send(
      new DescribeExecutionCommand({ executionArn: await executionArnOf(jobId) }),
    );
    expect(execution.status).toBe('ABORTED');

    // Cancel is idempotent: the same answer again.
    const again = await call('cancelSync', { jobId });
    expect(again).toEqual({ status: 200, body: cancelled.body });

    // A new sync can start at once.
    const next = await call('startSync', { pageId: PAGE_ID });
    expect(next.status).toBe(202);
    const stop = await call('cancelSync', { jobId: next.body.jobId });
    expect(stop.status).toBe(200);
  }, 90_000);
});

async function contactsOfJob(jobId: string): Promise<{ count: number }> {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: endpoints.dynamodb, region: 'us-east-1', credentials }),
  );
  const { TableNames = [] } = await client.send(new ListTablesCommand({}));
  const table = TableNames.find((t) => t.startsWith('DataContacts')) as string;
  const contacts = await storedContacts(client, table, PAGE_ID);
  return { count: contacts.filter((c) => jobId === 'none' || c.lastSyncJobId === jobId).length };
}

async function executionArnOf(jobId: string): Promise<string> {
  const machine = /State machine\s+(\S+)/.exec(output)?.[1];
  if (!machine) throw new Error('state machine ARN not printed');
  return `${machine.replace(':stateMachine:', ':execution:')}:${jobId}`;
}
