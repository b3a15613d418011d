import middy, { type MiddlewareObj } from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { z } from 'zod';
import { isThrottling } from './aws-errors.ts';
import { domainErrorsAsHttp } from './http-error-map.ts';
import { badRequest, HttpError, unauthorized } from './http-errors.ts';
import { correlate, errorFields, logger, observabilityMiddlewares } from './observability.ts';
import { isTransactionConflict } from './store/conflict-retry.ts';

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type HttpResult = APIGatewayProxyStructuredResultV2;

const MAX_BODY_BYTES = 16 * 1024;

/**
 * Wraps a plain async core into a Lambda handler with the one error path: HttpError becomes its
 * `{ error }` response; a domain error the answer shared/http-error-map.ts gives it; AWS
 * throttling a 503 to retry; anything else a 500 with a fixed message. Every answer, error or not,
 * carries the security headers. `inner` middlewares run closest to the core; their errors still
 * pass through the error handler. Outermost, the logs and metrics of shared/observability.ts; the
 * jobId and pageId of the request go on its log lines as soon as it is parsed (parseJsonBody...).
 */
export function httpHandler(
  core: (event: HttpEvent) => Promise<HttpResult>,
  ...inner: MiddlewareObj<HttpEvent, HttpResult>[]
) {
  const handler = middy<HttpEvent, HttpResult>(core)
    .use(observabilityMiddlewares())
    // Their onError runs after the error handler's, so error responses get these headers too.
    .use(noStore)
    .use(
      // No reporting endpoint is configured: send no empty Reporting-Endpoints header (the option
      // exists at run time but is missing from the package's types).
      httpSecurityHeaders({ reportingEndpoints: false } as Parameters<typeof httpSecurityHeaders>[0]),
    )
    .use(
      httpErrorHandler({
        fallbackMessage: JSON.stringify({ error: 'Internal server error' }),
        logger: (error: unknown) => {
          const e = error as { statusCode?: number; name?: string; message?: string };
          if (!e.statusCode || e.statusCode >= 500) {
            logger.error('Request failed', { error: errorFields(error) });
          }
        },
      }),
    )
    // These run before the error handler (onError runs in reverse order).
    .use(domainErrorsAsHttp)
    .use(busyWhenThrottled);
  for (const middleware of inner) handler.use(middleware);
  return handler;
}

/**
 * DynamoDB (or another AWS service) still throttling after the SDK's retries, or a write still
 * meeting another transaction after the client's conflict retries: nothing was changed, and the
 * caller can simply retry, so the answer is a 503 with Retry-After rather than a 500.
 */
const busyWhenThrottled: MiddlewareObj<HttpEvent, HttpResult> = {
  onError: async (request) => {
    if (
      request.response === undefined &&
      (isThrottling(request.error) || isTransactionConflict(request.error))
    ) {
      request.error = Object.assign(new HttpError(503, BUSY_MESSAGE), { headers: { 'Retry-After': '1' } });
    }
  },
};
export const BUSY_MESSAGE = 'The service is busy. Try again in a moment.';

/** API answers are per user and per moment: never cached, errors included. */
const noStore: MiddlewareObj<HttpEvent, HttpResult> = {
  after: async (request) => {
    setNoStore(request.response);
  },
  onError: async (request) => {
    setNoStore(request.response);
  },
};
function setNoStore(response: HttpResult | null | undefined) {
  if (response) response.headers = { ...response.headers, 'Cache-Control': 'no-store' };
}

export function json(statusCode: number, body: unknown): HttpResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/** Who makes a request: the user and the organization the token names. */
export interface Caller {
  userId: string;
  organizationId: string;
}

/**
 * A route that runs one command for the caller: the caller (401 first), then the JSON body, then
 * `command` with both; the log lines then carry the job or page the command answers with.
 */
export function commandHandler<T extends z.ZodType, R>(
  schema: T,
  command: (input: z.infer<T> & Caller) => Promise<R>,
  answer: (result: R, input: z.infer<T> & Caller) => HttpResult | Promise<HttpResult>,
  ...inner: MiddlewareObj<HttpEvent, HttpResult>[]
) {
  return httpHandler(
    async (event) => {
      const caller = callerOf(event);
      const input = { ...(parseJsonBody(event, schema) as object), ...caller } as z.infer<T> & Caller;
      const result = await command(input);
      correlate(result);
      return answer(result, input);
    },
    ...inner,
  );
}

/**
 * The caller, from the claims the API's JWT authorizer verified. The organization is `org_id`
 * or, when that is absent, `custom:org_id`: a Cognito user pool's custom attribute as its ID
 * token carries it (infra/cognito.ts), which only an operator can set.
 */
export function callerOf(event: HttpEvent): Caller {
  const claims = event.requestContext?.authorizer?.jwt?.claims ?? {};
  const userId = claims.sub;
  const organizationId = claims.org_id ?? claims['custom:org_id'];
  if (typeof userId !== 'string' || !userId || typeof organizationId !== 'string' || !organizationId) {
    throw unauthorized();
  }
  return { userId, organizationId };
}

/** Field-level messages: each names its field, e.g. "jobId is required; reason must be at most 500 characters". */
function describe(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.join('.');
      return field && !issue.message.startsWith(field) ? `${field}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

export function parseJsonBody<T extends z.ZodType>(event: HttpEvent, schema: T): z.infer<T> {
  const raw = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : event.body
    : '';
  if (Buffer.byteLength(raw) > MAX_BODY_BYTES) throw badRequest('Request body is too large');
  const contentType = event.headers?.['content-type'] ?? '';
  if (raw.trim() !== '' && !/^application\/([\w.+-]*\+)?json\s*(;|$)/i.test(contentType)) {
    throw new HttpError(415, 'Content-Type must be application/json');
  }
  let data: unknown = {};
  if (raw.trim() !== '') {
    try {
      data = JSON.parse(raw);
    } catch {
      throw badRequest('Request body must be valid JSON');
    }
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw badRequest('Request body must be a JSON object');
  return parseWith(schema, data);
}

export function parseQuery<T extends z.ZodType>(event: HttpEvent, schema: T): z.infer<T> {
  return parseWith(schema, event.queryStringParameters ?? {});
}

export function parsePath<T extends z.ZodType>(event: HttpEvent, schema: T): z.infer<T> {
  return parseWith(schema, event.pathParameters ?? {});
}

function parseWith<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw badRequest(describe(parsed.error));
  correlate(parsed.data);
  return parsed.data;
}
