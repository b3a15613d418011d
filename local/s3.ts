import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import AWSAccount from 's3rver/lib/models/account.js';
import { localArn } from './cloudformation.ts';
import { callerOf } from './iam/caller-identity.ts';
import type { LocalIam } from './iam/local-iam.ts';
import type { IamRequest } from './iam/policy-evaluation.ts';

/**
 * S3 for the embedded stack: s3rver (an S3 emulator from npm) on a temporary folder, behind a
 * proxy that applies the template's IAM policies to the handlers' calls (iam/local-iam.ts), as
 * the DynamoDB proxy does. Clients reach it through the SDK's standard AWS_ENDPOINT_URL_S3,
 * path-style.
 *
 * Stricter than s3rver alone, as AWS is: a caller without s3:ListBucket on the bucket gets 403
 * AccessDenied, not 404, for a missing object. Not modeled: SSE-KMS (s3rver accepts the header
 * and stores plain bytes; test/infra pins the bucket's encryption instead), bucket policies.
 */
export async function startLocalS3(buckets: string[], iam: LocalIam | undefined, port = 0) {
  const directory = await mkdtemp(path.join(tmpdir(), 'contact-sync-s3-'));
  const engine = new S3rver({
    port: 0,
    address: '127.0.0.1',
    directory,
    silent: true,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  const { port: enginePort } = (await engine.run()) as AddressInfo;

  const writes = new AtomicWrites(enginePort);
  const server = createServer((req, res) => {
    acceptAccessKey(req.headers.authorization);
    const caller = callerOf(req.headers);
    if (isDeleteObjects(req))
      return void deleteObjects(req, res, enginePort, (key) => iam?.authorize(caller, [key]));
    const denied = caller ? iam?.authorize(caller, s3Requests(req)) : undefined;
    if (denied) return void sendError(res, 403, 'AccessDenied', denied.message);
    if (isListV2(req)) return void listObjectsV2(req, res, enginePort);
    const canList = !caller || !iam || iam.allows(caller, listRequest(req));
    void writes.handle(req, res, () => forward(req, res, enginePort, !canList));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await engine.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** s3rver knows one access key; the stack's clients use their own, which it must not refuse. */
function acceptAccessKey(authorization: string | undefined) {
  const id = /Credential=([^/]+)\//.exec(authorization ?? '')?.[1];
  if (id && !AWSAccount.registry.has(id)) AWSAccount.DUMMY_ACCOUNT.createKeyPair(id, 'local');
}

/** The IAM actions one S3 REST call needs (path-style: /<bucket>/<key>). */
export function s3Requests(req: Pick<IncomingMessage, 'method' | 'url'>): IamRequest[] {
  const url = new URL(req.url ?? '/', 'http://s3');
  const [bucket = '', ...rest] = url.pathname.slice(1).split('/');
  const key = decodeURIComponent(rest.join('/'));
  const object = `${localArn.bucket(bucket)}/${key}`;
  const method = req.method ?? 'GET';
  if (!key) {
    if (method === 'GET') return [{ action: 's3:ListBucket', resource: localArn.bucket(bucket) }];
    return [
      {
        action: `s3:${method === 'PUT' ? 'CreateBucket' : 'DeleteBucket'}`,
        resource: localArn.bucket(bucket),
      },
    ];
  }
  if (method === 'PUT') return [{ action: 's3:PutObject', resource: object }];
  if (method === 'DELETE') return [{ action: 's3:DeleteObject', resource: object }];
  return [{ action: 's3:GetObject', resource: object }];
}

/** What a caller needs to learn that an object does not exist. */
function listRequest(req: Pick<IncomingMessage, 'url'>): IamRequest {
  const bucket = new URL(req.url ?? '/', 'http://s3').pathname.slice(1).split('/')[0] ?? '';
  return { action: 's3:ListBucket', resource: localArn.bucket(bucket) };
}

/**
 * S3 makes a PUT atomic: a GET sees the whole new object or the old one, never part of it. s3rver
 * writes the file as a stream and answers before it is flushed, so a GET racing a PUT (a worker
 * polling for the chunk the reader is staging) could read half an object. Here a PUT of an object
 * holds the GETs of its key until s3rver serves all of it.
 */
class AtomicWrites {
  private readonly pending = new Map<string, Promise<void>>();

  constructor(private readonly enginePort: number) {}

  async handle(req: IncomingMessage, res: ServerResponse, next: () => void): Promise<void> {
    const key = objectPath(req);
    if (!key) return next();
    if (req.method === 'GET' || req.method === 'HEAD') {
      await this.pending.get(key);
      return next();
    }
    if (req.method !== 'PUT' || req.headers['x-amz-copy-source']) return next();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    let release = () => {};
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const before = this.pending.get(key);
    this.pending.set(key, done);
    try {
      await before;
      const answer = await upstream(this.enginePort, req.method, req.url ?? '/', req.headers, body);
      if (answer.status === 200) await this.untilServed(req.url ?? '/', body.length);
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    } catch (error) {
      sendError(res, 502, 'InternalError', (error as Error).message);
    } finally {
      if (this.pending.get(key) === done) this.pending.delete(key);
      release();
    }
  }

  private async untilServed(url: string, length: number): Promise<void> {
    const path = url.split('?')[0] ?? url;
    for (let i = 0; i < 200; i++) {
      const got = await upstream(this.enginePort, 'GET', path, {}, Buffer.alloc(0));
      if (got.status === 200 && got.body.length === length) return;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    throw new Error(`s3rver did not serve ${path} whole`);
  }
}

/** One request to s3rver, its answer read whole. */
function upstream(
  port: number,
  method: string,
  url: string,
  headers: IncomingMessage['headers'],
  body: Buffer,
) {
  return new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>(
    (resolve, reject) => {
      const request_ = request({ host: '127.0.0.1', port, method, path: url, headers }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () =>
          resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }),
        );
        answer.on('error', reject);
      });
      request_.on('error', reject);
      request_.end(body);
    },
  );
}

const isListV2 = (req: Pick<IncomingMessage, 'method' | 'url'>) => {
  const url = new URL(req.url ?? '/', 'http://s3');
  return req.method === 'GET' && url.searchParams.get('list-type') === '2' && objectPath(req) === undefined;
};

/**
 * ListObjectsV2, served through s3rver's ListObjects (v1): s3rver makes V2 continuation tokens
 * with DES, which the OpenSSL of current Node.js releases no longer has, so any truncated V2
 * listing fails there. The token here is the last key listed, base64url-encoded (opaque to clients, as on S3).
 */
async function listObjectsV2(req: IncomingMessage, res: ServerResponse, port: number): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://s3');
  const token = url.searchParams.get('continuation-token');
  const v1 = new URLSearchParams();
  for (const name of ['prefix', 'delimiter', 'max-keys', 'encoding-type'])
    if (url.searchParams.has(name)) v1.set(name, url.searchParams.get(name) ?? '');
  const marker = token
    ? Buffer.from(token, 'base64url').toString('utf8')
    : url.searchParams.get('start-after');
  if (marker) v1.set('marker', marker);
  try {
    const answer = await upstream(
      port,
      'GET',
      `${url.pathname}?${v1}`,
      { host: req.headers.host },
      Buffer.alloc(0),
    );
    let xml = answer.body.toString('utf8');
    if (answer.status === 200) {
      const keys = [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => unescapeXml(m[1] ?? ''));
      const truncated = /<IsTruncated>true<\/IsTruncated>/.test(xml);
      const last = keys.at(-1);
      const extra =
        `<KeyCount>${keys.length}</KeyCount>` +
        (token ? `<ContinuationToken>${escapeXml(token)}</ContinuationToken>` : '') +
        (truncated && last
          ? `<NextContinuationToken>${Buffer.from(last).toString('base64url')}</NextContinuationToken>`
          : '');
      xml = xml.replace('</ListBucketResult>', `${extra}</ListBucketResult>`);
    }
    res.writeHead(answer.status, { 'Content-Type': 'application/xml' });
    res.end(xml);
  } catch (error) {
    sendError(res, 500, 'InternalError', (error as Error).message);
  }
}

const isDeleteObjects = (req: Pick<IncomingMessage, 'method' | 'url'>) =>
  req.method === 'POST' && new URL(req.url ?? '/', 'http://s3').searchParams.has('delete');

/**
 * DeleteObjects, as S3 does it: each key needs s3:DeleteObject on itself (a denied key is an
 * <Error> in the answer, the others are deleted). s3rver deletes the keys of one request all at
 * once and then races itself removing the folders they leave empty (an InternalError for a large
 * batch), so the keys go to it one DELETE at a time.
 */
async function deleteObjects(
  req: IncomingMessage,
  res: ServerResponse,
  port: number,
  authorize: (request: IamRequest) => { message: string } | undefined,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');
  const bucket = new URL(req.url ?? '/', 'http://s3').pathname.slice(1).split('/')[0] ?? '';
  const keys = [...body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => unescapeXml(m[1] ?? ''));
  const quiet = /<Quiet>true<\/Quiet>/.test(body);
  const results: string[] = [];
  try {
    for (const key of keys) {
      const denied = authorize({ action: 's3:DeleteObject', resource: `${localArn.bucket(bucket)}/${key}` });
      if (denied) {
        results.push(
          `<Error><Key>${escapeXml(key)}</Key><Code>AccessDenied</Code><Message>${escapeXml(denied.message)}</Message></Error>`,
        );
        continue;
      }
      const path = `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
      const answer = await upstream(port, 'DELETE', path, { host: req.headers.host }, Buffer.alloc(0));
      if (answer.status >= 300) throw new Error(`s3rver answered ${answer.status} deleting ${key}`);
      if (!quiet) results.push(`<Deleted><Key>${escapeXml(key)}</Key></Deleted>`);
    }
  } catch (error) {
    return sendError(res, 500, 'InternalError', (error as Error).message);
  }
  res.writeHead(200, { 'Content-Type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${results.join('')}</DeleteResult>`,
  );
}

const unescapeXml = (s: string) =>
  s.replace(/&(lt|gt|amp|apos|quot|#\d+);/g, (_, e: string) =>
    e.startsWith('#')
      ? String.fromCharCode(Number(e.slice(1)))
      : ({ lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' }[e] ?? ''),
  );

/** "<bucket>/<key>" of an object request, or undefined for a bucket-level one. */
function objectPath(req: Pick<IncomingMessage, 'url'>): string | undefined {
  const [bucket = '', ...rest] = new URL(req.url ?? '/', 'http://s3').pathname.slice(1).split('/');
  const key = rest.join('/');
  return key ? `${bucket}/${key}` : undefined;
}

function forward(req: IncomingMessage, res: ServerResponse, port: number, hideMissing: boolean) {
  const upstream = request(
    { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      if (hideMissing && answer.statusCode === 404 && (req.method === 'GET' || req.method === 'HEAD')) {
        answer.resume();
        return sendError(res, 403, 'AccessDenied', 'Access Denied');
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', (error) => sendError(res, 502, 'InternalError', error.message));
  req.pipe(upstream);
}

function sendError(res: ServerResponse, status: number, code: string, message: string) {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'Content-Type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`,
  );
}

const escapeXml = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
