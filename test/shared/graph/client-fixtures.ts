import { type GeneratePageOptions, generatePage } from '../../../local/graph-sim/demo-data/generate-page.ts';

/** Fast retries: the tests count calls, they never wait. */
export const FAST = { callsPerSecondPerPage: 1000, maxAttempts: 5, backoffBaseMs: 1, maxWaitMs: 50 };

/** A simulated page the client reads with `accessToken`. */
export const pageWithToken = (accessToken: string, page: Omit<GeneratePageOptions, 'accessToken'>) =>
  generatePage({ ...page, accessToken });
