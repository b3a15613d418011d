import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, Context } from 'aws-lambda';
import { expect } from 'vitest';
import { ROUTES, type RouteName, routePath } from '#shared/api/routes.ts';

export type JwtClaims = Record<string, string | number | boolean | string[]>;

/** The caller most tests act as. */
export const CALLER = { sub: 'user-1', org_id: 'org-1' } as const;

export interface EventInit {
  method?: string;
  path?: string;
  /** Verified JWT claims; defaults to CALLER. */
  claims?: JwtClaims;
  /** A string is sent as is; anything else is sent as JSON. Undefined sends no body. */
  body?: unknown;
  isBase64Encoded?: boolean;
  query?: Record<string, string>;
  pathParameters?: Record<string, string>;
  /** Merged over the default `content-type: application/json`; `undefined` removes a header. */
  headers?: Record<string, string | undefined>;
}

/** An API Gateway HTTP API (payload v2) event as the JWT authorizer hands it to a handler. */
export function httpEvent(init: EventInit = {}): APIGatewayProxyEventV2WithJWTAuthorizer {
  const method = init.method ?? 'POST';
  const path = init.path ?? '/api/facebook/test';
  const query = init.query;
  const body =
    init.body === undefined || typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: query ? new URLSearchParams(query).toString() : '',
    headers: Object.fromEntries(
      Object.entries({ 'content-type': 'application/json', ...init.headers }).filter(
        (entry): entry is [string, string] => entry[1] !== undefined,
      ),
    ),
    ...(query ? { queryStringParameters: query } : {}),
    ...(init.pathParameters ? { pathParameters: init.pathParameters } : {}),
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: init.isBase64Encoded ?? false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'api',
      domainName: 'api.test',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: 'request-1',
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: 1_767_225_600_000,
      authorizer: { jwt: { claims: init.claims ?? { ...CALLER }, scopes: null } },
    },
  };
}

/** The Lambda context; handlers only pass it through. */
export const lambdaContext = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test',
  memoryLimitInMB: '256',
  awsRequestId: 'request-1',
  logGroupName: '/aws/lambda/test',
  logStreamName: 'stream',
  getRemainingTimeInMillis: () => 30_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
} satisfies Context;

export interface Reply {
  statusCode: number;
  headers: Record<string, string>;
  /** The raw body, to check what a client could see. */
  raw: string;
  /** The body parsed as JSON (undefined when there is none). */
  body: unknown;
}

/** A route's Lambda handler, as functions/<route>/handler.ts exports it. */
export type HttpHandler = (
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
  context: Context,
) => Promise<unknown>;

/** Invokes a middy HTTP handler with `event` and returns its status and body. */
export async function invoke(
  handler: HttpHandler,
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
): Promise<Reply> {
  const result = (await handler(event, lambdaContext)) as {
    statusCode?: number;
    headers?: Record<string, string>;
    body?: string;
  };
  const raw = result.body ?? '';
  return {
    statusCode: result.statusCode ?? 0,
    headers: result.headers ?? {},
    raw,
    body: raw === '' ? undefined : JSON.parse(raw),
  };
}

/** What a route's event takes besides the route's own method and path. */
export type RouteEventInit = Omit<EventInit, 'method' | 'path'>;

/** `routePath` for any route name, its `{param}`s given as strings. */
const fillPath = routePath as (name: RouteName, params: Record<string, string>) => string;

/**
 * An event of the route `name` of the route table: its method, and its path with the `{param}`s
 * filled from `init.pathParameters` (left empty when one is missing, as a request without it would).
 */
export function routeEvent(name: RouteName, init: RouteEventInit = {}) {
  const { method, path } = ROUTES[name];
  const params = Object.fromEntries(
    [...path.matchAll(/\{(\w+)\}/g)].map(([, key = '']) => [key, init.pathParameters?.[key] ?? '']),
  );
  return httpEvent({ method, path: fillPath(name, params), ...init });
}

/**
 * Calls `handler` as the route `name` of the route table (its method and path): `body` is sent as
 * in EventInit, `init` adds query, path parameters, headers or claims.
 */
export const routeCaller =
  (handler: HttpHandler, name: RouteName) =>
  (body?: unknown, init: Omit<RouteEventInit, 'body'> = {}) =>
    invoke(handler, routeEvent(name, { body, ...init }));

/** The security headers every answer carries, success or error (shared/http.ts). */
export function expectSecurityHeaders(reply: Reply): void {
  expect(reply.headers).toMatchObject({
    'Strict-Transport-Security': expect.stringMatching(/max-age=\d+/),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Permitted-Cross-Domain-Policies': 'none',
  });
}

/** A JSON answer a cache must never store: it carries one organization's data. */
export function expectUncachedJson(reply: Reply): void {
  expect(reply.headers['Content-Type']).toMatch(/^application\/json/);
  expect(reply.headers['Cache-Control']).toBe('no-store');
}

/**
 * An error answer as every route gives it: `statusCode`, a body of exactly `{"error": message}`, the
 * security headers, and JSON a cache must not store.
 */
export function expectError(reply: Reply, statusCode: number, message: string): void {
  expect({ statusCode: reply.statusCode, raw: reply.raw }).toEqual({
    statusCode,
    raw: JSON.stringify({ error: message }),
  });
  expectSecurityHeaders(reply);
  expectUncachedJson(reply);
}

/** The fixed answer to any unexpected failure: internals never reach a client. */
export function expectInternalError(reply: Reply): void {
  expectError(reply, 500, 'Internal server error');
}

/**
 * The `SET #a = :a, ...` part of an update, resolved to `{ field: value }`, so that tests check what
 * is written without depending on placeholder names.
 */
export function setFields(input: UpdateCommandInput): Record<string, unknown> {
  const set = /SET (.*?)(?: REMOVE | ADD |$)/.exec(input.UpdateExpression ?? '')?.[1] ?? '';
  const fields: Record<string, unknown> = {};
  for (const assignment of set.split(',')) {
    const [name = '', value = ''] = assignment.split('=').map((part) => part.trim());
    if (name)
      fields[input.ExpressionAttributeNames?.[name] ?? name] = input.ExpressionAttributeValues?.[value];
  }
  return fields;
}

/** The statuses an update's `#status IN (...)` condition allows. */
export function allowedStatuses(input: UpdateCommandInput): unknown[] {
  const list = /#status IN \(([^)]*)\)/.exec(input.ConditionExpression ?? '')?.[1] ?? '';
  return list.split(',').map((placeholder) => input.ExpressionAttributeValues?.[placeholder.trim()]);
}
