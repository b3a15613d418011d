import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  GraphUnavailable,
  PagePermissionMissing,
  PageTokenRejected,
  TokenOfAnotherPage,
} from '#shared/domain-errors.ts';
import { GraphClient } from '#shared/graph/graph-client.ts';
import { asHttpError } from '#shared/http-error-map.ts';
import type { HttpError } from '#shared/http-errors.ts';
import { checkPageToken } from '#shared/pages/page-token-check.ts';
import { demoPage, generatePage } from '../../local/graph-sim/demo-data/generate-page.ts';
import { type GraphSimulator, startGraphSimulator } from '../../local/graph-sim/server.ts';

const withInstagram = demoPage();
const messengerOnly = {
  ...generatePage({
    id: '104729384756777',
    name: 'Messenger Only',
    accessToken: 'messenger-only-token-0123',
    messenger: 3,
    instagram: 0,
  }),
  instagramAccountId: undefined,
};

let sim: GraphSimulator;
/** A client like the connect's, without waits. */
const graph = () =>
  new GraphClient(sim.baseUrl, {
    callsPerSecondPerPage: 100,
    maxAttempts: 2,
    backoffBaseMs: 1,
    maxWaitMs: 5,
  });

beforeAll(async () => {
  sim = await startGraphSimulator({ pages: [withInstagram, messengerOnly], rateLimitPerSecond: null });
});
afterAll(() => sim.close());
afterEach(() => sim.setFaults(null));

describe('checkPageToken', () => {
  it("returns Graph's page name and Instagram account, after reading one conversation per platform", async () => {
    const before = sim.stats().totalCalls;

    await expect(checkPageToken(withInstagram.id, withInstagram.accessToken, graph())).resolves.toEqual({
      pageName: 'My Business Page',
      instagramAccountId: '17841400000000001',
    });
    expect(sim.stats().totalCalls - before).toBe(3);
  });

  it('reads Messenger only for a page without an Instagram account', async () => {
    const before = sim.stats().totalCalls;

    await expect(checkPageToken(messengerOnly.id, messengerOnly.accessToken, graph())).resolves.toEqual({
      pageName: 'Messenger Only',
    });
    expect(sim.stats().totalCalls - before).toBe(2);
  });

  it.each<[string, string, string, abstract new (...args: never[]) => Error, string]>([
    [
      'an invalid token',
      withInstagram.id,
      'not-a-page-token-0123456789',
      PageTokenRejected,
      'the access token is invalid',
    ],
    ['an expired token', withInstagram.id, 'expired-token', PageTokenRejected, 'the access token expired'],
    [
      'a token of another page',
      withInstagram.id,
      messengerOnly.accessToken,
      TokenOfAnotherPage,
      withInstagram.id,
    ],
    [
      'a token without messaging access',
      withInstagram.id,
      `${withInstagram.accessToken}.no_messaging`,
      PagePermissionMissing,
      'pages_messaging',
    ],
  ])('refuses %s with a 400 naming the problem', async (_case, pageId, token, errorClass, named) => {
    const error = await checkPageToken(pageId, token, graph()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(errorClass);
    expect((error as Error).message).toContain(named);
    expect((error as Error).message).not.toContain(token);
    expect((asHttpError(error) as HttpError).statusCode).toBe(400);
  });

  it.each([[[500]], [[613]], [[4]], [[80006]], [[2]]])(
    'answers GraphUnavailable, a 503 with Retry-After, while Graph fails with %j',
    async (codes) => {
      sim.setFaults({ rate: 1, codes });

      const error = await checkPageToken(withInstagram.id, withInstagram.accessToken, graph()).catch(
        (e: unknown) => e,
      );

      expect(error).toBeInstanceOf(GraphUnavailable);
      const answer = asHttpError(error) as HttpError & { headers: Record<string, string> };
      expect(answer.statusCode).toBe(503);
      expect(Number(answer.headers['Retry-After'])).toBeGreaterThan(0);
    },
  );

  it('answers GraphUnavailable when Graph cannot be reached', async () => {
    const unreachable = new GraphClient('http://127.0.0.1:9/v21.0', {
      callsPerSecondPerPage: 100,
      maxAttempts: 1,
      backoffBaseMs: 1,
      maxWaitMs: 5,
    });

    await expect(
      checkPageToken(withInstagram.id, withInstagram.accessToken, unreachable),
    ).rejects.toBeInstanceOf(GraphUnavailable);
  });
});
