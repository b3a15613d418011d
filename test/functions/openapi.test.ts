import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROUTES, type RouteName, routeKey } from '#shared/api/routes.ts';
import { handler } from '../../functions/openapi/handler.ts';
import { expectSecurityHeaders, httpEvent, invoke } from './event.ts';

/** The document shipped at the repository root; `npm run openapi` regenerates it. */
const committed: unknown = JSON.parse(readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8'));

/** Every route of the HTTP contract (docs/api.md), and the document's own, by the route table's names. */
const ROUTE_NAMES: RouteName[] = [
  'startSync',
  'cancelSync',
  'cancelSyncBulk',
  'pauseSync',
  'resumeSync',
  'retrySync',
  'syncStatus',
  'syncExecution',
  'listPages',
  'connectPage',
  'disconnectPage',
  'replacePageToken',
  'pageContacts',
  'syncJobs',
  'openApi',
];
/** A route as the document lists it: lower-case method, path. */
const operationOf = (name: RouteName): [string, string] => [
  ROUTES[name].method.toLowerCase(),
  ROUTES[name].path,
];

interface Document {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
}

/** The document the handler serves, fetched without a token as a browser would. */
async function served() {
  const reply = await invoke(handler, httpEvent({ method: 'GET', path: ROUTES.openApi.path, claims: {} }));
  return { reply, document: reply.body as Document };
}

describe(routeKey('openApi'), () => {
  it('answers 200 with an OpenAPI 3.1 document, without a token', async () => {
    const { reply, document } = await served();

    expect(reply.statusCode).toBe(200);
    expect(reply.headers['Content-Type']).toBe('application/json');
    expectSecurityHeaders(reply);
    expect(document.openapi).toBe('3.1.0');
  });

  it('lists every route and method of the contract, and nothing else', async () => {
    const { document } = await served();

    const listed = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => [method, path]),
    );
    expect(listed.sort()).toEqual(ROUTE_NAMES.map(operationOf).sort());
  });

  it.each<[string, string, string[]]>([
    [...operationOf('startSync'), ['202', '400', '401', '403', '404', '409', '415']],
    [...operationOf('cancelSync'), ['200', '400', '401', '403', '404', '415', '500']],
    [...operationOf('cancelSyncBulk'), ['200', '400', '401', '415', '500']],
    [...operationOf('pauseSync'), ['200', '400', '401', '403', '404', '415']],
    [...operationOf('resumeSync'), ['200', '400', '401', '403', '404', '415']],
    [...operationOf('retrySync'), ['202', '400', '401', '403', '404', '409', '415']],
    [...operationOf('syncStatus'), ['200', '400', '401', '403', '404']],
    [...operationOf('listPages'), ['200', '401']],
    [...operationOf('connectPage'), ['201', '400', '401', '409', '415']],
    [...operationOf('disconnectPage'), ['204', '401', '403', '404']],
    [...operationOf('pageContacts'), ['200', '400', '401', '403', '404']],
    [...operationOf('syncJobs'), ['200', '400', '401', '403']],
  ])('documents the contract answers of %s %s', async (method, path, statuses) => {
    const { document } = await served();

    expect(Object.keys(document.paths[path]?.[method]?.responses ?? {})).toEqual(
      expect.arrayContaining(statuses),
    );
  });

  it('is the committed openapi.json (run `npm run openapi` when this fails)', async () => {
    const { document } = await served();

    expect(document).toEqual(committed);
  });
});
