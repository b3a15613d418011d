import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { z } from 'zod';
import { badRequest, unauthorized } from './errors.ts';

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type HttpResult = APIGatewayProxyStructuredResultV2;

const MAX_BODY_BYTES = 16 * 1024;

/**
 * Wraps a plain async core into a Lambda handler with the one error path: HttpError becomes its
 * `{ error }` response; anything else a 500 with a fixed message.
 */
export function httpHandler(core: (event: HttpEvent) => Promise<HttpResult>) {
  return middy(core).use(
    httpErrorHandler({
      fallbackMessage: JSON.stringify({ error: 'Internal server error' }),
      logger: (error: unknown) => {
        const e = error as { statusCode?: number; name?: string; message?: string };
        if (!e.statusCode || e.statusCode >= 500)
          console.error('Request failed', { name: e.name, message: e.message });
      },
    }),
  );
}

export function json(statusCode: number, body: unknown): HttpResult {
  return { statusCode, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
}

/** The caller, from the claims the API's JWT authorizer verified. */
export function callerOf(event: HttpEvent): { userId: string; organizationId: string } {
  const claims = event.requestContext?.authorizer?.jwt?.claims ?? {};
  const userId = claims.sub;
  const organizationId = claims.org_id;
  if (typeof userId !== 'string' || !userId || typeof organizationId !== 'string' || !organizationId) {
    throw unauthorized();
  }
  return { userId, organizationId };
}

function describe(error: z.ZodError): string {
  return error.issues.map((issue) => issue.message).join('; ');
}

export function parseJsonBody<T extends z.ZodType>(event: HttpEvent, schema: T): z.infer<T> {
  const raw = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : event.body
    : '';
  if (Buffer.byteLength(raw) > MAX_BODY_BYTES) throw badRequest('Request body is too large');
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
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw badRequest(describe(parsed.error));
  return parsed.data;
}

export function parseQuery<T extends z.ZodType>(event: HttpEvent, schema: T): z.infer<T> {
  const parsed = schema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) throw badRequest(describe(parsed.error));
  return parsed.data;
}
