import { DecryptCommand } from '@aws-sdk/client-kms';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { routeKey } from '#shared/api/routes.ts';
import { PagesResponse } from '#shared/contract.ts';
import type { ConnectedPage } from '#shared/store/page-repository.ts';
import type { SyncJob } from '#shared/sync/job.ts';
import { handler } from '../../functions/pages/handler.ts';
import { CALLER, type RouteEventInit, routeCaller } from './event.ts';
import {
  ddbMock,
  givenPagesListed,
  JOBS_TABLE,
  kmsMock,
  PAGES_TABLE,
  PREVIOUS_OWNERS_JOB_ID,
  previousOwnersJob,
  resetAwsMocks,
} from './fixtures.ts';

/** The pages' tokens, and the KMS ciphertexts the pages table holds for them. */
const TOKENS = ['EAAG-secret-token-of-zeta', 'EAAG-secret-token-of-alpha'];
const CIPHERTEXTS = TOKENS.map((token) => Buffer.from(`kms-ciphertext:${token}`).toString('base64'));

function page(
  overrides: Partial<ConnectedPage> & Pick<ConnectedPage, 'pageId' | 'pageName' | 'accessTokenCiphertext'>,
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
    listComplete: true,
    createdBy: CALLER.sub,
    createdAt: '2026-01-02T00:00:00.000Z',
    updatedAt: '2026-01-02T00:01:00.000Z',
    ...overrides,
  };
}

const ZETA = page({
  pageId: '100000000000026',
  pageName: 'Zeta Shop',
  accessTokenCiphertext: CIPHERTEXTS[0] ?? '',
  contactCount: 5,
  activeJobId: '00000000-0000-4000-8000-0000000000ac',
});
const ALPHA = page({
  pageId: '100000000000010',
  pageName: 'Alpha Cafe',
  accessTokenCiphertext: CIPHERTEXTS[1] ?? '',
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
  listComplete: true,
});

const listPages = (init: Omit<RouteEventInit, 'body'> = {}) =>
  routeCaller(handler, 'listPages')(undefined, init);

beforeEach(() => {
  resetAwsMocks();
  // Were the handler ever to decrypt, the plaintext would be at hand to leak.
  kmsMock.on(DecryptCommand).callsFake((input: { CiphertextBlob: Uint8Array }) => ({
    Plaintext: Buffer.from(Buffer.from(input.CiphertextBlob).toString('utf8').replace('kms-ciphertext:', '')),
  }));
  givenPagesListed(ZETA, ALPHA);
  ddbMock
    .on(QueryCommand, { TableName: JOBS_TABLE, ExpressionAttributeValues: { ':p': '100000000000026' } })
    .resolves({ Items: [ACTIVE] });
  ddbMock
    .on(QueryCommand, { TableName: JOBS_TABLE, ExpressionAttributeValues: { ':p': '100000000000010' } })
    .resolves({ Items: [] });
  ddbMock
    .on(GetCommand, {
      TableName: JOBS_TABLE,
      Key: { jobId: '00000000-0000-4000-8000-0000000000ac', sk: 'JOB' },
    })
    .resolves({ Item: ACTIVE });
});

describe(routeKey('listPages'), () => {
  it("returns 200 with the organization's pages by name, their active and last jobs", async () => {
    const reply = await listPages();

    expect(reply.statusCode).toBe(200);
    const { pages } = PagesResponse.parse(reply.body);
    expect(pages.map((p) => p.id)).toEqual(['100000000000010', '100000000000026']);
    expect(pages[0]).toMatchObject({
      id: '100000000000010',
      pageName: 'Alpha Cafe',
      instagramAccountId: '17841400000000001',
      contactCount: 0,
      connectedAt: '2026-01-01T00:00:00.000Z',
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

  it('never returns an access token, in plaintext or as ciphertext, and never decrypts one', async () => {
    const reply = await listPages();

    expect(reply.statusCode).toBe(200);
    for (const token of TOKENS) expect(reply.raw).not.toContain(token);
    for (const ciphertext of CIPHERTEXTS) expect(reply.raw).not.toContain(ciphertext);
    expect(reply.raw).not.toContain('accessToken');
    expect(kmsMock).not.toReceiveAnyCommand();
  });

  it('does not show the organization id of its pages or jobs', async () => {
    const reply = await listPages();

    expect(reply.statusCode).toBe(200);
    expect(reply.raw).not.toContain(CALLER.org_id);
  });

  it("does not show another organization's job as the last job of a page that changed hands", async () => {
    // The page was connected by org-2, synced, disconnected, then connected by CALLER's org: the
    // page's history in the byPage index still holds org-2's job.
    const previousOwners = previousOwnersJob({
      pageId: '100000000000010',
      status: 'CANCELLED',
      cancelReason: 'internal reason of org-2',
    });
    ddbMock
      .on(QueryCommand, { TableName: JOBS_TABLE, ExpressionAttributeValues: { ':p': '100000000000010' } })
      .resolves({ Items: [previousOwners] });

    const reply = await listPages();

    expect(reply.statusCode).toBe(200);
    const alpha = PagesResponse.parse(reply.body).pages.find((p) => p.id === '100000000000010');
    expect(alpha?.lastJob).toBeNull();
    expect(reply.raw).not.toContain(PREVIOUS_OWNERS_JOB_ID);
    expect(reply.raw).not.toContain('user-of-org-2');
  });

  it('returns an empty list when the organization has no page', async () => {
    givenPagesListed();

    const reply = await listPages({ claims: { sub: 'user-9', org_id: 'org-9' } });

    expect(reply.statusCode).toBe(200);
    expect(reply.body).toEqual({ pages: [] });
    expect(ddbMock).toReceiveCommandWith(QueryCommand, { ExpressionAttributeValues: { ':o': 'org-9' } });
  });
});
