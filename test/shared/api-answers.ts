import { expect } from 'vitest';
import { StartSyncResponse } from '#shared/contract.ts';

/**
 * The body of a first start's 202 (a full sync: no watermark yet), asserted exact: the documented
 * shape and values, its job id matching `jobId`. Returns the parsed body.
 */
export function expectFullStart(body: unknown, jobId: unknown) {
  const started = StartSyncResponse.strict().parse(body);
  expect(started).toEqual({ jobId, status: 'PENDING', mode: 'full', since: null, message: 'Sync started' });
  return started;
}
