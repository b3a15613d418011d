/**
 * What every HTTP route does the same way (shared/http.ts), checked on every route it applies to:
 * the body limit and the JSON content type on the routes with a body (POST, PUT), 401 on every route behind the JWT
 * authorizer, the fixed 500, the 503 to retry when DynamoDB throttles, and the security headers and `Cache-Control: no-store` on every answer.
 * Each refused request is refused before any I/O. Route-specific behaviour is in <route>.test.ts.
 */
import { EncryptCommand } from '@aws-sdk/client-kms';
import { GetExecutionHistoryCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { ROUTES as ROUTE_TABLE, type RouteName, routeKey } from '#shared/api/routes.ts';
import { BUSY_MESSAGE } from '#shared/http.ts';
import { handler as cancelSync } from '../../functions/cancel-sync/handler.ts';
import { handler as connectPage } from '../../functions/connect-page/handler.ts';
import { handler as disconnectPage } from '../../functions/disconnect-page/handler.ts';
import { handler as openApi } from '../../functions/openapi/handler.ts';
import { handler as pageContacts } from '../../functions/page-contacts/handler.ts';
import { handler as pages } from '../../functions/pages/handler.ts';
import { handler as replacePageToken } from '../../functions/replace-page-token/handler.ts';
import { handler as startSync } from '../../functions/start-sync/handler.ts';
import { handler as syncExecution } from '../../functions/sync-execution/handler.ts';
import { handler as syncJobs } from '../../functions/sync-jobs/handler.ts';
import { handler as syncStatus } from '../../functions/sync-status/handler.ts';
import {
  CALLER,
  expectError,
  expectSecurityHeaders,
  type HttpHandler,
  invoke,
  type JwtClaims,
  type RouteEventInit,
  routeEvent,
} from './event.ts';
import {
  ddbMock,
  executionItem,
  expectRefused,
  givenCancellable,
  givenJobPartition,
  givenJobsListed,
  givenPage,
  givenPagesListed,
  JOB_ID,
  JOBS_TABLE,
  kmsMock,
  PAGE_ID,
  PAGES_TABLE,
  resetAwsMocks,
  sfnMock,
  storedJob,
  storedPage,
  throughputExceeded,
} from './fixtures.ts';
import { PAGE_TOKEN, simulatedGraph } from './graph-for-pages.ts';

// Connect and replace check the token with Graph: the simulator knows PAGE_TOKEN as PAGE_ID's.
simulatedGraph();

interface Route {
  /** Method and path as the contract names the route (`routeKey`). */
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Its name in the route table. */
  route: RouteName;
  handler: HttpHandler;
  /** A valid request of CALLER's, as the authorizer hands it over, with `change` applied. */
  event: (change?: RouteEventInit) => ReturnType<typeof routeEvent>;
  /** The JSON body of the valid request (POST routes). */
  body?: Record<string, unknown>;
  /** The status of the valid request once `givenSuccess` stubbed what it reads. */
  status: number;
  givenSuccess: () => void;
}

/** The route `name` of the route table, its valid request made of `init` (answered 200 unless `status` says). */
function route(
  name: RouteName,
  init: RouteEventInit & Pick<Route, 'handler' | 'body'> & { status?: number; givenSuccess?: () => void },
): Route {
  const { handler, status = 200, givenSuccess = () => {}, ...valid } = init;
  return {
    name: routeKey(name),
    method: ROUTE_TABLE[name].method,
    route: name,
    handler,
    body: init.body,
    status,
    givenSuccess,
    event: (change = {}) => routeEvent(name, { ...valid, ...change }),
  };
}

/** Every HTTP handler in functions/ (the workflow workers are no routes). */
const ROUTES: Route[] = [
  route('startSync', {
    handler: startSync,
    body: { pageId: PAGE_ID },
    status: 202,
    givenSuccess: () => {
      givenPage(storedPage());
      sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:execution', startDate: new Date() });
    },
  }),
  route('cancelSync', {
    handler: cancelSync,
    body: { jobId: JOB_ID },
    givenSuccess: () => givenCancellable(),
  }),
  route('syncStatus', {
    query: { jobId: JOB_ID },
    handler: syncStatus,
    givenSuccess: () => givenJobPartition(storedJob(), [executionItem()]),
  }),
  route('syncExecution', {
    query: { jobId: JOB_ID, name: JOB_ID },
    handler: syncExecution,
    givenSuccess: () => {
      givenJobPartition(storedJob(), [executionItem()]);
      sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [] });
    },
  }),
  route('syncJobs', {
    query: { pageId: PAGE_ID },
    handler: syncJobs,
    givenSuccess: () => {
      givenPage(storedPage());
      givenJobsListed(storedJob());
    },
  }),
  route('listPages', {
    handler: pages,
    givenSuccess: () => {
      givenPagesListed(storedPage());
      givenJobsListed();
    },
  }),
  route('connectPage', {
    handler: connectPage,
    body: {
      pageId: PAGE_ID,
      pageName: 'My Business Page',
      accessToken: PAGE_TOKEN,
    },
    status: 201,
    givenSuccess: () => {
      ddbMock.on(GetCommand, { TableName: PAGES_TABLE }).resolves({});
      kmsMock.on(EncryptCommand).resolves({ CiphertextBlob: Buffer.from('opaque-kms-ciphertext-blob') });
      givenJobsListed();
    },
  }),
  route('replacePageToken', {
    pathParameters: { pageId: PAGE_ID },
    handler: replacePageToken,
    body: { accessToken: PAGE_TOKEN },
    givenSuccess: () => {
      givenPage(storedPage());
      kmsMock.on(EncryptCommand).resolves({ CiphertextBlob: Buffer.from('opaque-kms-ciphertext-blob') });
      ddbMock.on(UpdateCommand, { TableName: PAGES_TABLE }).resolves({ Attributes: storedPage() });
      givenJobsListed();
    },
  }),
  route('disconnectPage', {
    pathParameters: { pageId: PAGE_ID },
    handler: disconnectPage,
    status: 204,
    givenSuccess: () => givenPage(storedPage()),
  }),
  route('pageContacts', {
    pathParameters: { pageId: PAGE_ID },
    handler: pageContacts,
    givenSuccess: () => {
      givenPage(storedPage());
      ddbMock.on(QueryCommand).resolves({ Items: [] });
    },
  }),
  route('openApi', {
    // The document is public: no authorizer, so no claims.
    claims: {},
    handler: openApi,
  }),
];

