import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { requiredEnv } from '../config.ts';
import type { Conversation } from '../graph/graph-responses.ts';
import type { ListPosition, Platform } from '../schemas.ts';

/**
 * The staging store: list pages the reader fetched, waiting for a worker. One object per chunk,
 * `jobs/<jobId>/s<segment>/<index>.json`, and one end marker per segment once the reader is done
 * with it. The bucket is SSE-KMS (infra/staging.ts): the objects hold message text. They are
 * deleted when the job ends (deleteStagedJob); a one-day lifecycle rule is only the backstop.
 *
 * The endpoint comes from the SDK's standard configuration (AWS_ENDPOINT_URL_S3 locally).
 */
let client: S3Client | undefined;
/** Made on first use, from the environment of that moment (a local endpoint is path-style). */
const s3 = () => {
  client ??= new S3Client({ forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined });
  return client;
};
const bucket = () => requiredEnv('STAGING_BUCKET');

export interface StagedChunk {
  platform: Platform;
  /** The list cursor this page was read from: the chunk's identity (chunk markers, retries). */
  after: string | null;
  conversations: Conversation[];
  /** Where the list goes on after this page (a retried or resumed reader continues from it). */
  resume: { platform: Platform; after: string | null; done: boolean };
}

/** Written last for a segment: how many chunks it has, and where the list goes on after it. */
export interface SegmentEnd {
  chunks: number;
  next: ListPosition | null;
}

const prefix = (jobId: string) => `jobs/${jobId}/`;
const chunkKey = (jobId: string, segment: number, index: number) =>
  `${prefix(jobId)}s${segment}/${String(index).padStart(6, '0')}.json`;
const endKey = (jobId: string, segment: number) => `${prefix(jobId)}s${segment}/end.json`;

export const putChunk = (jobId: string, segment: number, index: number, chunk: StagedChunk) =>
  put(chunkKey(jobId, segment, index), chunk);
export const getChunk = (jobId: string, segment: number, index: number) =>
  get<StagedChunk>(chunkKey(jobId, segment, index));
export const putSegmentEnd = (jobId: string, segment: number, end: SegmentEnd) =>
  put(endKey(jobId, segment), end);
export const getSegmentEnd = (jobId: string, segment: number) => get<SegmentEnd>(endKey(jobId, segment));

async function put(key: string, body: unknown): Promise<void> {
  await s3().send(
    new PutObjectCommand({
      Bucket: bucket(),
      Key: key,
      Body: JSON.stringify(body),
      ContentType: 'application/json',
      ServerSideEncryption: 'aws:kms',
    }),
  );
}

/** The object, or null when it is not there (yet). Needs s3:ListBucket, else S3 answers 403. */
async function get<T>(key: string): Promise<T | null> {
  try {
    const out = await s3().send(new GetObjectCommand({ Bucket: bucket(), Key: key }));
    return JSON.parse((await out.Body?.transformToString()) ?? 'null') as T;
  } catch (error) {
    if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey') return null;
    throw error;
  }
}

/**
 * Deletes everything staged for the job; returns how many objects went. Each round lists the
 * first page of what is left (S3 lists are consistent) and deletes it, until nothing is left: no
 * continuation token is needed.
 */
export async function deleteStagedJob(jobId: string): Promise<number> {
  let deleted = 0;
  let gone = new Set<string>();
  for (;;) {
    const page = await s3().send(new ListObjectsV2Command({ Bucket: bucket(), Prefix: prefix(jobId) }));
    const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    if (keys.length === 0) return deleted;
    // A store that lists what it just deleted would keep this loop going: fail instead.
    if (keys.some((k) => gone.has(k.Key))) throw new Error('Deleted staged objects are still listed');
    gone = new Set(keys.map((k) => k.Key));
    const out = await s3().send(
      new DeleteObjectsCommand({ Bucket: bucket(), Delete: { Objects: keys, Quiet: true } }),
    );
    if (out.Errors?.length) throw new Error(`Could not delete staged objects: ${out.Errors[0]?.Code}`);
    deleted += keys.length;
  }
}
