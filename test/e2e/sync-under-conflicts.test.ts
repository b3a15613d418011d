import { DynamoDBClient, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StartSyncResponse } from '#shared/contract.ts';
import { signLocalToken } from '../../local/auth.ts';
import type { SimPage } from '../../local/graph-sim/seed.ts';
import { DATA_DIR, type LocalStack, startLocalStack } from '../../local/stack.ts';
import { HttpClient, isActive, PATHS, pollUntil, readJob, simPages } from './http-client.ts';

/**
 * A bounded sync on an embedded stack with its defaults, so under the model of DynamoDB's
 * transaction conflicts (docs/dynamodb-conflicts.md): four chunks at once, each analysing ten
 * conversations at a time, all committing to one job item. It must complete with exact counters,
 * and no chunk may fail on a conflict.
 */

const CONTEXT = { chunkSize: 10, mapConcurrency: 4, maxChunksPerSegment: 20 };
const simPage = simPages('9500000000', 'E2E conflicts');
const page: SimPage = simPage('many chunks at once', 80, 20);
const total = page.conversations.messenger.length + page.conversations.instagram.length;

let stack: LocalStack;
let http: HttpClient;
let token: string;
const ORIGINAL_ANALYZER_LATENCY = process.env.ANALYZER_LATENCY_MS;

beforeAll(async () => {
  // Analyses that take a while, so that the chunks' commits run while the others analyse.
  process.env.ANALYZER_LATENCY_MS = '40';
  stack = await startLocalStack({ port: 0, sfnPort: 0, graphSimPort: 0, pages: [page], context: CONTEXT });
  http = new HttpClient(stack.apiUrl);
  token = await signLocalToken(DATA_DIR, { org: 'demo-org', user: 'conflicts-tester' });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (ORIGINAL_ANALYZER_LATENCY === undefined) delete process.env.ANALYZER_LATENCY_MS;
  else process.env.ANALYZER_LATENCY_MS = ORIGINAL_ANALYZER_LATENCY;
});

describe('a sync under the transaction conflict model', () => {
  it('runs with the model on by default: a transaction stays in flight for the 25 ms hold', async () => {
    expect(stack.dynamoConflicts.txHoldMs).toBe(25);
    // The handlers' endpoint: the proxy with the model.
    const client = new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB });
    const started = performance.now();
    await client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Put: {
              TableName: stack.tables.jobs,
              Item: { jobId: { S: 'conflict-model-probe' }, sk: { S: 'PROBE' } },
            },
          },
        ],
      }),
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    client.destroy();
  });

  it('completes with exact counters, every contact stored once, and no chunk failed', async () => {
    stack.dynamoConflicts.reset();
    const answer = await http.post(PATHS.start, token, { pageId: page.id });
    expect(answer.status, answer.text).toBe(202);
    const { jobId } = StartSyncResponse.parse(answer.body);

    const final = await pollUntil(
      'the sync to end',
      () => readJob(http, jobId, token),
      (job) => !isActive(job),
      { tries: 600 },
    );

    expect(final).toMatchObject({ status: 'COMPLETED', totalContacts: total, syncedContacts: total });
    const doc = DynamoDBDocumentClient.from(stack.dynamo);
    const contacts = await doc.send(
      new QueryCommand({
        TableName: stack.tables.contacts,
        KeyConditionExpression: 'pageId = :p',
        ExpressionAttributeValues: { ':p': page.id },
        ConsistentRead: true,
      }),
    );
    expect(contacts.Items?.filter((c) => c.lastSyncJobId === jobId)).toHaveLength(total);
    const failedTasks = stack.machines.flatMap((m) =>
      stack.sfn
        .ListExecutions({ stateMachineArn: m.arn, maxResults: 1000 })
        .executions.filter((e) => e.name === jobId || e.name.startsWith(`${jobId}-`))
        .flatMap((e) =>
          stack.sfn
            .GetExecutionHistory({ executionArn: e.executionArn, maxResults: 100_000 })
            .events.filter((ev) => ev.type === 'TaskFailed'),
        ),
    );
    expect(failedTasks).toEqual([]);
    console.info(
      `[conflicts] a sync of ${total} conversations: ${JSON.stringify(stack.dynamoConflicts.stats())}`,
    );
  }, 120_000);
});