/** `[name, route]` rows, so that test names show the whole route name. */
const rows = (routes: Route[]) => routes.map((r) => [r.name, r] as const);
/** The routes behind the JWT authorizer: all but the public OpenAPI document. */
const API_ROUTES = rows(ROUTES.filter((r) => !('public' in ROUTE_TABLE[r.route])));
/** The routes that take a JSON body. */
const POST_ROUTES = rows(ROUTES.filter((r) => r.method === 'POST' || r.method === 'PUT'));

beforeEach(resetAwsMocks);

/**
 * Sends `route`'s valid request with `change` applied, after stubbing what the valid request reads:
 * a refusal then comes from the change alone.
 */
async function send(route: Route, change: RouteEventInit = {}) {
  route.givenSuccess();
  return invoke(route.handler, route.event(change));
}

describe('every route', () => {
  it.each(ROUTES.map((r) => [r.name, r.status, r] as const))(
    '%s answers %i with the security headers and Cache-Control: no-store',
    async (_name, _status, r) => {
      const reply = await send(r);

      expect(reply.statusCode).toBe(r.status);
      expectSecurityHeaders(reply);
      expect(reply.headers['Cache-Control']).toBe('no-store');
      expect(reply.headers['Content-Type']).toEqual(
        r.status === 204 ? undefined : expect.stringMatching(/^application\/json/),
      );
    },
  );
});

describe.each<[string, JwtClaims]>([
  ['no claims', {}],
  ['no org_id', { sub: CALLER.sub }],
  ['no sub', { org_id: CALLER.org_id }],
  ['an empty org_id', { ...CALLER, org_id: '' }],
  ['an empty sub', { ...CALLER, sub: '' }],
  ['a numeric org_id', { ...CALLER, org_id: 42 }],
])('a token with %s', (_case, claims) => {
  it.each(API_ROUTES)(
    '%s answers 401 {"error":"Unauthorized"} and calls no AWS service',
    async (_name, r) => {
      const reply = await send(r, { claims });

      expectRefused(reply, 401, 'Unauthorized');
    },
  );
});

describe.each<[string, () => Error, number, string]>([
  [
    'a failing DynamoDB',
    () => new Error(`AccessDeniedException: not authorized on ${JOBS_TABLE}, ${PAGES_TABLE}`),
    500,
    'Internal server error',
  ],
  // Still throttled after the SDK's retries: nothing changed, the caller may retry.
  ['a DynamoDB that keeps throttling', () => throughputExceeded(JOBS_TABLE), 503, BUSY_MESSAGE],
])('%s', (_case, failure, status, message) => {
  it.each(API_ROUTES)(`%s answers ${status} {"error":"${message}"}, without the cause`, async (_name, r) => {
    r.givenSuccess();
    ddbMock.reset();
    ddbMock.rejects(failure());

    const reply = await invoke(r.handler, r.event());

    expectError(reply, status, message);
    expect(reply.body).not.toContain(JOBS_TABLE);
    expect(reply.headers['Retry-After']).toBe(status === 503 ? '1' : undefined);
    expectSecurityHeaders(reply);
    expect(ddbMock.calls().length).toBeGreaterThan(0);
  });
});

describe('a JSON body over 16 KB', () => {
  it.each(POST_ROUTES)(
    '%s answers 400 {"error":"Request body is too large"} and calls no AWS service',
    async (_name, r) => {
      const reply = await send(r, { body: { ...r.body, pad: 'x'.repeat(16 * 1024) } });

      expectRefused(reply, 400, 'Request body is too large');
    },
  );
});

describe.each<[string, string | undefined]>([
  ['as text/plain', 'text/plain'],
  ['as a form', 'application/x-www-form-urlencoded'],
  ['without a content type', undefined],
])('a JSON body sent %s', (_case, contentType) => {
  it.each(POST_ROUTES)(
    '%s answers 415 {"error":"Content-Type must be application/json"} and calls no AWS service',
    async (_name, r) => {
      const reply = await send(r, { headers: { 'content-type': contentType } });

      expectRefused(reply, 415, 'Content-Type must be application/json');
    },
  );
});

describe.each<[string, string, string]>([
  ['not JSON', '{"id":', 'Request body must be valid JSON'],
  ['a JSON array', `["${JOB_ID}"]`, 'Request body must be a JSON object'],
  ['a JSON string', `"${JOB_ID}"`, 'Request body must be a JSON object'],
  ['JSON null', 'null', 'Request body must be a JSON object'],
])('a body that is %s', (_case, body, error) => {
  it.each(POST_ROUTES)(`%s answers 400 {"error":"${error}"} and calls no AWS service`, async (_name, r) => {
    const reply = await send(r, { body });

    expectRefused(reply, 400, error);
  });
});
