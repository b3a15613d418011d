import { describe, expect, it } from 'vitest';
import { classifyGraphError, GraphApiError, type GraphErrorKind } from '#shared/graph/graph-api-error.ts';
import { parseGraphTime } from '#shared/graph/graph-responses.ts';

describe('classifyGraphError', () => {
  // Every documented Graph API error code, as Graph sends them (HTTP 400 unless said otherwise).
  it.each<[number, string, GraphErrorKind]>([
    [1, 'unknown error', 'retryable'],
    [2, 'temporary service error', 'retryable'],
    [4, 'app rate limit', 'retryable'],
    [17, 'user rate limit', 'retryable'],
    [32, 'Page request limit', 'retryable'],
    [341, 'application limit', 'retryable'],
    [613, 'calls exceeded the rate limit', 'retryable'],
    [80001, 'Page business-use-case limit', 'retryable'],
    [80002, 'Instagram business-use-case limit', 'retryable'],
    [80006, 'Messenger calls to this Page', 'retryable'],
    [368, 'temporarily blocked for policy', 'blocked'],
    [10, 'permission missing', 'permission'],
    [200, 'permission missing (first of 200-299)', 'permission'],
    [230, 'permission missing (inside 200-299)', 'permission'],
    [299, 'permission missing (last of 200-299)', 'permission'],
    [100, 'invalid parameter', 'invalid'],
    [190, 'access token expired or invalid', 'token'],
  ])('classifies code %i (%s) as %s', (code, _meaning, kind) => {
    expect(classifyGraphError(code, 400)).toBe(kind);
  });

  it.each([199, 300, 12345])('does not take code %i for a permission error', (code) => {
    expect(classifyGraphError(code, 400)).toBe('invalid');
  });

  it('retries any HTTP 5xx answer', () => {
    expect(classifyGraphError(100, 500)).toBe('retryable');
    expect(classifyGraphError(1, 503)).toBe('retryable');
  });
});

describe('GraphApiError', () => {
  it.each<[number, number | undefined, RegExp]>([
    [190, 463, /expired.*reconnect the page/],
    [190, 460, /password was changed.*reconnect the page/],
    [190, 467, /invalid.*reconnect the page/],
    [190, undefined, /no longer valid.*reconnect the page/],
    [190, 999, /no longer valid.*reconnect the page/],
  ])('tells the user to reconnect the page for token error %i/%s', (code, subcode, message) => {
    const error = new GraphApiError(code, subcode, 400, 'Error validating access token');

    expect(error.kind).toBe('token');
    expect(error.userMessage()).toMatch(message);
  });

  it('names the missing permission code and asks to reconnect', () => {
    const error = new GraphApiError(200, undefined, 403, 'Requires pages_messaging permission');

    expect(error.userMessage()).toMatch(/permission.*200.*reconnect/);
  });

  it('tells the user to try later on a policy block', () => {
    expect(new GraphApiError(368, undefined, 400, 'blocked').userMessage()).toMatch(/try again later/i);
  });

  it('keeps the Graph message out of the user message', () => {
    const error = new GraphApiError(190, 467, 400, 'Invalid OAuth access token EAAG-secret');

    expect(error.message).toContain('190/467');
    expect(error.userMessage()).not.toContain('EAAG-secret');
  });
});

describe('parseGraphTime', () => {
  it.each([
    ['2022-07-12T19:11:07+0000', '2022-07-12T19:11:07.000Z'],
    ['2022-07-12T19:11:07+0530', '2022-07-12T13:41:07.000Z'],
    ['2022-07-12T19:11:07-0800', '2022-07-13T03:11:07.000Z'],
    ['2022-12-31T23:59:59+0000', '2022-12-31T23:59:59.000Z'],
    ['2022-07-12T19:11:07+00:00', '2022-07-12T19:11:07.000Z'],
    ['2022-07-12T19:11:07Z', '2022-07-12T19:11:07.000Z'],
  ])('parses %s as %s', (value, iso) => {
    expect(parseGraphTime(value).toISOString()).toBe(iso);
  });

  it.each(['', 'yesterday', '2022-13-45T99:99:99+0000'])('rejects %j', (value) => {
    expect(() => parseGraphTime(value)).toThrow(/Unparseable Graph timestamp/);
  });
});
