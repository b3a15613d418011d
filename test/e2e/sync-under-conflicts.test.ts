import { DynamoDBClient, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { isActive } from '#shared/job-status.ts';
import type { SimPage } from '../../local/graph-sim/demo-data.ts';
import { e2eStack } from './e2e-stack.ts';
import { simPages } from './http-client.ts';
import { storedContacts } from './stored-items.ts';

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

// Analyses that take a while, so that the chunks' commits run while the others analyse.
const e2e = e2eStack({ pages: [page], context: CONTEXT, analyzerLatencyMs: '40', user: 'conflicts-tester' });

describe('a sync under the transaction conflict model', () => {
  it('runs with the model on by default: a transaction stays in flight for the 25 ms hold', async () => {
    expect(e2e.stack.dynamoConflicts.txHoldMs).toBe(25);
    // The handlers' endpoint: the proxy with the model.
    const client = new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB });
    const started = performance.now();
    await client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Put: {
              TableName: e2e.stack.tables.jobs,
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
    e2e.stack.dynamoConflicts.reset();
    const jobId = await e2e.started(page.id);

    const final = await e2e.waitForJob(jobId, 'the sync to end', (job) => !isActive(job), { tries: 600 });

    expect(final).toMatchObject({ status: 'COMPLETED', totalContacts: total, syncedContacts: total });
    const doc = DynamoDBDocumentClient.from(e2e.stack.dynamo);
    const contacts = await storedContacts(doc, e2e.stack.tables.contacts, page.id);
    expect(contacts.filter((c) => c.lastSyncJobId === jobId)).toHaveLength(total);
    const failedTasks = e2e.stack.machines.flatMap((m) =>
      e2e.stack.sfn
        .ListExecutions({ stateMachineArn: m.arn, maxResults: 1000 })
        .executions.filter((e) => e.name === jobId || e.name.startsWith(`${jobId}-`))
        .flatMap((e) =>
          e2e.stack.sfn
            .GetExecutionHistory({ executionArn: e.executionArn, maxResults: 100_000 })
            .events.filter((ev) => ev.type === 'TaskFailed'),
        ),
    );
    expect(failedTasks).toEqual([]);
    console.info(
      `[conflicts] a sync of ${total} conversations: ${JSON.stringify(e2e.stack.dynamoConflicts.stats())}`,
    );
  }, 120_000);
});
