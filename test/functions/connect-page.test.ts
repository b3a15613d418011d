import { DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { routeKey } from '#shared/api/routes.ts';
import { ConnectPageResponse } from '#shared/contract.ts';
import { BUSY_MESSAGE } from '#shared/http.ts';
import { captureOutput } from '#test/shared/output.ts';
import { handler } from '../../functions/connect-page/handler.ts';
import { CALLER, expectError, expectInternalError, routeCaller } from './event.ts';
import {
  conditionFailed,
  ddbMock,
  expectRefused,
  givenJobsListed,
  kmsMock,
  PAGE_ID,
  PAGES_TABLE,
  PREVIOUS_OWNERS_JOB_ID,
  previousOwnersJob,
  resetAwsMocks,
  storedPage,
  throughputExceeded,
} from './fixtures.ts';
import {
  MESSENGER_ONLY_PAGE_ID,
  MESSENGER_ONLY_TOKEN,
  NO_MESSAGING_TOKEN,
  OTHER_PAGE_TOKEN,
  PAGE_TOKEN,
  simulatedGraph,
  UNKNOWN_TOKEN,
} from './graph-for-pages.ts';

// Everything the handler can log (DEBUG), and its metrics: looked at for the token below.
await vi.hoisted(async () => (await import('#test/shared/output.ts')).turnOutputOn());

// The connect function's key (infra/stack.ts sets it in the Lambda environment).
process.env.PAGE_TOKEN_KEY_ID ??= 'arn:aws:kms:us-east-1:000000000000:key/page-tokens';
const KEY_ID = process.env.PAGE_TOKEN_KEY_ID;

const TOKEN = PAGE_TOKEN;
const graph = simulatedGraph();
/** What the mocked KMS answers for TOKEN; the pages table must hold this, base64. */
const CIPHERTEXT_BYTES = Buffer.from('opaque-kms-ciphertext-blob');
const CIPHERTEXT = CIPHERTEXT_BYTES.toString('base64');

const VALID = {
  pageId: PAGE_ID,
  pageName: 'My Business Page',
  accessToken: TOKEN,
  instagramAccountId: '17841400000000001',
};

const connect = routeCaller(handler, 'connectPage');

/** The item the connect put into the pages table. */
function putItem(): Record<string, unknown> {
  const item = ddbMock.commandCalls(PutCommand, { TableName: PAGES_TABLE })[0]?.args[0].input.Item;
  if (!item) throw new Error('no page was put');
  return item;
}

/** Everything the handler wrote to stdout and stderr (its logs and metrics, at DEBUG). */
const output = captureOutput();
const logged = output.text;

beforeEach(() => {
  resetAwsMocks();
  kmsMock.on(EncryptCommand).resolves({ CiphertextBlob: CIPHERTEXT_BYTES, KeyId: KEY_ID });
  ddbMock.on(PutCommand).resolves({});
  // The page is not connected yet.
  ddbMock.on(GetCommand, { TableName: PAGES_TABLE }).resolves({});
  givenJobsListed();
});

describe(`${routeKey('connectPage')}: connecting`, () => {
  it('returns 201 with the page and no token field', async () => {
    const reply = await connect(VALID);

    expect(reply.statusCode).toBe(201);
    const { page } = ConnectPageResponse.strict().parse(reply.body);
    expect(page).toEqual({
      id: PAGE_ID,
      pageName: 'My Business Page',
      instagramAccountId: '17841400000000001',
      contactCount: 0,
      connectedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      activeJob: null,
      lastJob: null,
    });
    expect(reply.raw).not.toContain(TOKEN);
    expect(reply.raw).not.toContain(CIPHERTEXT);
    expect(reply.raw).not.toContain('accessToken');
  });

  it('logs with the page id, and never the token or its ciphertext, even at DEBUG', async () => {
    await connect(VALID);

    expect(output.logs()).toContainEqual(
      expect.objectContaining({ level: 'INFO', message: 'Page connected', pageId: PAGE_ID }),
    );
    expect(logged()).not.toContain(TOKEN);
    expect(logged()).not.toContain(CIPHERTEXT);
  });

  it('encrypts the token with the page key, bound to the page by its encryption context', async () => {
    await connect(VALID);

    expect(kmsMock).toReceiveCommandTimes(EncryptCommand, 1);
    expect(kmsMock).toReceiveCommandWith(EncryptCommand, {
      KeyId: KEY_ID,
      Plaintext: Buffer.from(TOKEN, 'utf8'),
      EncryptionContext: { pageId: PAGE_ID },
    });
    expect(kmsMock).not.toReceiveCommand(DecryptCommand);
  });

  it("stores the KMS ciphertext and never the plaintext, conditional on the page being new, in the caller's organization", async () => {
    await connect(VALID);

    expect(ddbMock).toReceiveCommandTimes(PutCommand, 1);
    expect(ddbMock).toReceiveCommandWith(PutCommand, {
      TableName: PAGES_TABLE,
      ConditionExpression: 'attribute_not_exists(pageId)',
    });
    expect(putItem()).toEqual({
      pageId: PAGE_ID,
      organizationId: CALLER.org_id,
      pageName: 'My Business Page',
      instagramAccountId: '17841400000000001',
      accessTokenCiphertext: CIPHERTEXT,
      contactCount: 0,
      connectedAt: expect.any(String),
    });
    expect(JSON.stringify(putItem())).not.toContain(TOKEN);
  });

  it('trims the fields and leaves instagramAccountId out when it is not given', async () => {
    // A page without an Instagram account: Graph has none to fill in either.
    const reply = await connect({
      pageId: ` ${MESSENGER_ONLY_PAGE_ID} `,
      pageName: '  Shop  ',
      accessToken: ` ${MESSENGER_ONLY_TOKEN} `,
    });

    expect(reply.statusCode).toBe(201);
    expect(putItem()).toMatchObject({ pageId: MESSENGER_ONLY_PAGE_ID, pageName: 'Shop' });
    expect(putItem()).not.toHaveProperty('instagramAccountId');
    expect(kmsMock).toReceiveCommandWith(EncryptCommand, {
      Plaintext: Buffer.from(MESSENGER_ONLY_TOKEN, 'utf8'),
    });
    expect(ConnectPageResponse.parse(reply.body).page.instagramAccountId).toBeNull();
  });

  it("does not show the previous owner's job as lastJob when another organization connected the page before", async () => {
    // The page was connected by org-2 before, synced, then disconnected: its history is org-2's.
    givenJobsListed(previousOwnersJob({ status: 'COMPLETED' }));

    const reply = await connect(VALID);

    expect(reply.statusCode).toBe(201);
    expect(ConnectPageResponse.parse(reply.body).page.lastJob).toBeNull();
    expect(reply.raw).not.toContain(PREVIOUS_OWNERS_JOB_ID);
  });
});

describe(`${routeKey('connectPage')}: the token is checked with Graph first`, () => {
  it("takes the page's name and Instagram account from Graph when only pageId and the token are given", async () => {
    const before = graph.sim().stats().totalCalls;

    const reply = await connect({ pageId: PAGE_ID, accessToken: TOKEN });

    expect(reply.statusCode).toBe(201);
    expect(putItem()).toMatchObject({
      pageName: 'My Business Page',
      instagramAccountId: '17841400000000001',
    });
    // /me, then one conversation of each platform.
    expect(graph.sim().stats().totalCalls - before).toBe(3);
    expect(logged()).not.toContain(TOKEN);
  });

  it('keeps the name and Instagram account the request gives', async () => {
    const reply = await connect({ ...VALID, pageName: 'Shop', instagramAccountId: '17841400000000002' });

    expect(reply.statusCode).toBe(201);
    expect(putItem()).toMatchObject({ pageName: 'Shop', instagramAccountId: '17841400000000002' });
  });

  it.each<[string, string, string]>([
    ['Graph does not know the token (190)', UNKNOWN_TOKEN, 'Facebook rejected the access token'],
    ["the token is another page's", OTHER_PAGE_TOKEN, `not a Page access token of page ${PAGE_ID}`],
    [
      'the token lacks pages_messaging (200)',
      NO_MESSAGING_TOKEN,
      'missing a permission the sync needs (pages_messaging',
    ],
  ])('answers 400 and neither encrypts nor stores when %s', async (_case, token, message) => {
    const reply = await connect({ ...VALID, accessToken: token });

    expect(reply.statusCode).toBe(400);
    expect(JSON.parse(reply.raw).error).toContain(message);
    expect(kmsMock).not.toReceiveCommand(EncryptCommand);
    expect(ddbMock).not.toReceiveCommand(PutCommand);
    expect(reply.raw).not.toContain(token);
    expect(logged()).not.toContain(token);
  });

  it.each([[[500]], [[613]], [[17]], [[80006]]])(
    'answers 503 with Retry-After and stores nothing while Graph fails with %j',
    async (codes) => {
      graph.sim().setFaults({ rate: 1, codes });

      const reply = await connect(VALID);

      expect(reply.statusCode).toBe(503);
      expect(Number(reply.headers?.['Retry-After'])).toBeGreaterThan(0);
      expect(kmsMock).not.toReceiveCommand(EncryptCommand);
      expect(ddbMock).not.toReceiveCommand(PutCommand);
      expect(logged()).not.toContain(TOKEN);
    },
  );

  it('answers 409 for a page already connected without calling Graph', async () => {
    ddbMock
      .on(GetCommand, { TableName: PAGES_TABLE })
      .resolves({ Item: storedPage({ organizationId: 'org-2' }) });
    const before = graph.sim().stats().totalCalls;

    const reply = await connect({ ...VALID, accessToken: UNKNOWN_TOKEN });

    expectError(reply, 409, 'Page is already connected');
    expect(graph.sim().stats().totalCalls).toBe(before);
    expect(ddbMock).not.toReceiveCommand(PutCommand);
  });
});

describe(`${routeKey('connectPage')}: errors`, () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['pageName is blank', { ...VALID, pageName: '   ' }, 'pageName is required'],
    [
      'pageName is too long',
      { ...VALID, pageName: 'n'.repeat(201) },
      'pageName must be at most 200 characters',
    ],
    ['pageId is missing', { ...VALID, pageId: undefined }, 'pageId is required'],
    ['pageId is not numeric', { ...VALID, pageId: 'my-page' }, 'pageId must be a numeric Facebook id'],
    ['pageId is a number, not a string', { ...VALID, pageId: 100000000000001 }, 'pageId is required'],
    [
      'instagramAccountId is not numeric',
      { ...VALID, instagramAccountId: 'insta' },
      'instagramAccountId must be a numeric Facebook id',
    ],
    ['accessToken is missing', { ...VALID, accessToken: undefined }, 'accessToken is required'],
    ['accessToken is whitespace', { ...VALID, accessToken: '      ' }, 'accessToken is required'],
    ['accessToken is too short', { ...VALID, accessToken: 'EAAG123' }, 'accessToken is too short'],
    ['accessToken is too long', { ...VALID, accessToken: 'E'.repeat(2049) }, 'accessToken is too long'],
    [
      'accessToken has spaces inside',
      { ...VALID, accessToken: 'EAAG secret page token 1234' },
      'accessToken has invalid characters',
    ],
    [
      'the body has an unknown key',
      { ...VALID, organizationId: 'org-2' },
      'Unrecognized key: "organizationId"',
    ],
  ])('returns 400 naming the field, and neither encrypts nor writes, when %s', async (_case, body, error) => {
    const reply = await connect(body);

    expectRefused(reply, 400, error);
  });

  it('names every invalid field in one message', async () => {
    const reply = await connect({ pageId: 'x', extra: true });

    expectError(
      reply,
      400,
      'pageId must be a numeric Facebook id; accessToken is required; Unrecognized key: "extra"',
    );
  });

  it('returns 409 when the page is already connected (the conditional put fails)', async () => {
    ddbMock.on(PutCommand, { TableName: PAGES_TABLE }).rejects(conditionFailed());

    const reply = await connect(VALID);

    expectError(reply, 409, 'Page is already connected');
    expect(reply.raw).not.toContain(CIPHERTEXT);
  });

  it('returns 500 with a fixed body when KMS fails, and writes nothing', async () => {
    kmsMock.on(EncryptCommand).rejects(new Error(`AccessDeniedException: not authorized to use ${KEY_ID}`));

    const reply = await connect(VALID);

    expectInternalError(reply);
    expect(ddbMock).not.toReceiveCommand(PutCommand);
  });

  it('returns 500 with a fixed body when DynamoDB fails for another reason than the condition', async () => {
    ddbMock
      .on(PutCommand, { TableName: PAGES_TABLE })
      .rejects(new Error(`Requested resource not found: ${PAGES_TABLE}`));

    const reply = await connect(VALID);

    expectInternalError(reply);
  });

  it('returns 503 to retry when DynamoDB keeps throttling the write', async () => {
    ddbMock.on(PutCommand, { TableName: PAGES_TABLE }).rejects(throughputExceeded(PAGES_TABLE));

    const reply = await connect(VALID);

    expectError(reply, 503, BUSY_MESSAGE);
  });

  it.each<[string, string, () => void, number]>([
    ['the token has an invalid character', `${TOKEN}!`, () => {}, 400],
    ['the page is already connected', TOKEN, () => ddbMock.on(PutCommand).rejects(conditionFailed()), 409],
    ['KMS fails', TOKEN, () => kmsMock.on(EncryptCommand).rejects(new Error('KMS is unavailable')), 500],
    [
      'DynamoDB fails',
      TOKEN,
      () => ddbMock.on(PutCommand).rejects(new Error('Item size has exceeded the maximum allowed size')),
      500,
    ],
  ])('never logs or returns the plaintext token when %s', async (_case, token, arrange, statusCode) => {
    arrange();

    const reply = await connect({ ...VALID, accessToken: token });

    expect(reply.statusCode).toBe(statusCode);
    expect(reply.raw).not.toContain(TOKEN);
    if (statusCode === 500) expect(logged()).toContain('Request failed');
    expect(logged()).not.toContain(TOKEN);
  });
});
