import { EncryptCommand } from '@aws-sdk/client-kms';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { routeKey } from '#shared/api/routes.ts';
import { ConnectPageResponse } from '#shared/contract.ts';
import type { JobStatus } from '#shared/job-status.ts';
import { captureOutput } from '#test/shared/output.ts';
import { handler } from '../../functions/replace-page-token/handler.ts';
import { expectError, routeCaller } from './event.ts';
import {
  conditionFailed,
  ddbMock,
  expectRefused,
  givenJob,
  givenJobsListed,
  givenPage,
  JOB_ID,
  kmsMock,
  PAGE_ID,
  PAGES_TABLE,
  resetAwsMocks,
  storedJob,
  storedPage,
} from './fixtures.ts';
import {
  NO_MESSAGING_TOKEN,
  OTHER_PAGE_TOKEN,
  PAGE_TOKEN,
  simulatedGraph,
  UNKNOWN_TOKEN,
} from './graph-for-pages.ts';

await vi.hoisted(async () => (await import('#test/shared/output.ts')).turnOutputOn());
process.env.PAGE_TOKEN_KEY_ID ??= 'arn:aws:kms:us-east-1:000000000000:key/page-tokens';

const graph = simulatedGraph();
const output = captureOutput();
const logged = output.text;

const NEW_CIPHERTEXT = Buffer.from('new-kms-ciphertext-blob');
const replace = (body: unknown, pageId = PAGE_ID) =>
  routeCaller(handler, 'replacePageToken')(body, { pathParameters: { pageId } });

/** The page as it is stored before the replace: it has synced contacts and watermarks. */
const synced = storedPage({ contactCount: 12, instagramAccountId: '17841400000000001' });

beforeEach(() => {
  resetAwsMocks();
  kmsMock.on(EncryptCommand).resolves({ CiphertextBlob: NEW_CIPHERTEXT });
  givenPage(synced);
  ddbMock
    .on(UpdateCommand, { TableName: PAGES_TABLE })
    .callsFake((input: { ExpressionAttributeValues: Record<string, unknown> }) => ({
      Attributes: { ...synced, accessTokenCiphertext: input.ExpressionAttributeValues[':c'] },
    }));
  givenJobsListed(
    storedJob({
      status: 'FAILED',
      error: "Facebook rejected the page's access token: reconnect the page and sync again.",
    }),
  );
});

describe(`${routeKey('replacePageToken')}: replacing`, () => {
  it('checks the token with Graph, then stores only the new ciphertext; contacts and history stay', async () => {
    const before = graph.sim().stats().totalCalls;

    const reply = await replace({ accessToken: PAGE_TOKEN });

    expect(reply.statusCode).toBe(200);
    expect(graph.sim().stats().totalCalls - before).toBe(3);
    const { page } = ConnectPageResponse.strict().parse(reply.body);
    expect(page).toMatchObject({ id: PAGE_ID, contactCount: 12, lastJob: { status: 'FAILED' } });
    expect(kmsMock).toReceiveCommandWith(EncryptCommand, {
      Plaintext: Buffer.from(PAGE_TOKEN, 'utf8'),
      EncryptionContext: { pageId: PAGE_ID },
    });
    expect(ddbMock).toReceiveCommandTimes(UpdateCommand, 1);
    expect(ddbMock).toReceiveCommandWith(UpdateCommand, {
      TableName: PAGES_TABLE,
      Key: { pageId: PAGE_ID },
      UpdateExpression: 'SET accessTokenCiphertext = :c',
      ConditionExpression: 'organizationId = :o AND attribute_not_exists(activeJobId)',
      ExpressionAttributeValues: { ':c': NEW_CIPHERTEXT.toString('base64'), ':o': synced.organizationId },
    });
    expect(ddbMock).not.toReceiveCommand(PutCommand);
    expect(reply.raw).not.toContain(PAGE_TOKEN);
    expect(reply.raw).not.toContain(NEW_CIPHERTEXT.toString('base64'));
    expect(logged()).not.toContain(PAGE_TOKEN);
  });

  it.each<JobStatus>(['PAUSED', 'COMPLETED', 'FAILED', 'CANCELLED'])(
    'is allowed while the page lock names a %s job (nothing reads the token then)',
    async (status) => {
      givenPage({ ...synced, activeJobId: JOB_ID });
      givenJob(storedJob({ status }));

      const reply = await replace({ accessToken: PAGE_TOKEN });

      expect(reply.statusCode).toBe(200);
      expect(ddbMock).toReceiveCommandWith(UpdateCommand, {
        ConditionExpression: 'organizationId = :o AND activeJobId = :j',
        ExpressionAttributeValues: expect.objectContaining({ ':j': JOB_ID }),
      });
    },
  );
});

