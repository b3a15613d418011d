import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/sync-status/handler.ts';
import { SyncStatusResponse } from '../../shared/contract.ts';
import type { SyncJob } from '../../shared/sync/job.ts';
import {
  CALLER,
  type EventInit,
  errorMessage,
  expectSecurityHeaders,
  expectUncachedJson,
  httpEvent,
  invoke,
  storedJob,
} from './event.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);

const JOBS_TABLE = process.env.JOBS_TABLE ?? '';

/** Just started: nothing discovered, nothing counted. */
function freshJob(overrides: Partial<SyncJob> = {}): SyncJob {
  return storedJob({
    phase: 'discovering:messenger',
    syncedContacts: 0,
    failedContacts: 0,
    totalContacts: 0,
    discoveredPlatforms: undefined,
    updatedAt: '2026-01-01T00:00:02.000Z',
    executionArn:
      'arn:aws:states:us-east-1:000000000000:execution:ContactSyncTest:00000000-0000-4000-8000-000000000001',
    stopExecutionOutcome: 'STOPPED',
    ...overrides,
  });
}

const status = (query: Record<string, string> | undefined, init: Omit<EventInit, 'query'> = {}) =>
  invoke(handler, httpEvent({ method: 'GET', path: '/api/facebook/sync-status', query, ...init }));

function givenStoredJob(job: SyncJob | undefined) {
  ddbMock.on(GetCommand, { TableName: JOBS_TABLE }).resolves({ Item: job });
}

beforeEach(() => {
  ddbMock.reset();
});

describe('GET /api/facebook/sync-status', () => {
  it('returns 200 with the job and a null progress before any discovery', async () => {
    givenStoredJob(freshJob());

    const reply = await status({ jobId: '00000000-0000-4000-8000-000000000001' });

    expect(reply.statusCode).toBe(200);
    expect(SyncStatusResponse.parse(reply.body)).toEqual(reply.body);
    expect(reply.body).toEqual({
      job: {
        id: '00000000-0000-4000-8000-000000000001',
        pageId: '100000000000001',
        status: 'IN_PROGRESS',
        phase: 'discovering:messenger',
        syncedContacts: 0,
        failedContacts: 0,
        totalContacts: 0,
        progress: null,
        createdAt: '2026-01-01T00:00:00.000Z',
        startedAt: '2026-01-01T00:00:01.000Z',
        completedAt: null,
      },
    });
    expect(ddbMock).toReceiveCommandWith(GetCommand, {
      TableName: JOBS_TABLE,
      Key: { jobId: '00000000-0000-4000-8000-000000000001', sk: 'JOB' },
    });
  });

  it('answers 200 with the security headers and Cache-Control: no-store', async () => {
    givenStoredJob(freshJob());

    const reply = await status({ jobId: '00000000-0000-4000-8000-000000000001' });

    expect(reply.statusCode).toBe(200);
    expectSecurityHeaders(reply);
    expectUncachedJson(reply);
  });

  it('answers an error with the security headers and Cache-Control: no-store too', async () => {
    givenStoredJob(undefined);

    const reply = await status({ jobId: '00000000-0000-4000-8000-000000000404' });

    expect(reply.statusCode).toBe(404);
    expectSecurityHeaders(reply);
    expectUncachedJson(reply);
  });

  it('returns an integer progress once the total is known', async () => {
    givenStoredJob(
      freshJob({
        phase: 'syncing:messenger',
        discoveredPlatforms: ['messenger'],
        syncedContacts: 20,
        failedContacts: 1,
        totalContacts: 30,
      }),
    );

    const reply = await status({ jobId: '00000000-0000-4000-8000-000000000001' });

    expect(reply.statusCode).toBe(200);
    const { job } = reply.body as { job: { progress: unknown } };
    expect(job.progress).toBe(70);
    expect(Number.isInteger(job.progress)).toBe(true);
  });

  it('shows who cancelled and why, and never internals', async () => {
    givenStoredJob(
      freshJob({
        status: 'CANCELLED',
        phase: 'cancelled',
        discoveredPlatforms: ['messenger'],
        syncedContacts: 4,
        totalContacts: 10,
        completedAt: '2026-01-01T00:01:00.000Z',
        cancelledBy: 'user-2',
        cancelReason: 'wrong page',
      }),
    );

    const reply = await status({ jobId: '00000000-0000-4000-8000-000000000001' });

    expect(reply.body).toMatchObject({
      job: { status: 'CANCELLED', progress: 40, cancelledBy: 'user-2', cancelReason: 'wrong page' },
    });
    expect(reply.raw).not.toContain('arn:aws:states');
    expect(reply.raw).not.toContain(CALLER.org_id);
  });

  it.each<[string, Record<string, string> | undefined]>([
    ['there is no query string', undefined],
    ['jobId is absent', { pageId: '100000000000001' }],
  ])('returns 400 "jobId is required" when %s', async (_case, query) => {
    const reply = await status(query);

    expect(reply.statusCode).toBe(400);
    expect(errorMessage(reply)).toBe('jobId is required');
    expect(ddbMock).not.toReceiveAnyCommand();
  });

  it('returns 400 when jobId is empty', async () => {
    const reply = await status({ jobId: '' });

    expect(reply.statusCode).toBe(400);
    expect(errorMessage(reply)).toBe('jobId is required');
    expect(ddbMock).not.toReceiveAnyCommand();
  });

  it.each(['job-1', '00000000-0000-4000-8000-000000000001#JOB', 'z'.repeat(200)])(
    'returns 400 "jobId must be a UUID" and reads nothing when jobId is %s',
    async (jobId) => {
      const reply = await status({ jobId });

      expect(reply.statusCode).toBe(400);
      expect(errorMessage(reply)).toBe('jobId must be a UUID');
      expect(ddbMock).not.toReceiveAnyCommand();
    },
  );

  it('returns 401 and reads nothing without claims', async () => {
    const reply = await status({ jobId: '00000000-0000-4000-8000-000000000001' }, { claims: {} });

    expect(reply.statusCode).toBe(401);
    expect(errorMessage(reply)).toBe('Unauthorized');
    expectSecurityHeaders(reply);
    expect(ddbMock).not.toReceiveAnyCommand();
  });

  it('returns 404 when the job does not exist', async () => {
    givenStoredJob(undefined);

    const reply = await status({ jobId: '00000000-0000-4000-8000-000000000404' });

    expect(reply.statusCode).toBe(404);
    expect(errorMessage(reply)).toBe('Sync job not found');
  });

  it('returns 403 without the job when it belongs to another organization', async () => {
    givenStoredJob(freshJob({ organizationId: 'org-2', cancelReason: 'secret reason' }));

    const reply = await status({ jobId: '00000000-0000-4000-8000-000000000001' });

    expect(reply.statusCode).toBe(403);
    expect(errorMessage(reply)).toBe('Sync job belongs to another organization');
    expect(reply.raw).not.toContain('100000000000001');
  });

  it('returns 500 with a fixed body when DynamoDB fails', async () => {
    ddbMock.on(GetCommand).rejects(new Error(`ResourceNotFoundException: ${JOBS_TABLE}`));

    const reply = await status({ jobId: '00000000-0000-4000-8000-000000000001' });

    expect(reply.statusCode).toBe(500);
    expect(reply.raw).toBe('{"error":"Internal server error"}');
  });
});
