import {
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Conversation } from '#shared/graph/graph-responses.ts';
import {
  deleteStagedJob,
  getChunk,
  getSegmentEnd,
  putChunk,
  putSegmentEnd,
  type StagedChunk,
} from '#shared/staging/staged-chunks.ts';

const s3Mock = mockClient(S3Client);
const BUCKET = 'contact-sync-staging-unit';
const JOB = '00000000-0000-4000-8000-00000000000a';

const CONVERSATION: Conversation = {
  id: 't_1',
  updated_time: '2026-01-01T10:00:00.000Z',
  message_count: 1,
  participants: { data: [{ id: 'psid-1', name: 'Customer 1' }] },
  messages: {
    data: [{ id: 'm_1', created_time: '2026-01-01T10:00:00.000Z', from: { id: 'psid-1' }, message: 'Hi' }],
  },
};
const CHUNK: StagedChunk = {
  platform: 'messenger',
  after: 'QVFIUmxyZA',
  conversations: [CONVERSATION],
  resume: { platform: 'messenger', after: 'QVFIUm5leHQ', done: false },
};

/** What GetObject answers: a body the SDK can read as a string. */
const body = (value: unknown) =>
  ({ Body: { transformToString: async () => JSON.stringify(value) } }) as unknown as GetObjectCommandOutput;
const notFound = () => new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });

let savedBucket: string | undefined;
beforeAll(() => {
  savedBucket = process.env.STAGING_BUCKET;
  process.env.STAGING_BUCKET = BUCKET;
});
afterAll(() => {
  if (savedBucket === undefined) delete process.env.STAGING_BUCKET;
  else process.env.STAGING_BUCKET = savedBucket;
});
beforeEach(() => {
  s3Mock.reset();
});

describe('the staged chunks', () => {
  it('puts a chunk at jobs/<jobId>/s<segment>/<index, 6 digits>.json, as JSON, SSE-KMS', async () => {
    s3Mock.on(PutObjectCommand).resolves({});

    await putChunk(JOB, 2, 7, CHUNK);

    expect(s3Mock).toReceiveCommandTimes(PutObjectCommand, 1);
    const input = s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(input).toEqual({
      Bucket: BUCKET,
      Key: `jobs/${JOB}/s2/000007.json`,
      Body: expect.any(String),
      ContentType: 'application/json',
      ServerSideEncryption: 'aws:kms',
    });
    expect(JSON.parse(input?.Body as string)).toEqual(CHUNK);
  });

  it('names the chunks so that their keys sort in index order', async () => {
    s3Mock.on(PutObjectCommand).resolves({});

    for (const index of [0, 9, 10, 123456]) await putChunk(JOB, 0, index, CHUNK);

    const keys = s3Mock.commandCalls(PutObjectCommand).map((call) => call.args[0].input.Key);
    expect(keys).toEqual([
      `jobs/${JOB}/s0/000000.json`,
      `jobs/${JOB}/s0/000009.json`,
      `jobs/${JOB}/s0/000010.json`,
      `jobs/${JOB}/s0/123456.json`,
    ]);
    expect([...keys].sort()).toEqual(keys);
  });

  it('reads a staged chunk back', async () => {
    s3Mock.on(GetObjectCommand, { Bucket: BUCKET, Key: `jobs/${JOB}/s1/000004.json` }).resolves(body(CHUNK));

    await expect(getChunk(JOB, 1, 4)).resolves.toEqual(CHUNK);
  });

  it('answers null for a chunk not staged (yet)', async () => {
    s3Mock.on(GetObjectCommand).rejects(notFound());

    await expect(getChunk(JOB, 0, 3)).resolves.toBeNull();
    expect(s3Mock).toReceiveCommandWith(GetObjectCommand, {
      Bucket: BUCKET,
      Key: `jobs/${JOB}/s0/000003.json`,
    });
  });

  it('also takes a NoSuchKey error by its name (a client of another package version)', async () => {
    s3Mock.on(GetObjectCommand).rejects(Object.assign(new Error('missing'), { name: 'NoSuchKey' }));

    await expect(getChunk(JOB, 0, 3)).resolves.toBeNull();
  });

  it('rethrows any other error, such as AccessDenied for a missing object without s3:ListBucket', async () => {
    const denied = new S3ServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: 'Access Denied',
    });
    s3Mock.on(GetObjectCommand).rejects(denied);

    await expect(getChunk(JOB, 0, 0)).rejects.toBe(denied);
    await expect(getSegmentEnd(JOB, 0)).rejects.toBe(denied);
  });

  it("puts and reads a segment's end marker at jobs/<jobId>/s<segment>/end.json", async () => {
    const end = { chunks: 3, next: { platform: 'instagram' as const, cursor: null, segment: 2 } };
    s3Mock.on(PutObjectCommand).resolves({});
    s3Mock.on(GetObjectCommand, { Key: `jobs/${JOB}/s1/end.json` }).resolves(body(end));
    s3Mock.on(GetObjectCommand, { Key: `jobs/${JOB}/s2/end.json` }).rejects(notFound());

    await putSegmentEnd(JOB, 1, end);

    expect(s3Mock).toReceiveCommandWith(PutObjectCommand, {
      Bucket: BUCKET,
      Key: `jobs/${JOB}/s1/end.json`,
      ServerSideEncryption: 'aws:kms',
    });
    expect(JSON.parse(s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input.Body as string)).toEqual(end);
    await expect(getSegmentEnd(JOB, 1)).resolves.toEqual(end);
    await expect(getSegmentEnd(JOB, 2)).resolves.toBeNull();
  });

  it('needs STAGING_BUCKET', async () => {
    delete process.env.STAGING_BUCKET;
    try {
      await expect(getChunk(JOB, 0, 0)).rejects.toThrow(/STAGING_BUCKET/);
    } finally {
      process.env.STAGING_BUCKET = BUCKET;
    }
    expect(s3Mock).not.toReceiveAnyCommand();
  });
});

