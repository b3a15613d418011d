import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DeleteItemCommand, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ROUTES, routeKey, routePath } from '#shared/api/routes.ts';
import {
  CancelSyncResponse,
  ConflictBody,
  ConnectPageResponse,
  type Contact,
  ContactsResponse,
  ErrorBody,
  PagesResponse,
  StartSyncResponse,
  SyncJobsResponse,
} from '#shared/contract.ts';
import { isActive } from '#shared/job-status.ts';
import { expectFullStart } from '#test/shared/api-answers.ts';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, signLocalToken } from '../../local/auth.ts';
import type { SimPage } from '../../local/graph-sim/demo-data.ts';
import { DATA_DIR, type LocalStack, ROOT } from '../../local/local-stack.ts';
import { e2eStack } from './e2e-stack.ts';
import {
  finalView,
  type HttpAnswer,
  type HttpClient,
  type JobView,
  localSfnClient,
  PATHS,
  pollUntil,
  readJob,
  simPages,
  sleep,
} from './http-client.ts';

/**
 * The HTTP contract (docs/api.md, openapi.json), over real HTTP against one in-process embedded stack: DynamoDB
 * Local, the Graph API simulator (2 calls/s per Page), the state machine synthesized from infra/
 * and the HTTP API emulator with its JWT authorizer. Every test works on its own simulated page(s),
 * so the tests run concurrently; none asserts a timing, they poll with bounded loops.
 */

type ContactView = z.infer<typeof Contact>;

const CHUNK_SIZE = 10;

// ---------------------------------------------------------------------------------------------
// Simulated pages: small ones finish in a few seconds, big ones can be caught mid-way.

const simPage = simPages('9100000000', 'E2E');
const big = (label: string) => simPage(label, 100, 30);
const mid = (label: string) => simPage(label, 60, 20);
const small = (label: string) => simPage(label, 20, 10);
const totalOf = (page: SimPage) => page.conversations.messenger.length + page.conversations.instagram.length;

const P = {
  idle: small('idle, never synced'),
  start202: mid('start 202'),
  start409: mid('start 409'),
  cancel200: mid('cancel 200'),
  cancelCompleted: small('cancel completed'),
  statusProgress: mid('status progress'),
  cancelForbidden: mid('cancel 403'),
  statusForbidden: mid('status 403'),
  disconnectActive: mid('disconnect active'),
  contactsWalk: simPage('contacts walk', 30, 12),
  syncJobs: mid('sync jobs'),
  securityHeaders: small('security headers'),
  idemSame: mid('idempotency same'),
  idemDifferent: mid('idempotency different'),
  idemNone: mid('idempotency none'),
  raceStarts: [1, 2, 3, 4, 5].map((n) => mid(`race start ${n}`)),
  cancelVsCancel: mid('cancel vs cancel'),
  cancelVsCompletion: [
    simPage('cancel vs completion 1', 20, 10),
    simPage('cancel vs completion 2', 25, 5),
    simPage('cancel vs completion 3', 15, 10),
  ],
  crossOrg: simPage('cross org', 40, 10),
  changesHands: mid('changes hands'),
  fixture1: big('fixture 1'),
  fixture2: big('fixture 2'),
  fixture3: simPage('fixture 3', 40, 10),
  fixture4: mid('fixture 4'),
  fixture5: small('fixture 5'),
  edge1: simPage('edge 1', 15, 15),
  edge2: mid('edge 2'),
  edge3: simPage('edge 3', 40, 10),
  edge4: big('edge 4'),
  edge4Lock: big('edge 4 lock'),
  edge5: big('edge 5'),
  replaceToken: small('reconnect'),
  replaceRefused: small('reconnect refused'),
  replaceWhileRunning: big('reconnect while syncing'),
};
const ALL_PAGES: SimPage[] = Object.values(P).flatMap((p) => (Array.isArray(p) ? p : [p]));
/**
 * Pages the simulator serves that no organization has connected when the tests start (beforeAll
 * disconnects them from demo-org): connecting checks the token with Graph, so a page connected over
 * HTTP must be one Graph knows.
 */
const FRESH = {
  otherOrg: small('other org'),
  listed: small('listed'),
  connected: small('connected'),
  toDelete: small('to delete'),
  refused: small('refused'),
};
/** Pages some test disconnects from demo-org while others run. */
const DISCONNECTED_BY_TESTS = new Set([P.disconnectActive.id, P.changesHands.id]);

/** Numeric ids that no organization has connected. */
const UNCONNECTED_PAGE_ID = '929999999999999';
/** A page `other-org` connects over HTTP in beforeAll. */
const OTHER_ORG_PAGE = {
  pageId: FRESH.otherOrg.id,
  pageName: 'Other Org Page',
  accessToken: FRESH.otherOrg.accessToken,
};

// ---------------------------------------------------------------------------------------------
// The stack, the callers and their tokens.

let stack: LocalStack;
let http: HttpClient;
let sfn: SFNClient;
/** demo-org users A and B, and a user of another organization. */
let alice: string;
let bob: string;
let mallory: string;
/** Tokens the authorizer (or the handler) must refuse, by case name. */
const badTokens: Record<string, string | undefined> = {};

const e2e = e2eStack({
  pages: [...ALL_PAGES, ...Object.values(FRESH)],
  context: { chunkSize: CHUNK_SIZE, mapConcurrency: 2 },
  // Slow enough analysis that a sync can be caught mid-way.
  analyzerLatencyMs: '40',
  user: 'alice',
});

