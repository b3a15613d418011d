import { generatePage } from '../../../local/graph-sim/demo-data/generate-page.ts';

/** Fast retries: the tests count calls, they never wait. */
export const FAST = { callsPerSecondPerPage: 1000, maxAttempts: 5, backoffBaseMs: 1, maxWaitMs: 50 };

/**
 * A simulated page the client reads with `accessToken`: `[messenger, instagram]` conversations,
 * drawn from the PRNG `seed`.
 */
export const simPage = (
  accessToken: string,
  id: string,
  name: string,
  [messenger, instagram]: [number, number],
  seed: number,
) => generatePage({ id, name, accessToken, messenger, instagram, seed });
