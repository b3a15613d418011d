import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { routeKey } from '#shared/api/routes.ts';
import { ContactsResponse } from '#shared/contract.ts';
import type { Contact } from '#shared/store/contact-repository.ts';
import { handler } from '../../functions/page-contacts/handler.ts';
import { CALLER, expectError, expectInternalError, type RouteEventInit, routeCaller } from './event.ts';
import {
  CONTACTS_TABLE,
  ddbMock,
  expectRefused,
  givenPage,
  JOB_ID,
  PAGE_ID,
  resetAwsMocks,
  storedPage,
} from './fixtures.ts';

/** A contact of PAGE_ID as the contacts table stores it, with its organization. */
function contact(n: number, platform: Contact['platform'] = 'messenger'): Contact {
  return {
    pageId: PAGE_ID,
    contactKey: `${CALLER.org_id}#${platform}#psid-${n}`,
    organizationId: CALLER.org_id,
    platform,
    participantId: `psid-${n}`,
    displayName: `Customer ${n}`,
    conversationId: `t_${n}`,
    lastMessageAt: '2026-01-01T10:00:00.000Z',
    messageCount: 2,
    aiContext: {
      summary: 'asks for a price',
      intent: 'purchase',
      sentiment: 'neutral',
      leadScore: 60,
      tags: [],
    },
    firstSyncedAt: '2026-01-01T10:01:00.000Z',
    lastSyncedAt: '2026-01-01T10:01:00.000Z',
    lastSyncJobId: JOB_ID,
  };
}

const listContacts = (query?: Record<string, string>, init: Omit<RouteEventInit, 'body'> = {}) =>
  routeCaller(handler, 'pageContacts')(undefined, {
    pathParameters: { pageId: PAGE_ID },
    ...(query ? { query } : {}),
    ...init,
  });

/** The cursor a client would send: base64url JSON of `{ k: contactKey }`, maybe with extra fields. */
const cursorFor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

const contactQueries = () =>
  ddbMock.commandCalls(QueryCommand, { TableName: CONTACTS_TABLE }).map((call) => call.args[0].input);

beforeEach(() => {
  resetAwsMocks();
  givenPage(storedPage());
  ddbMock
    .on(QueryCommand, { TableName: CONTACTS_TABLE })
    .resolves({ Items: [contact(1), contact(2, 'instagram')] });
});

