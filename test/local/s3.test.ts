import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { type CfnTemplate, localArn, TemplateResolver } from '../../local/cloudformation.ts';
import { runAs } from '../../local/iam/caller-identity.ts';
import { LocalIam } from '../../local/iam/local-iam.ts';
import { s3Requests, startLocalS3 } from '../../local/s3.ts';
import { functionWithRole, serveBehindIam } from './iam/function-roles.ts';

const BUCKET = 'stagingbucket';
const reported: string[] = [];
const object = (key: string) => `${localArn.bucket(BUCKET)}/${key}`;

/** Two functions: a stager that may put and get (and list, so a missing object is a 404), a reader that may only get. */
const template: CfnTemplate = {
  Resources: {
    ...functionWithRole('Stager', [
      { Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: object('jobs/*') },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: localArn.bucket(BUCKET) },
    ]),
    ...functionWithRole('Reader', [{ Effect: 'Allow', Action: 's3:GetObject', Resource: object('jobs/*') }]),
  },
};
const iam = LocalIam.fromTemplate(new TemplateResolver(template), ['Stager', 'Reader'], {
  mode: 'enforce',
  report: (line) => reported.push(line),
});
const stager = localArn.lambda('Stager');
const reader = localArn.lambda('Reader');

const s3 = serveBehindIam(
  iam,
  () => startLocalS3([BUCKET], iam),
  (endpoint) =>
    new S3Client({
      endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'any-key', secretAccessKey: 'any-secret' },
      maxAttempts: 1,
    }),
);

describe('the local S3 (s3rver behind the IAM checks)', () => {
  it('maps each REST call to the IAM action and resource S3 checks', () => {
    expect(s3Requests({ method: 'PUT', url: `/${BUCKET}/jobs/j1/s0/000000.json` })).toEqual([
      { action: 's3:PutObject', resource: object('jobs/j1/s0/000000.json') },
    ]);
    expect(s3Requests({ method: 'GET', url: `/${BUCKET}/jobs/a%20b.json?x-id=GetObject` })).toEqual([
      { action: 's3:GetObject', resource: object('jobs/a b.json') },
    ]);
    expect(s3Requests({ method: 'GET', url: `/${BUCKET}?list-type=2&prefix=jobs%2F` })).toEqual([
      { action: 's3:ListBucket', resource: localArn.bucket(BUCKET) },
    ]);
    expect(s3Requests({ method: 'DELETE', url: `/${BUCKET}/jobs/x.json` })).toEqual([
      { action: 's3:DeleteObject', resource: object('jobs/x.json') },
    ]);
  });

  it('stores and serves what an allowed caller puts, with any credentials', async () => {
    await runAs(stager, () =>
      s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'jobs/j1/a.json', Body: '{"a":1}' })),
    );
    const got = await runAs(reader, () =>
      s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'jobs/j1/a.json' })),
    );
    expect(await got.Body?.transformToString()).toBe('{"a":1}');
    expect(iam.denials).toEqual([]);
  });

  it('denies what the role does not allow, as S3 does (403 AccessDenied), and records it', async () => {
    const error = await runAs(reader, () =>
      s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'jobs/j1/b.json', Body: '{}' })),
    ).catch((e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
    expect(error).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    expect(iam.takeDenials()).toEqual([
      expect.objectContaining({ caller: reader, action: 's3:PutObject', resource: object('jobs/j1/b.json') }),
    ]);
    expect(reported.at(-1)).toContain('DENIED s3:PutObject');
  });

  it('answers a missing object with 404 only to a caller allowed to list the bucket, else 403', async () => {
    const get = () => s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'jobs/none.json' }));
    expect(await runAs(stager, get).catch((e: Error) => e.name)).toBe('NoSuchKey');
    expect(await runAs(reader, get).catch((e: Error) => e.name)).toBe('AccessDenied');
    // Not knowing is not a denied call: nothing recorded.
    expect(iam.denials).toEqual([]);
  });
});

describe('writes, as S3 makes them', () => {
  it('never lets a GET see part of an object a PUT is writing', async () => {
    const body = JSON.stringify({ conversations: 'x'.repeat(400_000) });
    const key = 'jobs/atomic/000000.json';
    const reads: Promise<string>[] = [];
    const put = runAs(stager, () =>
      s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body })),
    );
    // Readers poll while the object is being written, as workers wait for a staged chunk.
    for (let i = 0; i < 20; i++) {
      reads.push(
        runAs(stager, () => s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).then(
          async (got) => (await got.Body?.transformToString()) ?? '',
          (error: Error) => error.name,
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await put;
    for (const read of await Promise.all(reads)) expect(['NoSuchKey', body]).toContain(read);
  });
});

describe('listing and deleting many objects, as S3 does', () => {
  it('pages a listing of more than 1,000 keys with continuation tokens, and deletes them in batches', async () => {
    const keys = Array.from(
      { length: 1_100 },
      (_, i) => `jobs/many/s${i % 3}/${String(i).padStart(6, '0')}.json`,
    );
    for (let i = 0; i < keys.length; i += 50)
      await Promise.all(
        keys
          .slice(i, i + 50)
          .map((Key) => s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: '{}' }))),
      );
    const listed: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.client.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'jobs/many/', ContinuationToken: token }),
      );
      pages++;
      listed.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
      expect(page.KeyCount).toBe(page.Contents?.length ?? 0);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    expect(pages).toBe(2);
    expect(listed).toEqual([...keys].sort());

    for (let i = 0; i < listed.length; i += 1000) {
      const out = await s3.client.send(
        new DeleteObjectsCommand({
          Bucket: BUCKET,
          Delete: { Objects: listed.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
        }),
      );
      expect(out.Errors ?? []).toEqual([]);
    }
    const left = await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'jobs/many/' }));
    expect(left.KeyCount).toBe(0);
  });

  it('checks s3:DeleteObject key by key in a batch delete, and reports a denied key in the answer', async () => {
    await runAs(stager, () =>
      s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'jobs/kept.json', Body: '{}' })),
    );
    const out = await runAs(stager, () =>
      s3.client.send(
        new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'jobs/kept.json' }] } }),
      ),
    );
    expect(out.Errors).toEqual([expect.objectContaining({ Key: 'jobs/kept.json', Code: 'AccessDenied' })]);
    expect(iam.takeDenials()).toEqual([
      expect.objectContaining({
        caller: stager,
        action: 's3:DeleteObject',
        resource: object('jobs/kept.json'),
      }),
    ]);
    const still = await runAs(stager, () =>
      s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'jobs/kept.json' })),
    );
    expect(await still.Body?.transformToString()).toBe('{}');
  });
});
