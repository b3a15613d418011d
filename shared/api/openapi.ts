import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import {
  CancelBulkResponse,
  CancelSyncResponse,
  ConflictBody,
  ConnectPageResponse,
  ContactsResponse,
  ErrorBody,
  PagesResponse,
  PauseSyncResponse,
  ResumeSyncResponse,
  StartSyncResponse,
  SyncExecutionResponse,
  SyncJobsResponse,
  SyncStatusResponse,
} from '../contract.ts';
import {
  CancelBulkBody,
  CancelSyncBody,
  ConnectPageBody,
  ContactsQuery,
  PagePath,
  PauseSyncBody,
  ReplacePageTokenBody,
  ResumeSyncBody,
  RetrySyncBody,
  StartSyncBody,
  SyncExecutionQuery,
  SyncJobsQuery,
  SyncStatusQuery,
} from '../schemas.ts';
import { ROUTE_NAMES, ROUTES, type RouteName } from './routes.ts';

/**
 * The OpenAPI 3.1 document (served at GET /openapi.json and shipped as openapi.json), generated
 * from the route table (./routes.ts) and, for each route, its operation below: what it is, the
 * zod schemas of its request, and its answers by status code.
 */
type Response = { description: string; content?: { 'application/json': { schema: z.ZodType } } };

interface Operation {
  summary: string;
  description?: string;
  request?: {
    path?: z.ZodObject;
    query?: z.ZodObject;
    headers?: z.ZodObject;
    /** A required JSON body. */
    body?: z.ZodType;
  };
  responses: Record<`${number}`, Response>;
}

const json = (schema: z.ZodType, description: string): Response => ({
  description,
  content: { 'application/json': { schema } },
});
const error = (description: string) => json(ErrorBody, description);
const unauthorized = error('Missing, invalid or expired token');
const busy = error(
  'The service is busy (AWS throttling): nothing was changed; retry after Retry-After seconds',
);
const notJson = error('Content-Type is not application/json');
const jobForbidden = error('Job of another organization');
const jobNotFound = error('Job not found');
const pageForbidden = error('Page of another organization');
const pageNotConnected = error('Page not connected');
const activeConflict = json(ConflictBody, 'A sync is already active for this page');
const internal = error('Internal error (no details)');
const tokenRefused = error(
  'Invalid body, or Graph refused the token: invalid, expired or revoked (190), a missing permission (10, 200-299), or the token of another page. Nothing was stored',
);
const graphDown = error(
  'Graph is down or throttling (or the service is busy): nothing was stored; retry after Retry-After seconds',
);