describe(`${routeKey('replacePageToken')}: refusals`, () => {
  it.each<JobStatus>(['PENDING', 'IN_PROGRESS'])(
    'answers 409 {error, activeJobId} while a sync is %s, before calling Graph',
    async (status) => {
      givenPage({ ...synced, activeJobId: JOB_ID });
      givenJob(storedJob({ status }));
      const before = graph.sim().stats().totalCalls;

      const reply = await replace({ accessToken: PAGE_TOKEN });

      expect(reply.statusCode).toBe(409);
      expect(reply.body).toEqual({
        error: 'A sync is running for this page: pause or stop it, then replace the token',
        activeJobId: JOB_ID,
      });
      expect(graph.sim().stats().totalCalls).toBe(before);
      expect(kmsMock).not.toReceiveCommand(EncryptCommand);
      expect(ddbMock).not.toReceiveCommand(UpdateCommand);
    },
  );

  it('answers 409 when a sync starts between the check and the write (the lock changed)', async () => {
    givenPage(synced, { ...synced, activeJobId: JOB_ID });
    givenJob(storedJob({ status: 'PENDING' }));
    ddbMock.on(UpdateCommand, { TableName: PAGES_TABLE }).rejectsOnce(conditionFailed());

    const reply = await replace({ accessToken: PAGE_TOKEN });

    expect(reply.statusCode).toBe(409);
    expect(ddbMock).toReceiveCommandTimes(UpdateCommand, 1);
  });

  it('answers 404 for a page that is not connected, and 403 for a page of another organization', async () => {
    givenPage(undefined);
    expectError(await replace({ accessToken: PAGE_TOKEN }), 404, 'Page not connected');

    givenPage(storedPage({ organizationId: 'org-2' }));
    expectError(await replace({ accessToken: PAGE_TOKEN }), 403, 'Page belongs to another organization');
    expect(kmsMock).not.toReceiveCommand(EncryptCommand);
    expect(ddbMock).not.toReceiveCommand(UpdateCommand);
  });

  it.each<[string, string, string]>([
    ['Graph does not know the token (190)', UNKNOWN_TOKEN, 'Facebook rejected the access token'],
    ["the token is another page's", OTHER_PAGE_TOKEN, `not a Page access token of page ${PAGE_ID}`],
    ['the token lacks pages_messaging (200)', NO_MESSAGING_TOKEN, 'pages_messaging'],
  ])('answers 400 and keeps the old token when %s', async (_case, token, message) => {
    const reply = await replace({ accessToken: token });

    expect(reply.statusCode).toBe(400);
    expect((reply.body as { error: string }).error).toContain(message);
    expect(kmsMock).not.toReceiveCommand(EncryptCommand);
    expect(ddbMock).not.toReceiveCommand(UpdateCommand);
    expect(reply.raw).not.toContain(token);
    expect(logged()).not.toContain(token);
  });

  it('answers 503 with Retry-After and keeps the old token while Graph is down', async () => {
    graph.sim().setFaults({ rate: 1, codes: [500] });

    const reply = await replace({ accessToken: PAGE_TOKEN });

    expect(reply.statusCode).toBe(503);
    expect(Number(reply.headers['Retry-After'])).toBeGreaterThan(0);
    expect(ddbMock).not.toReceiveCommand(UpdateCommand);
  });

  it.each<[string, unknown, string]>([
    ['there is no body', undefined, 'accessToken is required'],
    ['the token is too short', { accessToken: 'EAAG123' }, 'accessToken is too short'],
    ['the body names the page', { accessToken: PAGE_TOKEN, pageId: PAGE_ID }, 'Unrecognized key: "pageId"'],
  ])('answers 400 before any I/O when %s', async (_case, body, error) => {
    expectRefused(await replace(body), 400, error);
    expect(ddbMock).not.toReceiveCommand(GetCommand);
  });

  it('answers 400 for a pageId that is not numeric', async () => {
    expectRefused(
      await replace({ accessToken: PAGE_TOKEN }, 'my-page'),
      400,
      'pageId must be a numeric Facebook id',
    );
  });
});
