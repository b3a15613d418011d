import { createHash } from 'node:crypto';
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import type { Platform } from '../schemas.ts';
import type { SyncJob } from '../sync/job.ts';
import { ddb, tables } from './db.ts';
import { CHUNK_PREFIX, JOB_SK, jobKey } from './table-keys.ts';

/**
 * Chunk markers: the checkpoint of pause/resume and retry. A chunk whose conversations were all
 * processed by a job gets an item in the job's partition, `CHUNK#<platform>#<sha256(cursor)>`
 * (the cursor is hashed so the key stays short whatever Graph's cursor), holding only counts.
 * Access patterns: BatchGet of one chunk's markers for a job and the job it retries (one read per
 * chunk, none per conversation); Put when a chunk is done, in the chunk's last commit.
 */
export interface ChunkMarker {
  jobId: string;
  sk: string;
  conversations: number;
  failed: number;
}

export function chunkSk(platform: Platform, after: string | null): string {
  return `${CHUNK_PREFIX}${platform}#${createHash('sha256')
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
 * The marker of a chunk that job `jobId` processed to the end. It commits with the chunk's last
 * batch of contacts (contact-commit.ts), guarded like them by the job being IN_PROGRESS: after an
 * acknowledged pause or cancel nothing is written, not even a marker.
 */
export function chunkMarkerItem(
  jobId: string,
  platform: Platform,
  after: string | null,
  counts: { conversations: number; failed: number },
  now: string,
): ChunkMarker & { platform: Platform; at: string } {
  return {
    jobId,
    sk: chunkSk(platform, after),
    platform,
    conversations: counts.conversations,
    failed: counts.failed,
    at: now,
  };
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
          Keys: [jobKey(jobId), { jobId, sk }],
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
