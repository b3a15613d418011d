import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { refuseForeignHost } from './host-check.ts';
import { callerOf } from './iam/caller-identity.ts';
import type { LocalIam } from './iam/local-iam.ts';
import type { IamRequest } from './iam/policy-evaluation.ts';

/** An AWS service error as the JSON protocols carry it: `{ "__type", "message" }` with a 400. */
export class AwsJsonError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A local service: its API operations by name, as methods, and what each call needs in IAM terms
 * (checked against the caller's role when the endpoint has an `iam`).
 */
export interface AwsJsonService {
  iamRequests(operation: string, body: Record<string, unknown>): IamRequest[];
  /**
   * What the service's front end does before the operation runs, for calls over the wire only:
   * throttling (an AwsJsonError such as ThrottlingException refuses the call), request defaults.
   */
  admit?(operation: string, body: Record<string, unknown>): void;
}

/**
 * One loopback endpoint for the AWS JSON-protocol services the product calls (Step Functions:
 * `AWSStepFunctions.*`, KMS: `TrentService.*`, EventBridge: `AWSEvents.*`), dispatched on
 * X-Amz-Target as AWS does. The SDK clients reach it through AWS_ENDPOINT_URL_SFN,
 * AWS_ENDPOINT_URL_KMS and AWS_ENDPOINT_URL_EVENTBRIDGE. With `iam`, a call made by a handler is
 * answered AccessDeniedException when the handler's role does not allow it. An operation a service
 * does not have is answered as AWS answers it: HTTP 400 `UnknownOperationException`.
 */
export async function serveAwsJson(
  services: Record<string, AwsJsonService>,
  port: number,
  opts: { host?: string; iam?: LocalIam } = {},
) {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    if (!refuseForeignHost(req, res)) void handle(services, opts.iam, req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(
  services: Record<string, AwsJsonService>,
  iam: LocalIam | undefined,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.0' });
    res.end(JSON.stringify(body));
  };
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const [prefix = '', operation = ''] = target.split('.');
    const service = services[prefix];
    const method = /^[A-Z]/.test(operation)
      ? (service as unknown as Record<string, unknown> | undefined)?.[operation]
      : undefined;
    if (!service || typeof method !== 'function')
      throw new AwsJsonError('UnknownOperationException', `Unsupported operation ${target}`);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
    const caller = callerOf(req.headers);
    const denial = caller && iam?.authorize(caller, service.iamRequests(operation, body));
    if (denial) throw new AwsJsonError('AccessDeniedException', denial.message);
    service.admit?.(operation, body);
    send(200, await method.call(service, body));
  } catch (error) {
    if (error instanceof AwsJsonError) send(400, { __type: error.type, message: error.message });
    else send(500, { __type: 'InternalFailure', message: (error as Error).message });
  }
}
