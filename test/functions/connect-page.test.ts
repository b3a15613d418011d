import {
  ConditionalCheckFailedException,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../functions/connect-page/handler.ts';
import { ConnectPageResponse } from '../../shared/contract.ts';
import type { SyncJob } from '../../shared/sync/job.ts';
import {
  type EventInit,
  errorMessage,
  expectSecurityHeaders,
  expectUncachedJson,
  httpEvent,
  invoke,
  type JwtClaims,
  storedJob,
} from './event.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const kmsMock = mockClient(KMSClient);

// The connect function's key (infra/stack.ts sets it in the Lambda environment).
process.env.PAGE_TOKEN_KEY_ID ??= 'arn:aws:kms:us-east-1:000000000000:key/page-tokens';
const KEY_ID = process.env.PAGE_TOKEN_KEY_ID;
const PAGES_TABLE = process.env.PAGES_TABLE ?? '';
const JOBS_TABLE = process.env.JOBS_TABLE ?? '';

const TOKEN = 'EAAGm0PX4ZCpsBAKZBsecretPageToken123';
/** What the mocked KMS answers for TOKEN; the pages table must hold this, base64. */
const CIPHERTEXT_BYTES = Buffer.from('opaque-kms-ciphertext-blob');
const CIPHERTEXT = CIPHERTEXT_BYTES.toString('base64');

const VALID = {
  pageId: '100000000000001',
  pageName: 'My Business Page',
  accessToken: TOKEN,
  instagramAccountId: '17841400000000001',
};

const connect = (body: unknown, init: Omit<EventInit, 'body'> = {}) =>
  invoke(handler, httpEvent({ path: '/api/facebook/pages', body, ...init }));

/** The item the connect put into the pages table. */
function putItem(): Record<string, unknown> {
  const item = ddbMock.commandCalls(PutCommand, { TableName: PAGES_TABLE })[0]?.args[0].input.Item;
  if (!item) throw new Error('no page was put');
  return item;
}

/** Everything the handler logged through console.error and console.warn. */
function logged(): string {
  const calls = [...vi.mocked(console.error).mock.calls, ...vi.mocked(console.warn).mock.calls];
  return calls
    .map((args) => args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '))
    .join('\n');
}

beforeEach(() => {
  ddbMock.reset();
  kmsMock.reset();
  vi.mocked(console.error).mockClear();
  vi.mocked(console.warn).mockClear();
  kmsMock.on(EncryptCommand).resolves({ CiphertextBlob: CIPHERTEXT_BYTES, KeyId: KEY_ID });
  ddbMock.on(PutCommand).resolves({});
  ddbMock.on(QueryCommand, { TableName: JOBS_TABLE }).resolves({ Items: [] });
});

describe('POST /api/facebook/pages: connecting', () => {
  it('returns 201 with the page and no token field', async () => {
    const reply = await connect(VALID);

    expect(reply.statusCode).toBe(201);
    const { page } = ConnectPageResponse.strict().parse(reply.body);
    expect(page).toEqual({
      id: '100000000000001',
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

  it('answers 201 with the security headers and Cache-Control: no-store', async () => {
    const reply = await connect(VALID);

    expect(reply.statusCode).toBe(201);
    expectSecurityHeaders(reply);
    expectUncachedJson(reply);
  });

  it('encrypts the token with the page key, bound to the page by its encryption context', async () => {
    await connect(VALID);

    expect(kmsMock).toReceiveCommandTimes(EncryptCommand, 1);
    expect(kmsMock).toReceiveCommandWith(EncryptCommand, {
      KeyId: KEY_ID,
      Plaintext: Buffer.from(TOKEN, 'utf8'),
      EncryptionContext: { pageId: '100000000000001' },
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
      pageId: '100000000000001',
      organizationId: 'org-1',
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
    expect(putItem()).toMatchObject({ pageId: '100000000000001', pageName: 'Shop' });
    expect(putItem()).not.toHaveProperty('instagramAccountId');
    expect(kmsMock).toReceiveCommandWith(EncryptCommand, { Plaintext: Buffer.from(TOKEN, 'utf8') });
    expect(ConnectPageResponse.parse(reply.body).page.instagramAccountId).toBeNull();
  });

  it("does not show the previous owner's job as lastJob when another organization connected the page before", async () => {
    // The page was connected by org-2 before, synced, then disconnected: its history is org-2's.
    const previousOwners: SyncJob = storedJob({
      jobId: '00000000-0000-4000-8000-0000000000b2',
      organizationId: 'org-2',
      status: 'COMPLETED',
      completedAt: '2026-01-01T00:05:00.000Z',
      cancelledBy: 'user-of-org-2',
    });
    ddbMock.on(QueryCommand, { TableName: JOBS_TABLE }).resolves({ Items: [previousOwners] });

    const reply = await connect(VALID);

    expect(reply.statusCode).toBe(201);
    expect(ConnectPageResponse.parse(reply.body).page.lastJob).toBeNull();
    expect(reply.raw).not.toContain('00000000-0000-4000-8000-0000000000b2');
  });
});

describe('POST /api/facebook/pages: errors', () => {
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

    expect(reply.statusCode).toBe(400);
    expect(errorMessage(reply)).toBe(error);
    expect(kmsMock).not.toReceiveAnyCommand();
    expect(ddbMock).not.toReceiveAnyCommand();
  });

  it('names every invalid field in one message', async () => {
    const reply = await connect({ pageId: 'x', extra: true });

    expect(reply.statusCode).toBe(400);
    expect(errorMessage(reply)).toBe(
      'pageId must be a numeric Facebook id; pageName is required; accessToken is required; Unrecognized key: "extra"',
    );
  });

  it('returns 400 when the body is over 16 KB', async () => {
    const reply = await connect({ ...VALID, pageName: 'n'.repeat(16 * 1024) });

    expect(reply.statusCode).toBe(400);
    expect(errorMessage(reply)).toBe('Request body is too large');
    expect(kmsMock).not.toReceiveAnyCommand();
  });

  it.each<[string, JwtClaims]>([
    ['no claims', {}],
    ['no org_id', { sub: 'user-1' }],
  ])('returns 401 and neither encrypts nor writes when the token has %s', async (_case, claims) => {
    const reply = await connect(VALID, { claims });

    expect(reply.statusCode).toBe(401);
    expect(errorMessage(reply)).toBe('Unauthorized');
    expectSecurityHeaders(reply);
    expect(kmsMock).not.toReceiveAnyCommand();
    expect(ddbMock).not.toReceiveAnyCommand();
  });

  it('returns 409 when the page is already connected (the conditional put fails)', async () => {
    ddbMock
      .on(PutCommand, { TableName: PAGES_TABLE })
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );

    const reply = await connect(VALID);

    expect(reply.statusCode).toBe(409);
    expect(errorMessage(reply)).toBe('Page is already connected');
    expectSecurityHeaders(reply);
    expect(reply.raw).not.toContain(CIPHERTEXT);
  });

  it.each<[string, Record<string, string | undefined>]>([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['a form', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['no content type', { 'content-type': undefined }],
  ])('returns 415 and neither encrypts nor writes when JSON is sent as %s', async (_case, headers) => {
    const reply = await connect(VALID, { headers });

    expect(reply.statusCode).toBe(415);
    expect(errorMessage(reply)).toBe('Content-Type must be application/json');
    expect(kmsMock).not.toReceiveAnyCommand();
    expect(ddbMock).not.toReceiveAnyCommand();
  });

  it('returns 500 with a fixed body when KMS fails, and writes nothing', async () => {
    kmsMock.on(EncryptCommand).rejects(new Error(`AccessDeniedException: not authorized to use ${KEY_ID}`));

    const reply = await connect(VALID);

    expect(reply.statusCode).toBe(500);
    expect(reply.raw).toBe('{"error":"Internal server error"}');
    expect(ddbMock).not.toReceiveCommand(PutCommand);
  });

  it('returns 500 with a fixed body when DynamoDB fails for another reason than the condition', async () => {
    ddbMock.on(PutCommand, { TableName: PAGES_TABLE }).rejects(
      new ProvisionedThroughputExceededException({
        message: `Throughput exceeded on ${PAGES_TABLE}`,
        $metadata: {},
      }),
    );

    const reply = await connect(VALID);

    expect(reply.statusCode).toBe(500);
    expect(reply.raw).toBe('{"error":"Internal server error"}');
  });

  it.each<[string, string, () => void, number]>([
    ['the token has an invalid character', `${TOKEN}!`, () => {}, 400],
    [
      'the page is already connected',
      TOKEN,
      () =>
        ddbMock
          .on(PutCommand)
          .rejects(
            new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
          ),
      409,
    ],
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
