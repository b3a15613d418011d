import { createHash } from 'node:crypto';
import { BatchGetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { logger } from '../observability.ts';
import type { Platform } from '../schemas.ts';
import type { SyncJob } from '../sync/job.ts';
import { ddb, JOB_SK, tables, transactionReasons } from './db.ts';

/**
 * Chunk markers: the checkpoint of pause/resume and retry. A chunk whose conversations were all
 * processed by a job gets an item in the job's partition, `CHUNK#<platform>#<sha256(cursor)>`
 * (the cursor is hashed so the key stays short whatever Graph's cursor), holding only counts.
 * Access patterns: BatchGet of one chunk's markers for a job and the job it retries (one read per
 * chunk, none per conversation); Put when a chunk is done.
 */
export interface ChunkMarker {
  jobId: string;
  sk: string;
  conversations: number;
  failed: number;
}

export function chunkSk(platform: Platform, after: string | null): string {
  return `CHUNK#${platform}#${createHash('sha256')
    .update(after ?? '')
    .digest('hex')}`;
}

/** The markers of this chunk for each of `jobIds` that has one, by job id. */
export async function findChunkMarkers(
  jobIds: string[],
  platform: Platform,
  after: string | null,
): Promise<Map<string, ChunkMarker>> {
  const sk = chunkSk(platform, after);
  const out = await ddb.send(
    new BatchGetCommand({
      RequestItems: {
        [tables.jobs]: { Keys: jobIds.map((jobId) => ({ jobId, sk })), ConsistentRead: true },
      },
    }),
  );
  const found = new Map<string, ChunkMarker>();
  for (const item of (out.Responses?.[tables.jobs] ?? []) as ChunkMarker[]) found.set(item.jobId, item);
  return found;
}

/**
 * Records that job `jobId` processed every conversation of the chunk, in one transaction with a
 * check that the job is still IN_PROGRESS: after an acknowledged pause or cancel nothing is
 * written, not even a marker. Returns false when the marker was not written: the job was no
 * longer running, or the write kept failing. The marker only saves work (a resume or retry
 * without it fetches the chunk again and skips its conversations one by one), so a failure here
 * never fails the chunk. The check reads the job item, so it can meet a transaction conflict with
 * the job's other writers; the client retries those (conflict-retry.ts).
 */
export async function recordChunkDone(
  jobId: string,
  platform: Platform,
  after: string | null,
  counts: { conversations: number; failed: number },
): Promise<boolean> {
  try {
    await writeMarker(jobId, platform, after, counts);
    return true;
  } catch (error) {
    if (transactionReasons(error)?.[0] === 'ConditionalCheckFailed') return false;
    logger.warn('Could not record the chunk as done; a resume would fetch it again', {
      jobId,
      error: (error as Error).name,
    });
    return false;
  }
}

async function writeMarker(
  jobId: string,
  platform: Platform,
  after: string | null,
  counts: { conversations: number; failed: number },
): Promise<void> {
  await ddb.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          ConditionCheck: {
            TableName: tables.jobs,
            Key: { jobId, sk: JOB_SK },
            ConditionExpression: '#status = :running',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':running': 'IN_PROGRESS' },
          },
        },
        {
          Put: {
            TableName: tables.jobs,
            Item: {
              jobId,
              sk: chunkSk(platform, after),
              platform,
              ...counts,
              at: new Date().toISOString(),
            },
          },
        },
      ],
    }),
  );
}

/**
 * What a chunk needs to know before its Graph call, in one batch read of the job's partition: the
 * job (status, and the job it retries) and this chunk's marker, each undefined when absent.
 */
export async function readChunkStart(
  jobId: string,
  platform: Platform,
  after: string | null,
): Promise<{ job?: Pick<SyncJob, 'status' | 'resumedFrom'>; marker?: ChunkMarker }> {
  const sk = chunkSk(platform, after);
  const out = await ddb.send(
    new BatchGetCommand({
      RequestItems: {
        [tables.jobs]: {
          Keys: [
            { jobId, sk: JOB_SK },
            { jobId, sk },
          ],
          ProjectionExpression: 'jobId, sk, #status, resumedFrom, conversations, failed',
          ExpressionAttributeNames: { '#status': 'status' },
          ConsistentRead: true,
        },
      },
    }),
  );
  const items = (out.Responses?.[tables.jobs] ?? []) as (ChunkMarker & Partial<SyncJob>)[];
  const job = items.find((item) => item.sk === JOB_SK);
  const marker = items.find((item) => item.sk === sk);
  return {
    ...(job ? { job: { status: job.status as SyncJob['status'], resumedFrom: job.resumedFrom } } : {}),
    ...(marker ? { marker } : {}),
  };
}
