import { afterAll, afterEach, beforeAll } from 'vitest';
import { generatePage } from '../../local/graph-sim/demo-data/generate-page.ts';
import type { SimPage } from '../../local/graph-sim/demo-data/sim-types.ts';
import { type GraphSimulator, startGraphSimulator } from '../../local/graph-sim/server.ts';
import { PAGE_ID } from './fixtures.ts';

/** The page token the tests of connect and replace give; the simulator knows it as PAGE_ID's. */
export const PAGE_TOKEN = 'EAAGm0PX4ZCpsBAKZBsecretPageToken123';
/** Another page's token: valid, but its `/me` is page OTHER_PAGE_ID. */
export const OTHER_PAGE_TOKEN = 'EAAGotherPageSecretToken4567890';
export const OTHER_PAGE_ID = '100000000000777';
/** A page without an Instagram account, and its token. */
export const MESSENGER_ONLY_PAGE_ID = '100000000000002';
export const MESSENGER_ONLY_TOKEN = 'EAAGmessengerOnlyPageToken123';
/** PAGE_ID's token without the messaging permission (docs/graph-simulator.md). */
export const NO_MESSAGING_TOKEN = `${PAGE_TOKEN}.no_messaging`;
/** A token Graph does not know: 190. */
export const UNKNOWN_TOKEN = 'EAAGnotAValidTokenAtAll0000';

const pages: SimPage[] = [
  generatePage({
    id: PAGE_ID,
    name: 'My Business Page',
    accessToken: PAGE_TOKEN,
    instagramAccountId: '17841400000000001',
    messenger: 3,
    instagram: 2,
  }),
  {
    ...generatePage({
      id: MESSENGER_ONLY_PAGE_ID,
      name: 'Shop',
      accessToken: MESSENGER_ONLY_TOKEN,
      messenger: 1,
      instagram: 0,
    }),
    instagramAccountId: undefined,
  },
  generatePage({
    id: OTHER_PAGE_ID,
    name: 'Other Page',
    accessToken: OTHER_PAGE_TOKEN,
    messenger: 1,
    instagram: 1,
  }),
];

/**
 * The Graph simulator for a test file: GRAPH_API_URL points at it (the handlers' checks read it),
 * retries and the per-page limiter do not wait, and injected faults are cleared after each test.
 */
export function simulatedGraph(): { sim: () => GraphSimulator } {
  let sim: GraphSimulator | undefined;
  beforeAll(async () => {
    sim = await startGraphSimulator({ pages, rateLimitPerSecond: null });
    process.env.GRAPH_API_URL = sim.baseUrl;
    process.env.GRAPH_BACKOFF_BASE_MS = '1';
    process.env.GRAPH_CALLS_PER_SECOND = '1000';
  });
  afterEach(() => sim?.setFaults(null));
  afterAll(() => sim?.close());
  return {
    sim: () => {
      if (!sim) throw new Error('the simulator is not started');
      return sim;
    },
  };
}
