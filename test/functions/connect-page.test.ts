import { DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
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
  throughputExceeded,
} from './fixtures.ts';

// Everything the handler can log (DEBUG), and its metrics: looked at for the token below.
await vi.hoisted(async () => (await import('#test/shared/output.ts')).turnOutputOn());

// The connect function's key (infra/stack.ts sets it in the Lambda environment).
process.env.PAGE_TOKEN_KEY_ID ??= 'arn:aws:kms:us-east-1:000000000000:key/page-tokens';
const KEY_ID = process.env.PAGE_TOKEN_KEY_ID;

const TOKEN = 'EAAGm0PX4ZCpsBAKZBsecretPageToken123';
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
    const reply = await connect({
      pageId: ' 100000000000001 ',
      pageName: '  Shop  ',
      accessToken: ` ${TOKEN} `,
    });

    expect(reply.statusCode).toBe(201);
    expect(putItem()).toMatchObject({ pageId: PAGE_ID, pageName: 'Shop' });
    expect(putItem()).not.toHaveProperty('instagramAccountId');
    expect(kmsMock).toReceiveCommandWith(EncryptCommand, { Plaintext: Buffer.from(TOKEN, 'utf8') });
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

describe(`${routeKey('connectPage')}: errors`, () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['pageName is missing', { ...VALID, pageName: undefined }, 'pageName is required'],
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
      'pageId must be a numeric Facebook id; pageName is required; accessToken is required; Unrecognized key: "extra"',
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