beforeAll(async () => {
  ({ stack, http, token: alice } = e2e);
  sfn = localSfnClient(stack.sfnEndpoint);
  bob = await signLocalToken(DATA_DIR, { org: 'demo-org', user: 'bob' });
  mallory = await signLocalToken(DATA_DIR, { org: 'other-org', user: 'mallory' });

  const { privateJwk } = JSON.parse(readFileSync(path.join(DATA_DIR, 'jwt-signing-key.json'), 'utf8')) as {
    privateJwk: JWK;
  };
  const realKey = await importJWK(privateJwk, 'RS256');
  const otherKey = (await generateKeyPair('RS256')).privateKey;
  const claims = (org?: string) =>
    new SignJWT(org ? { org_id: org } : {})
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'local' })
      .setSubject('alice')
      .setIssuer(LOCAL_ISSUER)
      .setAudience(LOCAL_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('1h');
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  Object.assign(badTokens, {
    'no token': undefined,
    'a malformed token': 'not-a-jwt',
    'an expired token': await signLocalToken(DATA_DIR, { org: 'demo-org', user: 'alice', expiresIn: '-1h' }),
    'a token signed by a different key': await claims('demo-org').sign(otherKey),
    'an alg:none token': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({
      sub: 'alice',
      org_id: 'demo-org',
      iss: LOCAL_ISSUER,
      aud: LOCAL_AUDIENCE,
      iat: now,
      exp: now + 3600,
    })}.`,
    'a token for another audience': await signLocalToken(DATA_DIR, {
      org: 'demo-org',
      user: 'alice',
      audience: 'another-api',
    }),
    'a token from another issuer': await signLocalToken(DATA_DIR, {
      org: 'demo-org',
      user: 'alice',
      issuer: 'https://issuer.example/',
    }),
    'a token without an org_id claim': await claims().sign(realKey),
  });

  for (const page of Object.values(FRESH)) {
    const disconnected = await http.delete(routePath('disconnectPage', { pageId: page.id }), alice);
    expect(disconnected.status, disconnected.text).toBe(204);
  }
  const connected = await http.post(PATHS.pages, mallory, OTHER_ORG_PAGE);
  expect(connected.status, connected.text).toBe(201);
}, 120_000);

// ---------------------------------------------------------------------------------------------
// Helpers: every success body is parsed with the contract's schema, every error with ErrorBody.strict().

function expectError(answer: HttpAnswer, status: number, message?: string | RegExp) {
  expect(answer.status, answer.text).toBe(status);
  const body = ErrorBody.strict().parse(answer.body);
  if (typeof message === 'string') expect(body.error).toBe(message);
  else if (message) expect(body.error).toMatch(message);
  return body;
}

const startSync = (pageId: string, token = alice, headers?: Record<string, string>) =>
  http.post(PATHS.start, token, { pageId }, headers);

/** Starts a sync and returns its job id (asserting the 202 shape). */
async function started(pageId: string, token = alice): Promise<string> {
  const answer = await startSync(pageId, token);
  expect(answer.status, answer.text).toBe(202);
  return StartSyncResponse.strict().parse(answer.body).jobId;
}

const cancelSync = (jobId: string, token = alice, reason?: string) =>
  http.post(PATHS.cancel, token, reason === undefined ? { jobId } : { jobId, reason });

/** Cancels and returns the acknowledged job (asserting the 200 shape). */
async function cancelled(jobId: string, token = alice, reason?: string) {
  const answer = await cancelSync(jobId, token, reason);
  expect(answer.status, answer.text).toBe(200);
  return CancelSyncResponse.strict().parse(answer.body).job;
}

const jobStatus = (jobId: string, token = alice) => readJob(http, jobId, token);

const waitForJob = (
  jobId: string,
  what: string,
  done: (job: JobView) => boolean,
  opts?: { tries?: number; intervalMs?: number },
) => pollUntil(what, () => jobStatus(jobId), done, { tries: 600, intervalMs: 50, ...opts });

/** What tests wait for before they act on a job: it runs (or already ended). */
const RUNNING = ['the job to run', (j: JobView) => j.status === 'IN_PROGRESS' || !isActive(j)] as const;
/** Or: it saved some contacts (or already ended). */
const SOME_SAVED = ['some contacts saved', (j: JobView) => j.syncedContacts > 0 || !isActive(j)] as const;

/** Starts a sync of the page, waits until `done` holds for its job, and returns the job id. */
async function startedUntil(
  pageId: string,
  ...[what, done, opts]: Parameters<typeof waitForJob> extends [string, ...infer Rest] ? Rest : never
) {
  const jobId = await started(pageId);
  await waitForJob(jobId, what, done, opts);
  return jobId;
}

const waitForEnd = (jobId: string) => waitForJob(jobId, 'the job to end', (j) => !isActive(j));

/** Every contact of a page, walking all cursors. */
async function contactsOfPage(pageId: string, token = alice, limit = 100) {
  const pages: ContactView[][] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const answer = await http.get(routePath('pageContacts', { pageId, limit, cursor }), token);
    expect(answer.status, answer.text).toBe(200);
    const body = ContactsResponse.strict().parse(answer.body);
    pages.push(body.contacts);
    if (body.nextCursor === null) return { contacts: pages.flat(), pages };
    cursor = body.nextCursor;
  }
  throw new Error('the contacts cursor never ended');
}

const contactsOfJob = async (pageId: string, jobId: string) =>
  (await contactsOfPage(pageId)).contacts.filter((c) => c.lastSyncJobId === jobId);

/** Cancels a job if it is still running (cleanup, so finished tests do not load the machine). */
async function stopIfRunning(jobId: string) {
  const answer = await cancelSync(jobId);
  expect([200, 400]).toContain(answer.status);
}

/**
 * "Stop Sync" clicked right around the moment a small sync completes: poll until every platform
 * is discovered and progress >= 90, then cancel. Either outcome is valid; it must agree with the
 * final status, the counters must stay put, and they must equal what was saved.
 */
async function cancelAroundCompletion(page: SimPage): Promise<number> {
  const total = totalOf(page);
  const jobId = await startedUntil(
    page.id,
    'progress >= 90 with every platform discovered',
    (j) => !isActive(j) || (j.totalContacts === total && (j.progress ?? 0) >= 90),
    { tries: 3000, intervalMs: 10 },
  );
  const answer = await cancelSync(jobId);
  const after = await jobStatus(jobId);
  if (answer.status === 200) {
    const ack = CancelSyncResponse.strict().parse(answer.body).job;
    expect(after).toMatchObject({
      status: 'CANCELLED',
      syncedContacts: ack.syncedContacts,
      failedContacts: ack.failedContacts,
      totalContacts: ack.totalContacts,
      completedAt: ack.completedAt,
    });
  } else {
    expectError(answer, 400, 'Cannot cancel job with status: COMPLETED');
    expect(after).toMatchObject({ status: 'COMPLETED', progress: 100, totalContacts: total });
    expect(after.syncedContacts + after.failedContacts).toBe(total);
  }
  await sleep(2000);
  expect(finalView(await jobStatus(jobId))).toEqual(finalView(after));
  expect(await contactsOfJob(page.id, jobId)).toHaveLength(after.syncedContacts);
  return answer.status;
}

/** Connects a FRESH page to demo-org as alice, asserting the 201, and returns the body it sent. */
async function connectedByAlice(page: SimPage, pageName: string) {
  const body = { pageId: page.id, pageName, accessToken: page.accessToken };
  expect((await http.post(PATHS.pages, alice, body)).status).toBe(201);
  return body;
}

async function pageOfDemoOrg(pageId: string) {
  const answer = await http.get(PATHS.pages, alice);
  expect(answer.status, answer.text).toBe(200);
  return PagesResponse.strict()
    .parse(answer.body)
    .pages.find((p) => p.id === pageId);
}

/** The page lock as stored: the job id the page item holds, if any. */
async function storedLockOf(pageId: string): Promise<string | undefined> {
  const { Item } = await stack.dynamo.send(
    new GetItemCommand({
      TableName: stack.tables.pages,
      Key: { pageId: { S: pageId } },
      ConsistentRead: true,
    }),
  );
  return Item?.activeJobId?.S;
}

/**
 * Edge case: once the job has saved contacts, its item is deleted behind the API's
 * back. Returns when its execution has left RUNNING, with the count of its contacts at deletion.
 */
async function deleteJobMidRun(page: SimPage) {
  const jobId = await startedUntil(page.id, 'some contacts saved', (j) => j.syncedContacts > 0);
  await stack.dynamo.send(
    new DeleteItemCommand({ TableName: stack.tables.jobs, Key: { jobId: { S: jobId }, sk: { S: 'JOB' } } }),
  );
  const savedAtDeletion = (await contactsOfJob(page.id, jobId)).length;
  expect(savedAtDeletion).toBeGreaterThan(0);
  const execution = await pollUntil(
    'the execution to end',
    () => sfn.send(new DescribeExecutionCommand({ executionArn: executionArnOf(jobId) })),
    (e) => e.status !== 'RUNNING',
    { tries: 300, intervalMs: 100 },
  );
  expect(execution.status).not.toBe('RUNNING');
  return { jobId, savedAtDeletion };
}

const executionArnOf = (jobId: string) =>
  `${(stack.machines[0]?.arn ?? '').replace(':stateMachine:', ':execution:')}:${jobId}`;

/** A refused token by case name ('no token' is undefined); an unknown name is a test bug. */
function tokenOf(name: string): string | undefined {
  if (!(name in badTokens)) throw new Error(`No token case named "${name}"`);
  return badTokens[name];
}
const AUTH_CASES = [
  'no token',
  'a malformed token',
  'an expired token',
  'a token signed by a different key',
  'an alg:none token',
  'a token for another audience',
  'a token from another issuer',
  'a token without an org_id claim',
];
/** A short set for the routes other than start: the authorizer's refusal and the handler's. */
const AUTH_CASES_SHORT = ['no token', 'a token signed by a different key', 'a token without an org_id claim'];

/** Each of `cases` answered 401 Unauthorized by `send` with its token, `after` holding then. */
function itAnswers401(
  cases: string[],
  send: (token: string | undefined) => Promise<HttpAnswer>,
  after?: () => Promise<void>,
) {
  it.each(cases)('answers 401 for %s', async (name) => {
    expectError(await send(tokenOf(name)), 401, 'Unauthorized');
    await after?.();
  });
}

/** A read answering 400 with each case's message to each case's query. */
function itAnswers400(route: 'syncStatus' | 'syncJobs', cases: [string, Record<string, string>, string][]) {
  it.each(cases)('answers 400 for %s', async (_case, params, message) => {
    expectError(await http.get(routePath(route, params), alice), 400, message);
  });
}

// ---------------------------------------------------------------------------------------------

describe.concurrent('the HTTP contract over real HTTP', { timeout: 60_000 }, () => {
  describe(routeKey('startSync'), () => {
    it('answers 202 {jobId, status: PENDING, message} and the job exists', async () => {
      const answer = await startSync(P.start202.id);
      expect(answer.status, answer.text).toBe(202);
      const body = expectFullStart(answer.body, expect.any(String));
      const job = await jobStatus(body.jobId);
      expect(job).toMatchObject({ id: body.jobId, pageId: P.start202.id });
      await stopIfRunning(body.jobId);
    });

    it.each([
      ['malformed JSON', '{"pageId":', /valid JSON/],
      ['a JSON array', '[]', /JSON object/],
      ['a missing pageId', '{}', 'pageId is required'],
      ['an empty pageId', '{"pageId":""}', 'pageId is required'],
      ['a non-numeric pageId', '{"pageId":"my-page"}', 'pageId must be a numeric Facebook id'],
      ['a numeric (not string) pageId', '{"pageId":123}', /pageId/],
      ['an extra key', `{"pageId":"${UNCONNECTED_PAGE_ID}","force":true}`, /force/],
    ])('answers 400 for %s', async (_case, raw, message) => {
      const answer = await http.request('POST', PATHS.start, {
        token: alice,
        raw,
        headers: { 'content-type': 'application/json' },
      });
      expectError(answer, 400, message);
    });

    it('answers 400 for a body over 16 KB', async () => {
      // Valid JSON and a valid body but for its size (whitespace), so only the size can refuse it.
      const raw = `{"pageId":"${P.idle.id}"${' '.repeat(17 * 1024)}}`;
      const answer = await http.request('POST', PATHS.start, {
        token: alice,
        raw,
        headers: { 'content-type': 'application/json' },
      });
      expectError(answer, 400, 'Request body is too large');
    });

    it('answers 415 for a text/plain body', async () => {
      const answer = await http.request('POST', PATHS.start, {
        token: alice,
        raw: JSON.stringify({ pageId: P.idle.id }),
        headers: { 'content-type': 'text/plain' },
      });
      expectError(answer, 415, 'Content-Type must be application/json');
      expect((await pageOfDemoOrg(P.idle.id))?.activeJob).toBeNull();
    });

    itAnswers401(
      AUTH_CASES,
      (token) => http.post(PATHS.start, token, { pageId: P.idle.id }),
      async () => expect((await pageOfDemoOrg(P.idle.id))?.activeJob).toBeNull(),
    );

    it("answers 403 for another organization's page", async () => {
      expectError(await startSync(OTHER_ORG_PAGE.pageId), 403);
    });

    it('answers 404 for a page that is not connected', async () => {
      expectError(await startSync(UNCONNECTED_PAGE_ID), 404);
    });

    it('answers 409 {error, activeJobId} while a sync is active', async () => {
      const jobId = await started(P.start409.id);
      const answer = await startSync(P.start409.id);
      expect(answer.status, answer.text).toBe(409);
      expect(ConflictBody.strict().parse(answer.body)).toEqual({
        error: expect.any(String),
        activeJobId: jobId,
      });
      await stopIfRunning(jobId);
    });
  });

  describe(routeKey('cancelSync'), () => {
    it('answers 200 {success, job} with the final counters', async () => {
      const jobId = await started(P.cancel200.id);
      const answer = await cancelSync(jobId, alice, 'wrong page');
      expect(answer.status, answer.text).toBe(200);
      const { job } = CancelSyncResponse.strict().parse(answer.body);
      expect(job).toMatchObject({ id: jobId, status: 'CANCELLED' });
      expect(await jobStatus(jobId)).toMatchObject({
        status: 'CANCELLED',
        syncedContacts: job.syncedContacts,
        failedContacts: job.failedContacts,
        completedAt: job.completedAt,
        cancelledBy: 'alice',
        cancelReason: 'wrong page',
      });
    });

    it.each([
      ['a missing jobId', {}, 'jobId is required'],
      ['an empty jobId', { jobId: '' }, 'jobId is required'],
      ['a blank jobId', { jobId: '   ' }, 'jobId is required'],
      ['a non-UUID jobId', { jobId: 'clx123' }, 'jobId must be a UUID'],
      ['a reason over 500 characters', { jobId: randomUUID(), reason: 'r'.repeat(501) }, /500/],
      ['an extra key', { jobId: randomUUID(), force: true }, /force/],
    ])('answers 400 for %s', async (_case, body, message) => {
      expectError(await http.post(PATHS.cancel, alice, body), 400, message);
    });

    it('answers 400 "Cannot cancel job with status: COMPLETED" for a finished job', async () => {
      const jobId = await started(P.cancelCompleted.id);
      expect(await waitForEnd(jobId)).toMatchObject({ status: 'COMPLETED' });
      expectError(await cancelSync(jobId), 400, 'Cannot cancel job with status: COMPLETED');
      expect((await jobStatus(jobId)).status).toBe('COMPLETED');
    });

    itAnswers401(AUTH_CASES_SHORT, (token) => http.post(PATHS.cancel, token, { jobId: randomUUID() }));

    it("answers 403 for another organization's job", async () => {
      const jobId = await started(P.cancelForbidden.id);
      expectError(await cancelSync(jobId, mallory), 403);
      expect(isActive(await jobStatus(jobId))).toBe(true);
      await stopIfRunning(jobId);
    });

    it('answers 404 for an unknown job', async () => {
      expectError(await cancelSync(randomUUID()), 404);
    });
  });

  describe(routeKey('syncStatus'), () => {
    it('answers 200 with progress null before discovery and an integer after', async () => {
      const jobId = await started(P.statusProgress.id);
      const first = await jobStatus(jobId);
      expect(first).toMatchObject({
        id: jobId,
        pageId: P.statusProgress.id,
        progress: null,
        totalContacts: 0,
      });
      expect(isActive(first)).toBe(true);
      const later = await waitForJob(jobId, 'a known total', (j) => j.progress !== null);
      expect(Number.isInteger(later.progress)).toBe(true);
      expect(later.progress).toBeGreaterThanOrEqual(0);
      expect(later.progress).toBeLessThanOrEqual(100);
      expect(later.totalContacts).toBeGreaterThan(0);
      await stopIfRunning(jobId);
    });

    itAnswers400('syncStatus', [
      ['a missing jobId', {}, 'jobId is required'],
      ['a non-UUID jobId', { jobId: 'not-a-uuid' }, 'jobId must be a UUID'],
    ]);

    itAnswers401(AUTH_CASES_SHORT, (token) =>
      http.get(routePath('syncStatus', { jobId: randomUUID() }), token),
    );

    it("answers 403 for another organization's job", async () => {
      const jobId = await started(P.statusForbidden.id);
      const answer = await http.get(routePath('syncStatus', { jobId }), mallory);
      expectError(answer, 403);
      await stopIfRunning(jobId);
    });

    it('answers 404 for an unknown job', async () => {
      expectError(await http.get(routePath('syncStatus', { jobId: randomUUID() }), alice), 404);
    });
  });

  describe(routeKey('listPages'), () => {
    it('answers 200 {pages} without any token, plaintext or ciphertext, in the body', async () => {
      const connect = await connectedByAlice(FRESH.listed, 'Listed Page');

      const answer = await http.get(PATHS.pages, alice);
      expect(answer.status, answer.text).toBe(200);
      const { pages } = PagesResponse.strict().parse(answer.body);
      const ids = pages.map((p) => p.id);
      const stayConnected = ALL_PAGES.map((p) => p.id).filter((id) => !DISCONNECTED_BY_TESTS.has(id));
      expect(ids).toEqual(expect.arrayContaining([connect.pageId, ...stayConnected]));
      expect(ids).not.toContain(OTHER_ORG_PAGE.pageId);
      expect(pages.find((p) => p.id === connect.pageId)).toMatchObject({
        pageName: connect.pageName,
        contactCount: 0,
        activeJob: null,
        lastJob: null,
      });

      const { Items = [] } = await stack.dynamo.send(new ScanCommand({ TableName: stack.tables.pages }));
      const ciphertexts = Items.map((item) => item.accessTokenCiphertext?.S).filter((c): c is string => !!c);
      const stored = Items.find((item) => item.pageId?.S === connect.pageId)?.accessTokenCiphertext?.S;
      expect(stored).toBeTruthy();
      expect(ciphertexts).toContain(stored);
      const secrets = [
        connect.accessToken,
        OTHER_ORG_PAGE.accessToken,
        ...ALL_PAGES.map((p) => p.accessToken),
        ...ciphertexts,
      ];
      for (const secret of secrets) expect(answer.text).not.toContain(secret);
      expect(answer.text).not.toMatch(/token|ciphertext/i);
    });

    itAnswers401(AUTH_CASES_SHORT, (token) => http.get(PATHS.pages, token));
  });

  describe(routeKey('connectPage'), () => {
    it("answers 201 {page} without the token, with Graph's page name and Instagram account when only pageId and the token are given", async () => {
      const page = FRESH.connected;
      const body = { pageId: page.id, accessToken: page.accessToken };
      const answer = await http.post(PATHS.pages, alice, body);
      expect(answer.status, answer.text).toBe(201);
      const { page: view } = ConnectPageResponse.strict().parse(answer.body);
      expect(view).toEqual({
        id: page.id,
        pageName: page.name,
        instagramAccountId: page.instagramAccountId,
        contactCount: 0,
        connectedAt: expect.any(String),
        activeJob: null,
        lastJob: null,
      });
      expect(answer.text).not.toContain(body.accessToken);
      expect(await pageOfDemoOrg(page.id)).toMatchObject({
        pageName: page.name,
        instagramAccountId: page.instagramAccountId,
      });
    });

    it.each([
      [
        'a token Graph does not know (190)',
        () => 'unknown_page_token_0123456789',
        /rejected the access token/,
      ],
      ["another page's token", () => P.idle.accessToken, /not a Page access token of page/],
      [
        'a token without messaging access (200)',
        () => `${FRESH.refused.accessToken}.no_messaging`,
        /missing a permission the sync needs \(pages_messaging/,
      ],
    ])('answers 400 naming the problem for %s, and stores nothing', async (_case, token, message) => {
      const page = FRESH.refused;
      const answer = await http.post(PATHS.pages, alice, { pageId: page.id, accessToken: token() });
      expectError(answer, 400, message);
      expect(answer.text).not.toContain(token());
      expect(await pageOfDemoOrg(page.id)).toBeUndefined();
      const { Item } = await stack.dynamo.send(
        new GetItemCommand({
          TableName: stack.tables.pages,
          Key: { pageId: { S: page.id } },
          ConsistentRead: true,
        }),
      );
      expect(Item).toBeUndefined();
    });

    const valid = { pageId: '930000000000003', pageName: 'Never Connected', accessToken: 'a'.repeat(24) };
    it.each([
      ['malformed JSON', '{"pageId"'],
      ['a missing pageName', JSON.stringify({ ...valid, pageName: undefined })],
      ['a non-numeric pageId', JSON.stringify({ ...valid, pageId: 'page-1' })],
      ['a token under 20 characters', JSON.stringify({ ...valid, accessToken: 'short_token' })],
      ['a token with invalid characters', JSON.stringify({ ...valid, accessToken: `${'a'.repeat(20)} <x>` })],
      ['a non-numeric instagramAccountId', JSON.stringify({ ...valid, instagramAccountId: 'ig' })],
      ['an extra key', JSON.stringify({ ...valid, organizationId: 'demo-org' })],
    ])('answers 400 for %s', async (_case, raw) => {
      const answer = await http.request('POST', PATHS.pages, {
        token: alice,
        raw,
        headers: { 'content-type': 'application/json' },
      });
      expectError(answer, 400);
      expect(await pageOfDemoOrg(valid.pageId)).toBeUndefined();
    });

    itAnswers401(
      AUTH_CASES_SHORT,
      (token) => http.post(PATHS.pages, token, valid),
      async () => expect(await pageOfDemoOrg(valid.pageId)).toBeUndefined(),
    );

    it('answers 409 for a page already connected, by this or by another organization', async () => {
      const mine = { pageId: P.idle.id, pageName: 'Again', accessToken: P.idle.accessToken };
      expectError(await http.post(PATHS.pages, alice, mine), 409);
      const theirs = { ...OTHER_ORG_PAGE, pageName: 'Taken over' };
      expectError(await http.post(PATHS.pages, alice, theirs), 409);
      const ofDemo = { pageId: P.idle.id, pageName: 'Stolen', accessToken: 'stolen_page_token_0123456' };
      expectError(await http.post(PATHS.pages, mallory, ofDemo), 409);
      expect((await pageOfDemoOrg(P.idle.id))?.pageName).toBe(P.idle.name);
    });
  });

  describe(routeKey('replacePageToken'), () => {
    const replaceToken = (pageId: string, accessToken: string) =>
      http.request('PUT', routePath('replacePageToken', { pageId }), { token: alice, json: { accessToken } });
    const storedPage = async (pageId: string) =>
      (
        await stack.dynamo.send(
          new GetItemCommand({
            TableName: stack.tables.pages,
            Key: { pageId: { S: pageId } },
            ConsistentRead: true,
          }),
        )
      ).Item;

    it('answers 200 {page} without the token, and the page keeps its name, connection and history', async () => {
      const page = P.replaceToken;
      const before = await storedPage(page.id);
      const answer = await replaceToken(page.id, page.accessToken);
      expect(answer.status, answer.text).toBe(200);
      expect(ConnectPageResponse.strict().parse(answer.body).page).toMatchObject({
        id: page.id,
        pageName: page.name,
      });
      expect(answer.text).not.toContain(page.accessToken);
      const after = await storedPage(page.id);
      expect(after?.accessTokenCiphertext?.S).toEqual(expect.any(String));
      expect({ ...after, accessTokenCiphertext: undefined }).toEqual({
        ...before,
        accessTokenCiphertext: undefined,
      });
    });

    it('answers 400 for a token Graph rejects, and keeps the stored token', async () => {
      const page = P.replaceRefused;
      const before = await storedPage(page.id);
      expectError(
        await replaceToken(page.id, 'unknown_page_token_0123456789'),
        400,
        /rejected the access token/,
      );
      expect(await storedPage(page.id)).toEqual(before);
    });

    it('answers 409 while a sync of the page runs, and keeps the stored token', async () => {
      const page = P.replaceWhileRunning;
      const before = await storedPage(page.id);
      const jobId = await startedUntil(page.id, 'the job to run', (j) => j.status === 'IN_PROGRESS');
      const refused = await replaceToken(page.id, page.accessToken);
      expect(refused.status, refused.text).toBe(409);
      expect(ConflictBody.strict().parse(refused.body).activeJobId).toBe(jobId);
      expect((await storedPage(page.id))?.accessTokenCiphertext).toEqual(before?.accessTokenCiphertext);
      await stopIfRunning(jobId);
    });
  });

  describe(routeKey('disconnectPage'), () => {
    it('answers 204 and the page is gone', async () => {
      const body = await connectedByAlice(FRESH.toDelete, 'To Delete');
      const answer = await http.delete(routePath('disconnectPage', { pageId: body.pageId }), alice);
      expect(answer.status, answer.text).toBe(204);
      expect(answer.text).toBe('');
      expect(await pageOfDemoOrg(body.pageId)).toBeUndefined();
      expectError(await http.delete(routePath('disconnectPage', { pageId: body.pageId }), alice), 404);
    });

    it("cancels an active sync first: CANCELLED, 'Page disconnected', contacts kept", async () => {
      const page = P.disconnectActive;
      const jobId = await startedUntil(page.id, ...SOME_SAVED);
      const answer = await http.delete(routePath('disconnectPage', { pageId: page.id }), alice);
      expect(answer.status, answer.text).toBe(204);

      const job = await jobStatus(jobId);
      expect(job).toMatchObject({
        status: 'CANCELLED',
        cancelReason: 'Page disconnected',
        cancelledBy: 'alice',
      });
      expect(job.syncedContacts).toBeGreaterThan(0);
      expect(await pageOfDemoOrg(page.id)).toBeUndefined();
      await sleep(1500);
      expect(finalView(await jobStatus(jobId))).toEqual(finalView(job));

      // Connected again, the page shows the contacts the cancelled job saved: exactly its count.
      const again = await http.post(PATHS.pages, alice, {
        pageId: page.id,
        pageName: page.name,
        accessToken: page.accessToken,
        instagramAccountId: page.instagramAccountId,
      });
      expect(again.status, again.text).toBe(201);
      expect(await contactsOfJob(page.id, jobId)).toHaveLength(job.syncedContacts);
    });

    itAnswers401(
      AUTH_CASES_SHORT,
      (token) => http.delete(routePath('disconnectPage', { pageId: P.idle.id }), token),
      async () => expect(await pageOfDemoOrg(P.idle.id)).toBeDefined(),
    );

    it("answers 403 for another organization's page", async () => {
      expectError(
        await http.delete(routePath('disconnectPage', { pageId: OTHER_ORG_PAGE.pageId }), alice),
        403,
      );
      const theirs = await http.get(PATHS.pages, mallory);
      expect(
        PagesResponse.strict()
          .parse(theirs.body)
          .pages.map((p) => p.id),
      ).toContain(OTHER_ORG_PAGE.pageId);
    });

    it('answers 404 for a page that is not connected', async () => {
      expectError(
        await http.delete(routePath('disconnectPage', { pageId: UNCONNECTED_PAGE_ID }), alice),
        404,
      );
    });
  });

  describe(routeKey('pageContacts'), () => {
    it('walks every contact exactly once with limit=7, ending with nextCursor null', async () => {
      const page = P.contactsWalk;
      const jobId = await started(page.id);
      const job = await waitForEnd(jobId);
      expect(job.status).toBe('COMPLETED');
      expect(job.syncedContacts + job.failedContacts).toBe(totalOf(page));

      const walk = await contactsOfPage(page.id, alice, 7);
      for (const chunk of walk.pages.slice(0, -1)) expect(chunk).toHaveLength(7);
      expect(walk.pages.at(-1)?.length).toBeLessThanOrEqual(7);
      const keys = walk.contacts.map((c) => c.contactKey);
      expect(new Set(keys).size).toBe(keys.length);
      expect(keys).toHaveLength(job.syncedContacts);
      expect(walk.contacts.every((c) => c.pageId === page.id && c.lastSyncJobId === jobId)).toBe(true);
      const all = await contactsOfPage(page.id, alice, 100);
      expect(new Set(all.contacts.map((c) => c.contactKey))).toEqual(new Set(keys));
      expect((await pageOfDemoOrg(page.id))?.contactCount).toBe(keys.length);
    });

    const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    it.each([
      ['limit=0', { limit: 0 }],
      ['limit=101', { limit: 101 }],
      ['limit=-1', { limit: -1 }],
      ['limit=abc', { limit: 'abc' }],
      ['limit=1.5', { limit: '1.5' }],
      ['a cursor that is not base64 JSON', { cursor: 'not!a!cursor' }],
      ['a cursor with a foreign key shape', { cursor: forged({ k: 'pages#1' }) }],
      ['a cursor with a non-string key', { cursor: forged({ k: 7 }) }],
      ['a cursor naming another page', { cursor: forged({ pageId: P.contactsWalk.id }) }],
      ['a cursor over 1024 characters', { cursor: 'a'.repeat(1025) }],
    ])('answers 400 for %s', async (_case, params) => {
      const answer = await http.get(routePath('pageContacts', { pageId: P.idle.id, ...params }), alice);
      expectError(answer, 400);
    });

    itAnswers401(AUTH_CASES_SHORT, (token) =>
      http.get(routePath('pageContacts', { pageId: P.idle.id }), token),
    );

    it("answers 403 for another organization's page", async () => {
      expectError(await http.get(routePath('pageContacts', { pageId: OTHER_ORG_PAGE.pageId }), alice), 403);
    });

    it('answers 404 for a page that is not connected', async () => {
      expectError(await http.get(routePath('pageContacts', { pageId: UNCONNECTED_PAGE_ID }), alice), 404);
    });
  });

  describe(routeKey('syncJobs'), () => {
    it("answers 200 {jobs} with the page's jobs, newest first", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push(await started(P.syncJobs.id));
        await cancelled(ids.at(-1) as string);
      }
      const answer = await http.get(routePath('syncJobs', { pageId: P.syncJobs.id }), alice);
      expect(answer.status, answer.text).toBe(200);
      const { jobs } = SyncJobsResponse.strict().parse(answer.body);
      expect(jobs.map((j) => j.id)).toEqual([...ids].reverse());
      const created = jobs.map((j) => j.createdAt);
      expect([...created].sort().reverse()).toEqual(created);
      expect(jobs.every((j) => j.pageId === P.syncJobs.id && j.status === 'CANCELLED')).toBe(true);
    });

    itAnswers400('syncJobs', [
      ['a missing pageId', {}, 'pageId is required'],
      ['a non-numeric pageId', { pageId: 'abc' }, 'pageId must be a numeric Facebook id'],
    ]);

    itAnswers401(AUTH_CASES_SHORT, (token) => http.get(routePath('syncJobs', { pageId: P.idle.id }), token));

    it("answers 403 for another organization's page, and for one not connected", async () => {
      expectError(await http.get(routePath('syncJobs', { pageId: OTHER_ORG_PAGE.pageId }), alice), 403);
      expectError(await http.get(routePath('syncJobs', { pageId: UNCONNECTED_PAGE_ID }), alice), 403);
    });
  });

  describe('the API as a whole', () => {
    it(`serves ${routeKey('openApi')} without a token, equal to the repository openapi.json`, async () => {
      const answer = await http.get(ROUTES.openApi.path);
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body).toEqual(JSON.parse(readFileSync(path.join(ROOT, 'openapi.json'), 'utf8')));
    });

    it('answers 404 {error} for an unknown route', async () => {
      expectError(await http.get('/api/facebook/nothing-here', alice), 404);
      expectError(await http.get('/api/facebook/nothing-here'), 404);
    });

    it('sends the security headers on success and on error answers', async () => {
      const answers = [
        await http.get(PATHS.pages, alice),
        await http.get(routePath('syncJobs', { pageId: P.securityHeaders.id }), alice),
        await http.get(routePath('syncStatus', { jobId: 'nope' }), alice),
        await http.get(routePath('syncStatus', { jobId: randomUUID() }), alice),
        await http.get(routePath('syncJobs', { pageId: OTHER_ORG_PAGE.pageId }), alice),
        await http.post(PATHS.cancel, alice, {}),
      ];
      expect(answers.map((a) => a.status)).toEqual([200, 200, 400, 404, 403, 400]);
      for (const answer of answers) {
        expect(answer.headers.get('x-content-type-options'), answer.text).toBe('nosniff');
        expect(answer.headers.get('strict-transport-security'), answer.text).toMatch(/max-age=\d+/);
      }
    });

    const preflight = (origin: string) =>
      http.request('OPTIONS', PATHS.start, {
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,idempotency-key',
        },
      });

    it("answers a CORS preflight from the console's own origin with 204 and access-control-allow-origin", async () => {
      const own = new URL(http.baseUrl).origin;
      const answer = await preflight(own);
      expect(answer.status).toBe(204);
      expect(answer.headers.get('access-control-allow-origin')).toBe(own);
      expect(answer.headers.get('access-control-allow-methods')).toMatch(/POST/);
      expect(answer.headers.get('access-control-allow-headers')).toMatch(/idempotency-key/i);
    });

    it('lets a cross-origin client it grants read Retry-After from an answer', async () => {
      const answer = await http.request('GET', routePath('syncStatus', { jobId: randomUUID() }), {
        headers: { origin: 'http://localhost:5173', authorization: `Bearer ${alice}` },
      });
      expect(answer.status).toBe(404);
      expect(answer.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
      expect(answer.headers.get('access-control-expose-headers')).toBe('retry-after');
    });

    it('grants no CORS to a foreign origin on the local stack', async () => {
      const answer = await preflight('https://console.example.com');
      expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('Idempotency-Key on start', () => {
    it('gives the same 202 and one job for a retried start with the same key and body', async () => {
      const key = randomUUID();
      const first = await startSync(P.idemSame.id, alice, { 'idempotency-key': key });
      const second = await startSync(P.idemSame.id, alice, { 'idempotency-key': key });
      expect([first.status, second.status], second.text).toEqual([202, 202]);
      const jobId = StartSyncResponse.strict().parse(first.body).jobId;
      expect(StartSyncResponse.strict().parse(second.body).jobId).toBe(jobId);
      const answer = await http.get(routePath('syncJobs', { pageId: P.idemSame.id }), alice);
      expect(
        SyncJobsResponse.strict()
          .parse(answer.body)
          .jobs.map((j) => j.id),
      ).toEqual([jobId]);
      await stopIfRunning(jobId);
    });

    it('answers 422 for the same key with a different body', async () => {
      const key = randomUUID();
      const first = await startSync(P.idemDifferent.id, alice, { 'idempotency-key': key });
      expect(first.status, first.text).toBe(202);
      const other = await startSync(UNCONNECTED_PAGE_ID, alice, { 'idempotency-key': key });
      expectError(other, 422);
      await stopIfRunning(StartSyncResponse.parse(first.body).jobId);
    });

    it('answers 409 for a second start without a key', async () => {
      const jobId = await started(P.idemNone.id);
      const second = await startSync(P.idemNone.id);
      expect(second.status, second.text).toBe(409);
      expect(ConflictBody.strict().parse(second.body).activeJobId).toBe(jobId);
      await stopIfRunning(jobId);
    });
  });

  describe('races on real DynamoDB and the real state machine', () => {
    it.each(P.raceStarts.map((p, i) => [i + 1, p] as const))(
      'two concurrent starts give one 202 and one 409 naming its job (page %i)',
      async (_n, page) => {
        const answers = await Promise.all([startSync(page.id), startSync(page.id)]);
        const statuses = answers.map((a) => a.status).sort();
        expect(statuses, answers.map((a) => a.text).join(' | ')).toEqual([202, 409]);
        const won = answers.find((a) => a.status === 202) as HttpAnswer;
        const lost = answers.find((a) => a.status === 409) as HttpAnswer;
        const { jobId } = StartSyncResponse.strict().parse(won.body);
        expect(ConflictBody.strict().parse(lost.body).activeJobId).toBe(jobId);
        const listed = await http.get(routePath('syncJobs', { pageId: page.id }), alice);
        expect(SyncJobsResponse.strict().parse(listed.body).jobs).toHaveLength(1);
        await stopIfRunning(jobId);
      },
    );

    it('ten concurrent cancels of one running job all answer 200 with the same job', async () => {
      const jobId = await startedUntil(P.cancelVsCancel.id, ...RUNNING);
      const answers = await Promise.all(Array.from({ length: 10 }, () => cancelSync(jobId)));
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
      const bodies = answers.map((a) => CancelSyncResponse.strict().parse(a.body));
      for (const body of bodies) expect(body).toEqual(bodies[0]);
      await sleep(1500);
      const job = await jobStatus(jobId);
      expect(job).toMatchObject({
        status: 'CANCELLED',
        syncedContacts: bodies[0]?.job.syncedContacts,
        failedContacts: bodies[0]?.job.failedContacts,
        completedAt: bodies[0]?.job.completedAt,
      });
      expect(await contactsOfJob(P.cancelVsCancel.id, jobId)).toHaveLength(job.syncedContacts);
    });

    it.each(P.cancelVsCompletion.map((p, i) => [i + 1, p] as const))(
      'cancel vs completion: one wins, the answer is the truth and the counters are exact (page %i)',
      async (_n, page) => {
        expect([200, 400]).toContain(await cancelAroundCompletion(page));
      },
    );
  });

  describe('cross-organization access', () => {
    it("another organization's token is refused everywhere and changes nothing", async () => {
      const page = P.crossOrg;
      const jobId = await startedUntil(page.id, ...RUNNING);

      expectError(await http.get(routePath('syncStatus', { jobId }), mallory), 403);
      expectError(await cancelSync(jobId, mallory), 403);
      expectError(await http.get(routePath('syncJobs', { pageId: page.id }), mallory), 403);
      expectError(await http.get(routePath('pageContacts', { pageId: page.id }), mallory), 403);
      expectError(await http.delete(routePath('disconnectPage', { pageId: page.id }), mallory), 403);
      expectError(await startSync(page.id, mallory), 403);
      const theirs = PagesResponse.strict().parse((await http.get(PATHS.pages, mallory)).body).pages;
      expect(theirs.map((p) => p.id)).not.toContain(page.id);

      // Nothing changed: the page stays, and the job runs on to completion.
      const listed = await pageOfDemoOrg(page.id);
      expect(listed).toBeDefined();
      expect(listed?.activeJob?.id ?? jobId).toBe(jobId);
      const job = await waitForEnd(jobId);
      expect(job.status).toBe('COMPLETED');
      expect(job.cancelledBy).toBeUndefined();
      expect(job.syncedContacts + job.failedContacts).toBe(totalOf(page));
      expect(await pageOfDemoOrg(page.id)).toMatchObject({ activeJob: null, lastJob: { id: jobId } });
    });
  });

  describe('a page that changes hands', () => {
    it("shows the new organization none of the old organization's contacts or jobs", async ({ expect }) => {
      const page = P.changesHands;
      const jobId = await startedUntil(page.id, ...SOME_SAVED);
      expect((await http.delete(routePath('disconnectPage', { pageId: page.id }), alice)).status).toBe(204);
      const kept = await jobStatus(jobId);
      expect(kept.syncedContacts).toBeGreaterThan(0);

      const connect = { pageId: page.id, pageName: 'Now Theirs', accessToken: page.accessToken };
      const connected = await http.post(PATHS.pages, mallory, connect);
      expect(connected.status, connected.text).toBe(201);
      expectError(await http.get(routePath('syncStatus', { jobId }), mallory), 403);
      const jobs = await http.get(routePath('syncJobs', { pageId: page.id }), mallory);
      expect(SyncJobsResponse.strict().parse(jobs.body).jobs).toEqual([]);

      // Each check is soft, so one run reports every leak.
      const { page: theirs } = ConnectPageResponse.strict().parse(connected.body);
      expect.soft(theirs.lastJob?.id, "demo-org's job as lastJob in POST /pages").toBeUndefined();
      const listed = PagesResponse.strict()
        .parse((await http.get(PATHS.pages, mallory)).body)
        .pages.find((p) => p.id === page.id);
      expect.soft(listed?.lastJob?.id, "demo-org's job as lastJob in GET /pages").toBeUndefined();
      const { contacts } = await contactsOfPage(page.id, mallory);
      const leaked = contacts.filter((c) => c.lastSyncJobId === jobId).length;
      expect.soft(leaked, "demo-org's contacts in other-org's GET /contacts").toBe(0);
    });
  });

  describe("the original feature's testing scenarios", () => {
    it('fixture test 1: cancel immediately -> CANCELLED with 0-10 contacts, counters match saved contacts', async () => {
      const jobId = await started(P.fixture1.id);
      const ack = await cancelled(jobId);
      expect(ack.syncedContacts).toBeLessThanOrEqual(10);
      await sleep(2000);
      const job = await jobStatus(jobId);
      expect(job).toMatchObject({ status: 'CANCELLED', syncedContacts: ack.syncedContacts });
      expect(await contactsOfJob(P.fixture1.id, jobId)).toHaveLength(ack.syncedContacts);
    });

    it('fixture test 2: cancel at ~50% -> CANCELLED with part of the contacts saved, counters exact', async () => {
      const page = P.fixture2;
      // Half of the page's conversations done (progress stays null until the whole list is read).
      const jobId = await startedUntil(
        page.id,
        'half done',
        (j) => j.syncedContacts + j.failedContacts >= totalOf(page) / 2 || !isActive(j),
      );
      const ack = await cancelled(jobId);
      expect(ack.syncedContacts).toBeGreaterThan(0);
      expect(ack.syncedContacts).toBeLessThan(totalOf(page));
      await sleep(2000);
      expect(await jobStatus(jobId)).toMatchObject({
        status: 'CANCELLED',
        syncedContacts: ack.syncedContacts,
        failedContacts: ack.failedContacts,
      });
      expect(await contactsOfJob(page.id, jobId)).toHaveLength(ack.syncedContacts);
    });

    it('fixture test 3: cancel, then start again at once -> 202 and the new job starts from 0', async () => {
      const page = P.fixture3;
      const first = await started(page.id);
      await waitForJob(first, ...SOME_SAVED);
      const ack = await cancelled(first);
      const second = await started(page.id);
      expect(second).not.toBe(first);
      expect(await jobStatus(second)).toMatchObject({
        syncedContacts: 0,
        failedContacts: 0,
        totalContacts: 0,
        progress: null,
        completedAt: null,
      });

      // It is a full, fresh sync: every conversation again, including those the first job saved.
      const done = await waitForEnd(second);
      expect(done.status).toBe('COMPLETED');
      expect(done.syncedContacts + done.failedContacts).toBe(totalOf(page));
      expect(await contactsOfJob(page.id, second)).toHaveLength(done.syncedContacts);
      expect(await jobStatus(first)).toMatchObject({
        status: 'CANCELLED',
        syncedContacts: ack.syncedContacts,
      });
    });

    it('fixture test 4: cancel from a different tab -> both users see CANCELLED, cancelled by B', async () => {
      const page = P.fixture4;
      const jobId = await started(page.id, alice);
      await waitForJob(jobId, ...RUNNING);
      const byBob = await cancelSync(jobId, bob);
      expect(byBob.status, byBob.text).toBe(200);
      const ack = CancelSyncResponse.strict().parse(byBob.body).job;

      const seenByAlice = await jobStatus(jobId, alice);
      expect(seenByAlice).toMatchObject({
        status: 'CANCELLED',
        cancelledBy: 'bob',
        syncedContacts: ack.syncedContacts,
      });
      expect(finalView(await jobStatus(jobId, bob))).toEqual(finalView(seenByAlice));
      expect(await pageOfDemoOrg(page.id)).toMatchObject({ activeJob: null, lastJob: { id: jobId } });
      // Alice's own "Stop Sync" now is a no-op with the same answer.
      const byAlice = await cancelSync(jobId, alice);
      expect(byAlice.status).toBe(200);
      expect(byAlice.body).toEqual(byBob.body);
    });

    it('fixture test 5: cancel after completion -> 400 "Cannot cancel job with status: COMPLETED"', async () => {
      const jobId = await started(P.fixture5.id);
      const done = await waitForEnd(jobId);
      expect(done.status).toBe('COMPLETED');
      expectError(await cancelSync(jobId), 400, 'Cannot cancel job with status: COMPLETED');
      expect(finalView(await jobStatus(jobId))).toEqual(finalView(done));
    });
  });

  describe("the original feature's edge cases", () => {
    it('edge case 1: sync already complete when cancel is clicked -> one outcome, and it is the truth', async () => {
      expect([200, 400]).toContain(await cancelAroundCompletion(P.edge1));
    });

    it('edge case 2: multiple cancel requests -> the first cancels, the rest are idempotent 200s', async () => {
      const jobId = await startedUntil(P.edge2.id, ...RUNNING);
      const first = await cancelSync(jobId, alice, 'first click');
      expect(first.status, first.text).toBe(200);
      CancelSyncResponse.strict().parse(first.body);
      const rest = await Promise.all(
        Array.from({ length: 5 }, () => cancelSync(jobId, bob, 'another click')),
      );
      for (const answer of rest) {
        expect(answer.status, answer.text).toBe(200);
        expect(answer.body).toEqual(first.body);
      }
      expect(await jobStatus(jobId)).toMatchObject({
        status: 'CANCELLED',
        cancelledBy: 'alice',
        cancelReason: 'first click',
      });
    });

    it('edge case 3: a user of another organization cannot cancel -> 403, and the job completes', async () => {
      const page = P.edge3;
      const jobId = await startedUntil(page.id, ...RUNNING);
      expectError(await cancelSync(jobId, mallory), 403);
      const done = await waitForEnd(jobId);
      expect(done.status).toBe('COMPLETED');
      expect(done.syncedContacts + done.failedContacts).toBe(totalOf(page));
      expect(await contactsOfJob(page.id, jobId)).toHaveLength(done.syncedContacts);
    });

    it('edge case 4: job deleted during processing -> the execution ends, writes stop, the lock is freed', async () => {
      const page = P.edge4;
      const { jobId, savedAtDeletion } = await deleteJobMidRun(page);
      await sleep(1500);
      expect(await contactsOfJob(page.id, jobId)).toHaveLength(savedAtDeletion);
      expectError(await http.get(routePath('syncStatus', { jobId }), alice), 404);
      expect((await pageOfDemoOrg(page.id))?.activeJob).toBeNull();
      const next = await started(page.id);
      await stopIfRunning(next);
    });

    it('edge case 4, stricter: the workflow of a deleted job frees the page lock itself when it ends', async () => {
      // The lock must not wait for the next start to notice it is stale and heal it.
      const page = P.edge4Lock;
      const { jobId } = await deleteJobMidRun(page);
      expect(
        await storedLockOf(page.id),
        `the page still locked by the deleted job ${jobId}`,
      ).toBeUndefined();
    });

    it('edge case 5: cancel during a contact write -> every saved contact is whole, counters exact', async () => {
      const page = P.edge5;
      // Best effort: cancel while a chunk is part-way through its writes.
      const jobId = await startedUntil(
        page.id,
        'a chunk part-way written',
        (j) => (j.syncedContacts > 0 && j.syncedContacts % CHUNK_SIZE !== 0) || j.syncedContacts > 40,
        { tries: 3000, intervalMs: 10 },
      );
      const ack = await cancelled(jobId);
      await sleep(2000);
      expect(await jobStatus(jobId)).toMatchObject({
        status: 'CANCELLED',
        syncedContacts: ack.syncedContacts,
      });
      const saved = await contactsOfJob(page.id, jobId);
      expect(saved).toHaveLength(ack.syncedContacts);
      for (const contact of saved) {
        expect(contact.aiContext.summary.length).toBeGreaterThan(0);
        expect(contact).toMatchObject({
          pageId: page.id,
          lastSyncJobId: jobId,
          conversationId: expect.any(String),
          displayName: expect.any(String),
        });
      }
    });
  });
});
