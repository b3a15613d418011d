import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import AWSAccount from 's3rver/lib/models/account.js';
import { localArn } from './cloudformation.ts';
import { callerOf, type IamRequest, type LocalIam } from './iam.ts';

/**
 * S3 for the embedded stack: s3rver (an S3 emulator from npm) on a temporary folder, behind a
 * proxy that applies the template's IAM policies to the handlers' calls (local/iam.ts), as the
 * DynamoDB proxy does. Clients reach it through the SDK's standard AWS_ENDPOINT_URL_S3, path-style.
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

  const server = createServer((req, res) => {
    acceptAccessKey(req.headers.authorization);
    const caller = callerOf(req.headers);
    const denied = caller ? iam?.authorize(caller, s3Requests(req)) : undefined;
    if (denied) return void sendError(res, 403, 'AccessDenied', denied.message);
    const canList = !caller || !iam || iam.allows(caller, listRequest(req));
    forward(req, res, enginePort, !canList);
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
    if (method === 'POST' && url.searchParams.has('delete'))
      // DeleteObjects: s3:DeleteObject on each key, which only the body names: the prefix is checked by the handler's grant.
      return [{ action: 's3:DeleteObject', resource: `${localArn.bucket(bucket)}/jobs/*` }];
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
