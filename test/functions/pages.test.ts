import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/pages/handler.ts';
import type { ConnectedPage } from '../../shared/store/page-repository.ts';
import type { SyncJob } from '../../shared/sync/job.ts';
import { CALLER, type EventInit, httpEvent, invoke } from './event.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);

const JOBS_TABLE = process.env.JOBS_TABLE ?? '';
const PAGES_TABLE = process.env.PAGES_TABLE ?? '';
const TOKENS = ['EAAG-secret-token-of-zeta', 'EAAG-secret-token-of-alpha'];

function page(
  overrides: Partial<ConnectedPage> & Pick<ConnectedPage, 'pageId' | 'pageName' | 'accessToken'>,
) {
  return {
    organizationId: CALLER.org_id,
    contactCount: 0,
    connectedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  } satisfies ConnectedPage;
}

function job(overrides: Partial<SyncJob> & Pick<SyncJob, 'jobId' | 'pageId' | 'status'>): SyncJob {
  return {
    organizationId: CALLER.org_id,
    phase: 'done',
    syncedContacts: 5,
    failedContacts: 0,
    totalContacts: 5,
    discoveredPlatforms: ['messenger', 'instagram'],
    createdBy: CALLER.sub,
    createdAt: '2026-01-02T00:00:00.000Z',
    updatedAt: '2026-01-02T00:01:00.000Z',
    ...overrides,
  };
}

const ZETA = page({
  pageId: '100000000000026',
  pageName: 'Zeta Shop',
  accessToken: TOKENS[0] ?? '',
  contactCount: 5,
  activeJobId: '00000000-0000-4000-8000-0000000000ac',
});
const ALPHA = page({
  pageId: '100000000000010',
  pageName: 'Alpha Cafe',
  accessToken: TOKENS[1] ?? '',
  instagramAccountId: '17841400000000001',
  contactCount: 0,
});
const ACTIVE = job({
  jobId: '00000000-0000-4000-8000-0000000000ac',
  pageId: '100000000000026',
  status: 'IN_PROGRESS',
  phase: 'syncing:messenger',
  syncedContacts: 2,
  totalContacts: 8,
  discoveredPlatforms: ['messenger'],
});

const listPages = (init: EventInit = {}) =>
  invoke(handler, httpEvent({ method: 'GET', path: '/api/facebook/pages', ...init }));

beforeEach(() => {
  ddbMock.reset();
  ddbMock.on(QueryCommand, { TableName: PAGES_TABLE }).resolves({ Items: [ZETA, ALPHA] });
  ddbMock
    .on(QueryCommand, { TableName: JOBS_TABLE, ExpressionAttributeValues: { ':p': '100000000000026' } })
    .resolves({
      Items: [ACTIVE],
    });
  ddbMock
    .on(QueryCommand, { TableName: JOBS_TABLE, ExpressionAttributeValues: { ':p': '100000000000010' } })
    .resolves({
      Items: [],
    });
  ddbMock
    .on(GetCommand, { TableName: JOBS_TABLE, Key: { jobId: '00000000-0000-4000-8000-0000000000ac', sk: 'JOB' } })
    .resolves({ Item: ACTIVE });
});

describe('GET /api/facebook/pages', () => {
  it("returns 200 with the organization's pages by name, their active and last jobs", async () => {
    const reply = await listPages();

    expect(reply.statusCode).toBe(200);
    const { pages } = reply.body as { pages: Record<string, unknown>[] };
    expect(pages.map((p) => p.id)).toEqual(['100000000000010', '100000000000026']);
    expect(pages[0]).toMatchObject({
      id: '100000000000010',
      pageName: 'Alpha Cafe',
      contactCount: 0,
      activeJob: null,
      lastJob: null,
    });
    expect(pages[1]).toMatchObject({
      id: '100000000000026',
      pageName: 'Zeta Shop',
      contactCount: 5,
      activeJob: { id: '00000000-0000-4000-8000-0000000000ac', status: 'IN_PROGRESS', progress: 25 },
      lastJob: { id: '00000000-0000-4000-8000-0000000000ac', status: 'IN_PROGRESS' },
    });
    expect(ddbMock).toReceiveCommandWith(QueryCommand, {
      TableName: PAGES_TABLE,
      ExpressionAttributeValues: { ':o': CALLER.org_id },
    });
  });

  it('never returns an access token', async () => {
    const reply = await listPages();

    expect(reply.statusCode).toBe(200);
    for (const token of TOKENS) expect(reply.raw).not.toContain(token);
    expect(reply.raw).not.toContain('accessToken');
  });

  it('returns an empty list when the organization has no page', async () => {
    ddbMock.on(QueryCommand, { TableName: PAGES_TABLE }).resolves({ Items: [] });

    const reply = await listPages({ claims: { sub: 'user-9', org_id: 'org-9' } });

    expect(reply.statusCode).toBe(200);
    expect(reply.body).toEqual({ pages: [] });
    expect(ddbMock).toReceiveCommandWith(QueryCommand, { ExpressionAttributeValues: { ':o': 'org-9' } });
  });

  it('returns 401 and reads nothing without claims', async () => {
    const reply = await listPages({ claims: {} });

    expect(reply.statusCode).toBe(401);
    expect(ddbMock).not.toReceiveAnyCommand();
  });

  it('returns 500 with a fixed body when DynamoDB fails', async () => {
    ddbMock
      .on(QueryCommand, { TableName: PAGES_TABLE })
      .rejects(new Error(`ValidationException on ${PAGES_TABLE}`));

    const reply = await listPages();

    expect(reply.statusCode).toBe(500);
    expect(reply.raw).toBe('{"error":"Internal server error"}');
  });
});