describe(routeKey('pageContacts'), () => {
  it("returns 200 with the page's contacts and a null cursor on the last page", async () => {
    const reply = await listContacts();

    expect(reply.statusCode).toBe(200);
    const body = ContactsResponse.parse(reply.body);
    expect(body.nextCursor).toBeNull();
    expect(body.contacts.map((c) => c.contactKey)).toEqual(['messenger#psid-1', 'instagram#psid-2']);
    // Only the caller's organization's contacts of the page: a page can change hands.
    expect(ddbMock).toReceiveCommandWith(QueryCommand, {
      TableName: CONTACTS_TABLE,
      KeyConditionExpression: 'pageId = :p AND begins_with(contactKey, :prefix)',
      ExpressionAttributeValues: { ':p': PAGE_ID, ':prefix': `${CALLER.org_id}#` },
    });
  });

  it('does not return the organization id of a contact', async () => {
    const reply = await listContacts();

    expect(reply.statusCode).toBe(200);
    const { contacts } = reply.body as { contacts: Record<string, unknown>[] };
    for (const c of contacts) expect(c).not.toHaveProperty('organizationId');
    expect(reply.raw).not.toContain(CALLER.org_id);
  });

  it.each<[string, Record<string, string> | undefined, number]>([
    ['25 by default', undefined, 25],
    ['the limit asked for', { limit: '10' }, 10],
    ['1 at the least', { limit: '1' }, 1],
    ['100 at the most', { limit: '100' }, 100],
  ])('queries %s contacts', async (_case, query, limit) => {
    await listContacts(query);

    expect(contactQueries()).toEqual([expect.objectContaining({ Limit: limit })]);
    expect(contactQueries()[0]).not.toHaveProperty('ExclusiveStartKey');
  });

  it.each<[string, string, string]>([
    ['0', '0', 'limit must be at least 1'],
    ['101', '101', 'limit must be at most 100'],
    ['not a number', 'abc', 'limit must be a number'],
    ['not an integer', '2.5', 'limit must be an integer'],
  ])('returns 400 and queries nothing when limit is %s', async (_case, limit, error) => {
    const reply = await listContacts({ limit });

    expectRefused(reply, 400, error);
  });

  it('hands out a cursor that the next request turns into the ExclusiveStartKey of its query', async () => {
    ddbMock
      .on(QueryCommand, { TableName: CONTACTS_TABLE })
      .resolvesOnce({
        Items: [contact(1), contact(2)],
        LastEvaluatedKey: { pageId: PAGE_ID, contactKey: `${CALLER.org_id}#messenger#psid-2` },
      })
      .resolves({ Items: [contact(3)] });

    const first = await listContacts({ limit: '2' });
    const { nextCursor } = ContactsResponse.parse(first.body);
    if (!nextCursor) throw new Error('no nextCursor on a full page');
    const second = await listContacts({ limit: '2', cursor: nextCursor });

    expect(second.statusCode).toBe(200);
    expect(ContactsResponse.parse(second.body)).toEqual({ contacts: [expect.any(Object)], nextCursor: null });
    expect(contactQueries()[1]).toMatchObject({
      Limit: 2,
      ExclusiveStartKey: { pageId: PAGE_ID, contactKey: `${CALLER.org_id}#messenger#psid-2` },
    });
  });

  it("keeps the query in the page's own partition whatever the cursor carries", async () => {
    const cursor = cursorFor({ k: `${CALLER.org_id}#instagram#psid-9`, pageId: '100000000000999' });

    const reply = await listContacts({ cursor });

    expect(reply.statusCode).toBe(200);
    expect(contactQueries()[0]).toMatchObject({
      ExpressionAttributeValues: { ':p': PAGE_ID },
      ExclusiveStartKey: { pageId: PAGE_ID, contactKey: `${CALLER.org_id}#instagram#psid-9` },
    });
  });

  it.each<[string, string]>([
    ['garbage', 'not-a-cursor!!'],
    ['base64url of something that is not JSON', Buffer.from('messenger#psid-1').toString('base64url')],
    ['a JSON array', cursorFor(['messenger#psid-1'])],
    ['a key of no platform', cursorFor({ k: 'JOB' })],
    ['a key of another kind', cursorFor({ k: 'FAILED#messenger#t_1' })],
    ['a key with a bare platform', cursorFor({ k: 'messenger#' })],
    ['a number as key', cursorFor({ k: 42 })],
    ['no key', cursorFor({ pageId: PAGE_ID, contactKey: 'messenger#psid-1' })],
    ['a key without the organization', cursorFor({ k: 'messenger#psid-1' })],
    ["a key of another organization's contacts", cursorFor({ k: 'org-2#messenger#psid-1' })],
  ])('returns 400 "cursor is invalid" and queries nothing for a cursor that is %s', async (_case, cursor) => {
    const reply = await listContacts({ cursor });

    expectError(reply, 400, 'cursor is invalid');
    expect(ddbMock).not.toReceiveCommand(QueryCommand);
  });

  it('returns 400 for a cursor over 1024 characters', async () => {
    const reply = await listContacts({
      cursor: cursorFor({ k: `${CALLER.org_id}#messenger#${'p'.repeat(1100)}` }),
    });

    expectRefused(reply, 400, 'cursor is too long');
  });

  it('returns 404 and queries no contact when the page is not connected', async () => {
    givenPage(undefined);

    const reply = await listContacts();

    expectError(reply, 404, 'Page not connected');
    expect(ddbMock).not.toReceiveCommand(QueryCommand);
  });

  it("returns 403 and queries no contact when it is another organization's page", async () => {
    givenPage(storedPage({ organizationId: 'org-2' }));

    const reply = await listContacts();

    expectError(reply, 403, 'Page belongs to another organization');
    expect(ddbMock).not.toReceiveCommand(QueryCommand);
  });

  it.each<[string, string]>([
    ['not numeric', 'my-page'],
    ['a key with a suffix', `${PAGE_ID}#x`],
  ])('returns 400 and reads nothing when the pageId path parameter is %s', async (_case, pageId) => {
    const reply = await listContacts(undefined, { pathParameters: { pageId } });

    expectRefused(reply, 400, 'pageId must be a numeric Facebook id');
  });

  it('returns 500 with a fixed body when the contacts query fails', async () => {
    ddbMock.on(QueryCommand).rejects(new Error(`ValidationException on ${CONTACTS_TABLE}`));

    const reply = await listContacts();

    expectInternalError(reply);
  });
});