/** Every route's operation, by the route table's names: a missing or an extra one does not compile. */
export const OPERATIONS: { readonly [N in RouteName]: Operation } = {
  startSync: {
    summary: 'Start a sync of a page',
    request: {
      headers: z.object({
        'idempotency-key': z.string().optional().meta({
          description: 'Makes a retried start return the same job instead of a 409 or a second job.',
        }),
      }),
      body: StartSyncBody,
    },
    responses: {
      '202': json(StartSyncResponse, 'Sync started'),
      '400': error('Invalid body'),
      '401': unauthorized,
      '403': pageForbidden,
      '404': pageNotConnected,
      '409': activeConflict,
      '415': notJson,
      '422': error('Idempotency-Key reused with a different body'),
      '503': error(
        'The sync could not be started (the job ended FAILED), or the service is busy (nothing was changed): retry',
      ),
    },
  },
  cancelSync: {
    summary: 'Stop a sync ("Stop Sync"), optionally deleting what it created',
    description:
      'The answer is the commit point: the counters it returns are final, and nothing is written after it. Idempotent: a cancelled job is returned as stored. With cleanup: true, the contacts the job created are then deleted, except those another sync has written since (kept); contacts it only updated are left untouched. Cleanup is resumable and idempotent: while cleanup.status is PARTIAL, call again.',
    request: { body: CancelSyncBody },
    responses: {
      '200': json(CancelSyncResponse, 'Cancelled (also when it already was)'),
      '400': error('Missing jobId, or "Cannot cancel job with status: COMPLETED" (or FAILED)'),
      '401': unauthorized,
      '403': jobForbidden,
      '404': jobNotFound,
      '415': notJson,
      '500': internal,
      '503': busy,
    },
  },
  cancelSyncBulk: {
    summary: 'Stop the active syncs of several pages, or of the whole organization',
    description:
      'Give exactly one of pageIds (at most 100) and all. Each page is cancelled like POST /sync-cancel (same commit point), at most 8 at a time, and answered in its own result; one failing page does not fail the request. Idempotent: a page already stopped answers already-cancelled or not-active and nothing is written.',
    request: { body: CancelBulkBody },
    responses: {
      '200': json(CancelBulkResponse, 'One result per page'),
      '400': error('Invalid body (both or neither of pageIds and all, more than 100 pageIds, ...)'),
      '401': unauthorized,
      '415': notJson,
      '500': internal,
      '503': busy,
    },
  },
  pauseSync: {
    summary: 'Pause a sync',
    description:
      'Like a cancel, the answer is a commit point: nothing is written after it and the counters it returns are exact. The job keeps the page lock and a checkpoint; resume continues it. Idempotent: a paused job is returned as stored.',
    request: { body: PauseSyncBody },
    responses: {
      '200': json(PauseSyncResponse, 'Paused (also when it already was)'),
      '400': error('Invalid body, or "Cannot pause job with status: COMPLETED" (or FAILED, CANCELLED)'),
      '401': unauthorized,
      '403': jobForbidden,
      '404': jobNotFound,
      '415': notJson,
      '503': busy,
    },
  },
  resumeSync: {
    summary: 'Resume a paused sync',
    description:
      'Starts a new execution from the checkpoint: finished conversations are neither fetched nor analysed again, and the counters continue.',
    request: { body: ResumeSyncBody },
    responses: {
      '200': json(ResumeSyncResponse, 'Resumed: the job is IN_PROGRESS again'),
      '400': error('Invalid body, or "Cannot resume job with status: IN_PROGRESS" (any status but PAUSED)'),
      '401': unauthorized,
      '403': jobForbidden,
      '404': jobNotFound,
      '415': notJson,
      '503': error(
        'The execution could not be started (the job stays PAUSED), or the service is busy: retry',
      ),
    },
  },
  retrySync: {
    summary: 'Retry a failed or cancelled sync from where it stopped',
    description:
      'Creates a new job for the same page, linked by resumedFrom, that skips the conversations the old job completed; its counters count only its own writes.',
    request: { body: RetrySyncBody },
    responses: {
      '202': json(StartSyncResponse, 'The new job started'),
      '400': error(
        'Invalid body, or "Cannot retry job with status: COMPLETED" (any status but FAILED or CANCELLED)',
      ),
      '401': unauthorized,
      '403': jobForbidden,
      '404': error('Job not found, or its page is no longer connected'),
      '409': activeConflict,
      '415': notJson,
      '503': error('The sync could not be started (the new job ended FAILED), or the service is busy: retry'),
    },
  },
  syncStatus: {
    summary: 'A sync job and its progress',
    request: { query: SyncStatusQuery },
    responses: {
      '200': json(SyncStatusResponse, "The job, with its executions and each one's console link"),
      '400': error('Missing or malformed jobId'),
      '401': unauthorized,
      '403': jobForbidden,
      '404': jobNotFound,
      '503': busy,
    },
  },
  syncExecution: {
    summary: "One of a job's Step Functions executions and the summary of its history",
    description:
      "The history is read from Step Functions without the execution's data (ids and state names only) and summarized on the server: the states in the order they were first entered, with their visits, durations, retries and caught errors; the Map iterations; how the execution ended. An ended execution's summary is final and cached; a running one's is re-read at most every 2 s. When Step Functions throttles the read, the last summary is answered with `stale: true` and Retry-After: poll more slowly.",
    request: { query: SyncExecutionQuery },
    responses: {
      '200': json(SyncExecutionResponse, 'The execution and its summary'),
      '400': error('Missing or malformed jobId or name, or a name that is not one of the job'),
      '401': unauthorized,
      '403': jobForbidden,
      '404': error('Job not found, or the job has no execution of that name'),
      '503': busy,
    },
  },
  syncJobs: {
    summary: "A page's sync history, newest first",
    request: { query: SyncJobsQuery },
    responses: {
      '200': json(SyncJobsResponse, 'The jobs'),
      '400': error('Missing or malformed pageId'),
      '401': unauthorized,
      '403': error('Not a page of your organization'),
      '503': busy,
    },
  },
  listPages: {
    summary: "The organization's connected pages",
    responses: { '200': json(PagesResponse, 'The pages'), '401': unauthorized, '503': busy },
  },
  connectPage: {
    summary: 'Connect a page',
    description:
      "The token is checked with Graph before it is stored: `/me` must be the page, and one conversation of each platform (Instagram when the page has an account) must be readable. pageName and instagramAccountId default to Graph's. Nothing is stored unless the check passes.",
    request: { body: ConnectPageBody },
    responses: {
      '201': json(ConnectPageResponse, 'Connected; the token is stored encrypted and never returned'),
      '400': tokenRefused,
      '401': unauthorized,
      '409': error('Page already connected'),
      '415': notJson,
      '503': graphDown,
    },
  },
  replacePageToken: {
    summary: "Replace a connected page's access token",
    description:
      'After Facebook refused the old token ("reconnect the page"). The new token has the checks of a connect; only the token changes: the page\'s contacts, counts and sync history stay. Refused while a sync is running (PENDING or IN_PROGRESS); a PAUSED sync does not block it, and reads with the new token once resumed.',
    request: { path: PagePath, body: ReplacePageTokenBody },
    responses: {
      '200': json(ConnectPageResponse, 'Replaced; the token is stored encrypted and never returned'),
      '400': tokenRefused,
      '401': unauthorized,
      '403': pageForbidden,
      '404': pageNotConnected,
      '409': json(ConflictBody, 'A sync is running for this page: pause or stop it first'),
      '415': notJson,
      '503': graphDown,
    },
  },
  disconnectPage: {
    summary: 'Disconnect a page (an active sync is cancelled first)',
    request: { path: PagePath },
    responses: {
      '204': { description: 'Disconnected; contacts and job history are kept' },
      '401': unauthorized,
      '403': pageForbidden,
      '404': pageNotConnected,
      '503': busy,
    },
  },
  pageContacts: {
    summary: "A page's contacts, paginated",
    request: { path: PagePath, query: ContactsQuery },
    responses: {
      '200': json(ContactsResponse, 'A page of contacts; pass nextCursor as cursor for the next'),
      '400': error('Invalid limit or cursor'),
      '401': unauthorized,
      '403': pageForbidden,
      '404': pageNotConnected,
      '503': busy,
    },
  },
  openApi: {
    summary: 'This document',
    responses: { '200': { description: 'The OpenAPI 3.1 document' } },
  },
};

