import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { callerOf, parseJsonBody, parseQuery } from '#shared/http.ts';
import { HttpError } from '#shared/http-errors.ts';
import { CancelSyncBody, ConnectPageBody, PageId, StartSyncBody, SyncStatusQuery } from '#shared/schemas.ts';
import { httpEvent, type JwtClaims } from '../functions/event.ts';

const LIMIT = 16 * 1024;

/**
 * StartSyncBody rejects unknown keys, and the size tests pad the body with a `note` field: they
 * parse with a copy that ignores it, so that the size is the only reason a body can fail.
 */
const PaddedBody = z.object({ pageId: PageId });

/** Runs `fn` and returns the HttpError it throws. */
function httpErrorOf(fn: () => unknown): HttpError {
  try {
    fn();
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  throw new Error('expected an HttpError');
}

/** A `{"pageId":"…"}` body of exactly `bytes` bytes, padded with `filler` (1 to 3 bytes each). */
function bodyOfBytes(bytes: number, filler = 'x'): string {
  const empty = JSON.stringify({ pageId: '100000000000001', note: '' });
  const room = bytes - Buffer.byteLength(empty);
  const unit = Buffer.byteLength(filler);
  const note = filler.repeat(Math.floor(room / unit)) + 'x'.repeat(room % unit);
  const body = JSON.stringify({ pageId: '100000000000001', note });
  expect(Buffer.byteLength(body)).toBe(bytes);
  return body;
}

describe('parseJsonBody', () => {
  it('returns the parsed body', () => {
    expect(parseJsonBody(httpEvent({ body: { pageId: '100000000000001' } }), StartSyncBody)).toEqual({
      pageId: '100000000000001',
    });
  });

  it('trims ids and optional fields', () => {
    const event = httpEvent({
      body: { jobId: '  00000000-0000-4000-8000-000000000001 ', reason: ' too slow ' },
    });

    expect(parseJsonBody(event, CancelSyncBody)).toEqual({
      jobId: '00000000-0000-4000-8000-000000000001',
      reason: 'too slow',
    });
  });

  it('decodes a base64 body', () => {
    const body = Buffer.from(JSON.stringify({ pageId: 'page-ü' }), 'utf8').toString('base64');
    const schema = z.object({ pageId: z.string() });

    expect(parseJsonBody(httpEvent({ body, isBase64Encoded: true }), schema)).toEqual({ pageId: 'page-ü' });
  });

  it('accepts a body of exactly 16 KB', () => {
    const event = httpEvent({ body: bodyOfBytes(LIMIT) });

    expect(parseJsonBody(event, PaddedBody)).toEqual({ pageId: '100000000000001' });
  });

  it.each([
    ['one byte over 16 KB', bodyOfBytes(LIMIT + 1)],
    ['1 MB', bodyOfBytes(1024 * 1024)],
  ])('rejects a body of %s with 400', (_case, body) => {
    const error = httpErrorOf(() => parseJsonBody(httpEvent({ body }), PaddedBody));

    expect(error.statusCode).toBe(400);
    expect(error.publicMessage).toBe('Request body is too large');
  });

  it('measures the body in UTF-8 bytes, not characters', () => {
    const body = bodyOfBytes(LIMIT + 30, '€');
    expect(body.length).toBeLessThan(LIMIT);

    const error = httpErrorOf(() => parseJsonBody(httpEvent({ body }), PaddedBody));

    expect(error.statusCode).toBe(400);
    expect(error.publicMessage).toBe('Request body is too large');
  });

  it('measures the size of a base64 body after decoding', () => {
    const body = Buffer.from(bodyOfBytes(LIMIT + 1)).toString('base64');

    const error = httpErrorOf(() => parseJsonBody(httpEvent({ body, isBase64Encoded: true }), PaddedBody));

    expect(error.statusCode).toBe(400);
    expect(error.publicMessage).toBe('Request body is too large');
  });

  it.each([
    ['an array', '[{"pageId":"100000000000001"}]', 'Request body must be a JSON object'],
    ['a string', '"100000000000001"', 'Request body must be a JSON object'],
    ['a number', '42', 'Request body must be a JSON object'],
    ['null', 'null', 'Request body must be a JSON object'],
    ['not JSON', "{pageId:'100000000000001'}", 'Request body must be valid JSON'],
    ['truncated JSON', '{"pageId":"100000000000001"', 'Request body must be valid JSON'],
  ])('rejects a body that is %s with 400', (_case, body, message) => {
    const error = httpErrorOf(() => parseJsonBody(httpEvent({ body }), StartSyncBody));

    expect(error.statusCode).toBe(400);
    expect(error.publicMessage).toBe(message);
    expect(JSON.parse(error.message)).toEqual({ error: message });
  });

  it.each([
    ['no body', undefined],
    ['an empty body', ''],
    ['a blank body', '  \n '],
  ])('validates %s as an empty object', (_case, body) => {
    const error = httpErrorOf(() => parseJsonBody(httpEvent({ body }), StartSyncBody));

    expect(error.statusCode).toBe(400);
    expect(error.publicMessage).toBe('pageId is required');
  });

  it('answers a schema failure with 400 and the schema messages', () => {
    const error = httpErrorOf(() =>
      parseJsonBody(httpEvent({ body: { pageId: 'page 1; DROP TABLE' } }), StartSyncBody),
    );

    expect(error.statusCode).toBe(400);
    expect(error.publicMessage).toBe('pageId must be a numeric Facebook id');
  });

  it('names every invalid field, one message each', () => {
    const error = httpErrorOf(() =>
      parseJsonBody(
        httpEvent({ body: { pageId: 'abc', pageName: ' ', accessToken: 'short' } }),
        ConnectPageBody,
      ),
    );

    expect(error.statusCode).toBe(400);
    expect(error.publicMessage).toBe(
      'pageId must be a numeric Facebook id; pageName is required; accessToken is too short',
    );
  });

  it('prefixes a message that does not name its field with the field path', () => {
    const schema = z.object({ page: z.object({ limit: z.number({ error: 'must be a number' }) }) });

    const error = httpErrorOf(() => parseJsonBody(httpEvent({ body: { page: { limit: 'x' } } }), schema));

    expect(error.publicMessage).toBe('page.limit: must be a number');
  });

  it('rejects an unknown key with 400 naming the key', () => {
    const error = httpErrorOf(() =>
      parseJsonBody(
        httpEvent({ body: { pageId: '100000000000001', organizationId: 'org-2' } }),
        StartSyncBody,
      ),
    );

    expect(error.statusCode).toBe(400);
    expect(error.publicMessage).toContain('"organizationId"');
  });

  it.each<[string, Record<string, string | undefined>]>([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['a form', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['application/jsonp', { 'content-type': 'application/jsonp' }],
    ['no content type', { 'content-type': undefined }],
  ])('answers 415 to a non-empty body sent as %s', (_case, headers) => {
    const error = httpErrorOf(() =>
      parseJsonBody(httpEvent({ body: { pageId: '100000000000001' }, headers }), StartSyncBody),
    );

    expect(error.statusCode).toBe(415);
    expect(JSON.parse(error.message)).toEqual({ error: 'Content-Type must be application/json' });
  });

  it.each(['application/json; charset=utf-8', 'Application/JSON', 'application/merge-patch+json'])(
    'accepts a body sent as %s',
    (contentType) => {
      const event = httpEvent({
        body: { pageId: '100000000000001' },
        headers: { 'content-type': contentType },
      });

      expect(parseJsonBody(event, StartSyncBody)).toEqual({ pageId: '100000000000001' });
    },
  );

  it('does not ask for a content type when there is no body', () => {
    const error = httpErrorOf(() =>
      parseJsonBody(httpEvent({ headers: { 'content-type': undefined } }), StartSyncBody),
    );

    expect(error.statusCode).toBe(400);
    expect(error.publicMessage).toBe('pageId is required');
  });
});

describe('parseQuery', () => {
  it('returns the parsed query', () => {
    expect(
      parseQuery(httpEvent({ query: { jobId: '00000000-0000-4000-8000-000000000001' } }), SyncStatusQuery),
    ).toEqual({ jobId: '00000000-0000-4000-8000-000000000001' });
  });

  it('treats a missing query string as empty', () => {
    const error = httpErrorOf(() => parseQuery(httpEvent(), SyncStatusQuery));

    expect(error.statusCode).toBe(400);
    expect(error.publicMessage).toBe('jobId is required');
  });

  it.each([
    ['an over-long id', 'j'.repeat(129)],
    ['a name', 'job-1'],
    ['a UUID without dashes', '000000000000400080000000000000001'],
    ['a UUID with a suffix', '00000000-0000-4000-8000-000000000001#JOB'],
  ])('rejects %s as jobId with 400 before it reaches a key', (_case, jobId) => {
    const error = httpErrorOf(() => parseQuery(httpEvent({ query: { jobId } }), SyncStatusQuery));

    expect(error.statusCode).toBe(400);
    expect(error.publicMessage).toBe('jobId must be a UUID');
  });
});

describe('callerOf', () => {
  it('returns the user and organization from the verified claims', () => {
    const event = httpEvent({ claims: { sub: 'user-1', org_id: 'org-1', email: 'a@b.c' } });

    expect(callerOf(event)).toEqual({ userId: 'user-1', organizationId: 'org-1' });
  });

  it("reads the organization from a Cognito ID token's custom:org_id when org_id is absent", () => {
    const event = httpEvent({ claims: { sub: 'user-1', 'custom:org_id': 'org-2', aud: 'client-1' } });

    expect(callerOf(event)).toEqual({ userId: 'user-1', organizationId: 'org-2' });
  });

  it('prefers org_id to custom:org_id when a token has both', () => {
    const event = httpEvent({ claims: { sub: 'user-1', org_id: 'org-1', 'custom:org_id': 'org-2' } });

    expect(callerOf(event)).toEqual({ userId: 'user-1', organizationId: 'org-1' });
  });

  it.each<[string, JwtClaims]>([
    ['no claims', {}],
    ['no sub', { org_id: 'org-1' }],
    ['no org_id', { sub: 'user-1' }],
    ['an empty sub', { sub: '', org_id: 'org-1' }],
    ['an empty org_id', { sub: 'user-1', org_id: '' }],
    ['a numeric org_id', { sub: 'user-1', org_id: 7 }],
    ['a boolean sub', { sub: true, org_id: 'org-1' }],
    ['a list org_id', { sub: 'user-1', org_id: ['org-1', 'org-2'] }],
    ['neither org_id nor custom:org_id', { sub: 'user-1', email: 'a@b.c', 'custom:team': 'org-1' }],
    ['an empty custom:org_id', { sub: 'user-1', 'custom:org_id': '' }],
    ['a numeric custom:org_id', { sub: 'user-1', 'custom:org_id': 7 }],
    ['an empty org_id beside a custom:org_id', { sub: 'user-1', org_id: '', 'custom:org_id': 'org-2' }],
    ['a custom:org_id without sub', { 'custom:org_id': 'org-2' }],
  ])('answers 401 for %s', (_case, claims) => {
    const error = httpErrorOf(() => callerOf(httpEvent({ claims })));

    expect(error.statusCode).toBe(401);
  });

  it('answers 401 when the request did not pass the JWT authorizer', () => {
    const event = httpEvent();
    const { authorizer: _authorizer, ...requestContext } = event.requestContext;
    const unauthenticated = { ...event, requestContext } as unknown as typeof event;

    expect(httpErrorOf(() => callerOf(unauthenticated)).statusCode).toBe(401);
  });
});