describe('deleteStagedJob', () => {
  const keys = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => `jobs/${JOB}/s0/${String(from + i).padStart(6, '0')}.json`);

  /** A bucket that lists at most 3 keys a page and forgets what it deletes. */
  function bucketOf(stored: string[]) {
    const left = new Set(stored);
    s3Mock.on(ListObjectsV2Command).callsFake((input: { Prefix?: string }) => {
      const matching = [...left].filter((k) => k.startsWith(input.Prefix ?? '')).sort();
      return { Contents: matching.slice(0, 3).map((Key) => ({ Key })), IsTruncated: matching.length > 3 };
    });
    s3Mock.on(DeleteObjectsCommand).callsFake((input: { Delete: { Objects: { Key: string }[] } }) => {
      for (const { Key } of input.Delete.Objects) left.delete(Key);
      return {};
    });
    return left;
  }

  it("deletes the job's objects a listed page at a time until none is left, and no other job's", async () => {
    const other = `jobs/${JOB}0/s0/000000.json`;
    const left = bucketOf([...keys(0, 5), `jobs/${JOB}/s0/end.json`, other]);

    await expect(deleteStagedJob(JOB)).resolves.toBe(6);

    expect([...left]).toEqual([other]);
    const lists = s3Mock.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input);
    // The job's own prefix, with its slash: never another job whose id starts the same. No
    // continuation token: each round lists what is left.
    expect(lists).toEqual(Array.from({ length: 3 }, () => ({ Bucket: BUCKET, Prefix: `jobs/${JOB}/` })));
    const deletes = s3Mock.commandCalls(DeleteObjectsCommand).map((call) => call.args[0].input);
    expect(deletes.map((d) => d.Delete?.Objects?.length)).toEqual([3, 3]);
    expect(deletes.every((d) => d.Delete?.Quiet === true && d.Bucket === BUCKET)).toBe(true);
  });

  it('fails, rather than loop, when deleted objects are listed again', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: keys(0, 2).map((Key) => ({ Key })) });
    s3Mock.on(DeleteObjectsCommand).resolves({});

    await expect(deleteStagedJob(JOB)).rejects.toThrow('still listed');
    expect(s3Mock).toReceiveCommandTimes(DeleteObjectsCommand, 1);
  });

  it('makes no delete call for a job with nothing staged', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({ KeyCount: 0, IsTruncated: false });

    await expect(deleteStagedJob(JOB)).resolves.toBe(0);

    expect(s3Mock).toReceiveCommandTimes(ListObjectsV2Command, 1);
    expect(s3Mock).not.toReceiveCommand(DeleteObjectsCommand);
  });

  it('fails when S3 could not delete some of the objects', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: keys(0, 2).map((Key) => ({ Key })) });
    s3Mock
      .on(DeleteObjectsCommand)
      .resolves({ Errors: [{ Key: keys(1, 2)[0], Code: 'AccessDenied', Message: 'Access Denied' }] });

    await expect(deleteStagedJob(JOB)).rejects.toThrow(/AccessDenied/);
  });
});