/** A route's operation in zod-openapi's terms. */
function operation(name: RouteName): ZodOpenApiOperationObject {
  const { summary, description, request = {}, responses } = OPERATIONS[name];
  const { path, query, headers, body } = request;
  const params = { ...(path && { path }), ...(query && { query }), ...(headers && { header: headers }) };
  return {
    summary,
    ...(description !== undefined && { description }),
    ...('public' in ROUTES[name] && { security: [] }),
    ...(Object.keys(params).length > 0 && { requestParams: params }),
    ...(body && { requestBody: { required: true, content: { 'application/json': { schema: body } } } }),
    responses,
  };
}

export function openApiDocument() {
  const paths: ZodOpenApiPathsObject = {};
  for (const name of ROUTE_NAMES) {
    const { method, path } = ROUTES[name];
    paths[path] = { ...paths[path], [method.toLowerCase()]: operation(name) };
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Contact Sync API',
      version: '1.0.0',
      description:
        'Imports a Facebook Page\'s Messenger and Instagram conversations as contacts. Every sync is a background job that can be stopped at any moment: what was saved stays saved, nothing is written after the stop is acknowledged, and the counters are exact. Every error body is `{ "error": "..." }`.',
    },
    security: [{ bearerAuth: [] }],
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    paths,
  });
}
