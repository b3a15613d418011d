import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { isRunning, type JobStatus } from '#shared/job-status.ts';
import { conflictRetries } from '#shared/store/conflict-retry.ts';
import { JOB_SK } from '#shared/store/table-keys.ts';
import type { GraphSimulator } from '../local/graph-sim/server.ts';
import { type BenchStack, counters, historyFigures, historyOf, settledExecutions, sleep } from './harness.ts';

/**
 * Reads the tables with a client of its own, outside the counted traffic: the benchmark's polling
 * is not part of what a sync costs.
 */
export function tableReader(b: BenchStack) {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: b.stack.dynamoDbEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    }),
  );
  /** Every page of a query of one page's contacts, optionally of one job (by `attribute`). */
  const contactsOf = async (
    pageId: string,
    of: { attribute: string; jobId: string } | undefined,
    extra: Pick<QueryCommandInput, 'Select' | 'ProjectionExpression'>,
    onPage: (out: QueryCommandOutput) => void,
  ) => {
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await client.send(
        new QueryCommand({
          TableName: b.stack.tables.contacts,
          KeyConditionExpression: 'pageId = :p',
          ...(of
            ? {
                FilterExpression: '#by = :j',
                ExpressionAttributeNames: { '#by': of.attribute },
                ExpressionAttributeValues: { ':p': pageId, ':j': of.jobId },
              }
            : { ExpressionAttributeValues: { ':p': pageId } }),
          ...extra,
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      onPage(out);
      startKey = out.LastEvaluatedKey;
    } while (startKey);
  };
  return {
    async job(jobId: string) {
      const out = await client.send(
        new GetCommand({ TableName: b.stack.tables.jobs, Key: { jobId, sk: JOB_SK }, ConsistentRead: true }),
      );
      return out.Item as
        | { status: JobStatus; syncedContacts?: number; failedContacts?: number; totalContacts?: number }
        | undefined;
    },
    /** Contacts of a page, optionally only those last written by `jobId`. */
    async countContacts(pageId: string, jobId?: string): Promise<number> {
      let count = 0;
      await contactsOf(
        pageId,
        jobId ? { attribute: 'lastSyncJobId', jobId } : undefined,
        { Select: 'COUNT' },
        (out) => {
          count += out.Count ?? 0;
        },
      );
      return count;
    },
    /** The earliest firstSyncedAt among the contacts `jobId` created on a page (epoch ms), or null. */
    async firstContactAt(pageId: string, jobId: string): Promise<number | null> {
      let first: number | null = null;
      await contactsOf(
        pageId,
        { attribute: 'createdByJobId', jobId },
        { ProjectionExpression: 'firstSyncedAt' },
        (out) => {
          for (const item of out.Items ?? []) {
            const at = Date.parse(String(item.firstSyncedAt));
            if (first === null || at < first) first = at;
          }
        },
      );
      return first;
    },
    destroy: () => client.destroy(),
  };
}

export type TableReader = ReturnType<typeof tableReader>;

export interface SyncRun {
  jobId: string;
  status: string;
  conversations: number;
  synced: number;
  failed: number;
  wallMs: number;
  graphCalls: number;
  rateLimitRejections: number;
  peakCallsPerSecond: number;
  executions: number;
  /** History events as AWS counts them (the local history records the same events). */
  awsEvents: number;
  maxAwsEventsPerExecution: number;
  /** Map iterations (chunks) in the execution with the most events. */
  maxChunkTurnsPerExecution: number;
  localEvents: number;
  transitions: number;
  /** Time spent in the per-chunk cancel checks, summed over every chunk (ms). */
  checkMs: number;
  lambdaInvocations: number;
  lambdaGbSeconds: number;
  /** Durations of the chunk worker's invocations (ms). */
  chunkMs: number[];
  analysed: number;
  readUnits: number;
  writeUnits: number;
  replayReadUnits: number;
  dynamoRequests: number;
  /** Contact commits that include the job item (see counters.jobItemWrites). */
  jobItemWrites: number;
  /** Conflicts the model answered during the run (every client, every operation). */
  transactionConflicts: number;
  /** Conflicts the handlers' client met, retried, and gave up on. */
  conflictsMet: number;
  conflictRetries: number;
  conflictsGivenUp: number;
  /** Chunk worker attempts that threw (the workflow retries or catches them). */
  chunkFailures: number;
}

/** One sync over HTTP, from the 202 to the terminal status, with every counter of the run. */
export async function measureSync(
  b: BenchStack,
  reader: TableReader,
  graph: GraphSimulator | undefined,
  start: () => Promise<string>,
  pollMs = 50,
): Promise<SyncRun> {
  counters.reset();
  b.stack.dynamoConflicts.reset();
  graph?.resetStats();
  const t0 = performance.now();
  const jobId = await start();
  let job = await reader.job(jobId);
  while (!job || isRunning(job)) {
    await sleep(pollMs);
    job = await reader.job(jobId);
  }
  const wallMs = performance.now() - t0;
  const executions = await settledExecutions(b, jobId);
  for (let i = 0; (counters.inFlight.get(jobId) ?? 0) > 0 && i < 200; i++) await sleep(25);
  let awsEvents = 0;
  let localEvents = 0;
  let transitions = 0;
  let checkMs = 0;
  let maxAws = 0;
  let maxTurns = 0;
  for (const e of executions) {
    const f = historyFigures(await historyOf(b, e.executionArn as string));
    awsEvents += f.awsEvents;
    localEvents += f.localEvents;
    transitions += f.transitions;
    checkMs += f.checkMs;
    if (f.awsEvents > maxAws) {
      maxAws = f.awsEvents;
      maxTurns = f.chunkTurns;
    }
  }
  const mine = counters.invocations.filter((i) => i.jobId === jobId);
  const conflicts = b.stack.dynamoConflicts.stats();
  const chunks = mine.filter((i) => i.analysed !== undefined);
  const stats = graph?.stats();
  return {
    jobId,
    status: job.status,
    conversations: job.totalContacts ?? 0,
    synced: job.syncedContacts ?? 0,
    failed: job.failedContacts ?? 0,
    wallMs,
    graphCalls: stats?.totalCalls ?? Number.NaN,
    rateLimitRejections: stats?.rateLimitRejections ?? Number.NaN,
    peakCallsPerSecond: Math.max(0, ...Object.values(stats?.maxCallsInAnyOneSecondByPage ?? {})),
    executions: executions.length,
    awsEvents,
    maxAwsEventsPerExecution: maxAws,
    maxChunkTurnsPerExecution: maxTurns,
    localEvents,
    transitions,
    checkMs,
    lambdaInvocations: mine.length,
    lambdaGbSeconds: mine.reduce(
      (sum, i) => sum + ((i.end - i.start) / 1000) * (b.memoryMbOf(i.fn) / 1024),
      0,
    ),
    chunkMs: chunks.map((i) => i.end - i.start),
    analysed: chunks.reduce((sum, i) => sum + (i.analysed ?? 0), 0),
    readUnits: counters.readUnits,
    writeUnits: counters.writeUnits,
    replayReadUnits: counters.replayReadUnits,
    dynamoRequests: counters.dynamoRequests,
    jobItemWrites: counters.jobItemWrites,
    transactionConflicts:
      conflicts.transactionsCancelled + conflicts.singleWritesRefused + conflicts.transactGetsCancelled,
    conflictsMet: conflictRetries.conflicts,
    conflictRetries: conflictRetries.retries,
    conflictsGivenUp: conflictRetries.gaveUp,
    chunkFailures: mine.filter((i) => i.failed && /^ProcessChunk/.test(i.fn)).length,
  };
}
