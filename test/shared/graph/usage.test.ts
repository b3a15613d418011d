import { describe, expect, it } from 'vitest';
import { GraphApiError } from '#shared/graph/graph-api-error.ts';
import { slowDownMs } from '#shared/graph/graph-client.ts';

const headers = (values: Record<string, unknown>) =>
  new Headers(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, JSON.stringify(v)])));
const buc = (totalTime: number, callCount = 10) => ({
  'x-business-use-case-usage': {
    '104729384756192': [
      { type: 'messenger', call_count: callCount, total_cputime: 1, total_time: totalTime },
    ],
  },
});

describe('slowDownMs: slowing down before usage reaches 100%', () => {
  it.each([
    ['no usage headers', {}, 0],
    ['usage well below the limit', buc(40), 0],
    ['business use case time at 80%', buc(80), 500],
    ['business use case time at 95%', buc(95), 2000],
    ['the call count the per-Page limiter paces, even at 100%', buc(10, 100), 0],
    ['app usage at 100%', { 'x-app-usage': { call_count: 100, total_time: 3, total_cputime: 2 } }, 2500],
    [
      'the highest of both',
      { ...buc(85), 'x-app-usage': { call_count: 90, total_time: 0, total_cputime: 0 } },
      1500,
    ],
  ])('pauses as it should for %s', (_case, values, pause) => {
    expect(slowDownMs(headers(values))).toBe(pause);
  });

  it('ignores a header that is not JSON', () => {
    expect(slowDownMs(new Headers({ 'x-app-usage': 'not json' }))).toBe(0);
  });
});

describe('GraphApiError.userMessage for a missing permission', () => {
  it('names the permission Graph reported, and asks to reconnect', () => {
    const error = new GraphApiError(
      200,
      undefined,
      403,
      '(#200) Requires pages_messaging permission to manage the object',
    );
    expect(error.userMessage()).toBe(
      'The page is missing a permission the sync needs (pages_messaging, Graph error 200): reconnect the page and grant it.',
    );
  });
});
