import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { handler } from '../../functions/openapi/handler.ts';
import { expectSecurityHeaders, httpEvent, invoke } from './event.ts';

/** The document shipped at the repository root; `npm run openapi` regenerates it. */
const committed: unknown = JSON.parse(readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8'));

/** Every route of the HTTP contract (docs/api.md), and the document's own. */
const ROUTES: [string, string][] = [
  ['post', '/api/facebook/sync-background'],
  ['post', '/api/facebook/sync-cancel'],
  ['post', '/api/facebook/sync-cancel-bulk'],
  ['post', '/api/facebook/sync-pause'],
  ['post', '/api/facebook/sync-resume'],
  ['post', '/api/facebook/sync-retry'],
  ['get', '/api/facebook/sync-status'],
  ['get', '/api/facebook/pages'],
  ['post', '/api/facebook/pages'],
  ['delete', '/api/facebook/pages/{pageId}'],
  ['get', '/api/facebook/pages/{pageId}/contacts'],
  ['get', '/api/facebook/sync-jobs'],
  ['get', '/openapi.json'],
];

interface Document {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
}

/** The document the handler serves, fetched without a token as a browser would. */
async function served() {
  const reply = await invoke(handler, httpEvent({ method: 'GET', path: '/openapi.json', claims: {} }));
  return { reply, document: reply.body as Document };
}

describe('GET /openapi.json', () => {
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
    expect(listed.sort()).toEqual([...ROUTES].sort());
  });

  it.each<[string, string, string[]]>([
    ['post', '/api/facebook/sync-background', ['202', '400', '401', '403', '404', '409', '415']],
    ['post', '/api/facebook/sync-cancel', ['200', '400', '401', '403', '404', '415', '500']],
    ['post', '/api/facebook/sync-cancel-bulk', ['200', '400', '401', '415', '500']],
    ['post', '/api/facebook/sync-pause', ['200', '400', '401', '403', '404', '415']],
    ['post', '/api/facebook/sync-resume', ['200', '400', '401', '403', '404', '415']],
    ['post', '/api/facebook/sync-retry', ['202', '400', '401', '403', '404', '409', '415']],
    ['get', '/api/facebook/sync-status', ['200', '400', '401', '403', '404']],
    ['get', '/api/facebook/pages', ['200', '401']],
    ['post', '/api/facebook/pages', ['201', '400', '401', '409', '415']],
    ['delete', '/api/facebook/pages/{pageId}', ['204', '401', '403', '404']],
    ['get', '/api/facebook/pages/{pageId}/contacts', ['200', '400', '401', '403', '404']],
    ['get', '/api/facebook/sync-jobs', ['200', '400', '401', '403']],
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
