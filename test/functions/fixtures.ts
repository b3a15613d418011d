import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { KMSClient } from '@aws-sdk/client-kms';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { TransactWriteCommandInput, UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { expect, it } from 'vitest';
import type { JobStatus } from '#shared/job-status.ts';
import type { ConnectedPage, StoredPage } from '#shared/store/page-repository.ts';
import type { SyncJob } from '#shared/sync/job.ts';
import { transactionCancelled } from '#test/shared/store/transaction-fixtures.ts';
import { allowedStatuses, CALLER, expectError, type Reply, setFields } from './event.ts';

/** Every AWS client a route handler uses, stubbed: no unit test reaches AWS. */
export const ddbMock = mockClient(DynamoDBDocumentClient);
export const sfnMock = mockClient(SFNClient);
export const kmsMock = mockClient(KMSClient);
export const eventsMock = mockClient(EventBridgeClient);

/**
 * The lifecycle-event bus of a deployed stack, stubbed to accept every event: for routes that
 * publish one (pause, resume). Call it before each test, after resetAwsMocks.
 */
export function givenEventBus(): void {
  process.env.EVENT_BUS_NAME = 'contact-sync-test-bus';
  eventsMock.reset();
  eventsMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
}
/** Powertools' idempotency store talks to DynamoDB through its own low-level client. */
export const idempotencyDdbMock = mockClient(DynamoDBClient);

/** Forgets every stub and every recorded call; each test file runs it before each test. */
export function resetAwsMocks(): void {
  ddbMock.reset();
  sfnMock.reset();
  kmsMock.reset();
  idempotencyDdbMock.reset();
}

/**
 * The request was refused before any I/O: an error answer (see expectError) of `statusCode` and
 * `message`, and no command sent to DynamoDB, Step Functions or KMS.
 */
export function expectRefused(reply: Reply, statusCode: number, message: string): void {
  expectError(reply, statusCode, message);
  expect(ddbMock).not.toReceiveAnyCommand();
  expect(idempotencyDdbMock).not.toReceiveAnyCommand();
  expect(sfnMock).not.toReceiveAnyCommand();
  expect(kmsMock).not.toReceiveAnyCommand();
}

/** The Lambda environment test/setup.ts gives every handler. */
export const JOBS_TABLE = process.env.JOBS_TABLE ?? '';
export const PAGES_TABLE = process.env.PAGES_TABLE ?? '';
export const CONTACTS_TABLE = process.env.CONTACTS_TABLE ?? '';
export const IDEMPOTENCY_TABLE = process.env.IDEMPOTENCY_TABLE ?? '';
export const STATE_MACHINE_ARN = process.env.STATE_MACHINE_ARN ?? '';

/** The page and the job most tests act on: CALLER's. */
export const PAGE_ID = '100000000000001';
export const JOB_ID = '00000000-0000-4000-8000-000000000001';

/** Bodies every route that takes `{jobId}` refuses with 400 before any I/O: [case, body, error]. */
export const INVALID_JOB_BODIES: [string, unknown, string][] = [
  ['there is no body', undefined, 'jobId is required'],
  ['jobId is not a UUID', { jobId: 'job-1' }, 'jobId must be a UUID'],
];

/** A running job of CALLER's organization, as the jobs table stores it. */
export function storedJob(overrides: Partial<SyncJob> = {}): SyncJob {
  return {
    jobId: JOB_ID,
    organizationId: CALLER.org_id,
    pageId: PAGE_ID,
    status: 'IN_PROGRESS',
    phase: 'syncing:messenger',
    syncedContacts: 7,
    failedContacts: 2,
    totalContacts: 40,
    listComplete: true,
    createdBy: CALLER.sub,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:01:00.000Z',
    startedAt: '2026-01-01T00:00:01.000Z',
    ...overrides,
  };
}

/** A job of org-2's, from when org-2 had the page connected: a page's history a new owner must not see. */
export const PREVIOUS_OWNERS_JOB_ID = '00000000-0000-4000-8000-0000000000b2';
export const previousOwnersJob = (overrides: Partial<SyncJob>): SyncJob =>
  storedJob({
    jobId: PREVIOUS_OWNERS_JOB_ID,
    organizationId: 'org-2',
    cancelledBy: 'user-of-org-2',
    completedAt: '2026-01-01T00:05:00.000Z',
    ...overrides,
  });

/** The job as CALLER's cancel leaves it, as DynamoDB returns it after the commit (ALL_NEW). */
export function cancelledJob(overrides: Partial<SyncJob> = {}): SyncJob {
  return storedJob({
    status: 'CANCELLED',
    phase: 'cancelled',
    completedAt: '2026-01-01T00:02:00.000Z',
    cancelledBy: CALLER.sub,
    ...overrides,
  });
}

/** The job as CALLER's pause leaves it. */
export function pausedJob(overrides: Partial<SyncJob> = {}): SyncJob {
  const pause = { pausedAt: '2026-01-01T00:02:00.000Z', pausedBy: CALLER.sub };
  return storedJob({ status: 'PAUSED', phase: 'paused', ...pause, ...overrides });
}

/**
 * What KMS returns for a page token, stored base64 (shared/secrets/page-token-vault.ts). It is not
 * the token: only a KMS Decrypt with the page's encryption context gives the token back.
 */
export const TOKEN_CIPHERTEXT = Buffer.from('kms-ciphertext:EAAG-secret-page-token').toString('base64');

/** A page of CALLER's organization, as the pages table stores it: the token only as ciphertext. */
export function storedPage(overrides: Partial<StoredPage> = {}): StoredPage {
  return {
    pageId: PAGE_ID,
    organizationId: CALLER.org_id,
    pageName: 'My Business Page',
    accessTokenCiphertext: TOKEN_CIPHERTEXT,
    contactCount: 12,
    connectedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/**
 * Stubs the reads of `table`: each read answers the next item (undefined: no such item), and the
 * last item answers every later read.
 */
function givenStored(table: string, items: (ConnectedPage | SyncJob | undefined)[]): void {
  const answers = items.map((Item) => ({ Item }));
  const last = answers.pop();
  const reads = ddbMock.on(GetCommand, { TableName: table });
  for (const answer of answers) reads.resolvesOnce(answer);
  reads.resolves(last ?? {});
}

/** Stubs the reads of the pages table: `givenPage(a, b)` answers a first, then b. */
export function givenPage(page: ConnectedPage | undefined, ...later: (ConnectedPage | undefined)[]): void {
  givenStored(PAGES_TABLE, [page, ...later]);
}

/** The page is free and its execution starts: the happy path of a start (or a retry). */
export function givenStartablePage(): void {
  givenPage(storedPage());
  sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: `arn:aws:states:us-east-1:000000000000:execution:ContactSyncTest:${input.name}`,
    startDate: new Date(),
  }));
}

/** Stubs the reads of the jobs table: `givenJob(a, b)` answers a first, then b. */
export function givenJob(job: SyncJob | undefined, ...later: (SyncJob | undefined)[]): void {
  givenStored(JOBS_TABLE, [job, ...later]);
}

/** An execution of JOB_ID as its item in the jobs table stores it (the first one, running, by default). */
export function executionItem(overrides: Record<string, unknown> = {}) {
  const name = String(overrides.name ?? JOB_ID);
  return {
    jobId: JOB_ID,
    sk: `EXEC#${name}`,
    name,
    status: 'RUNNING',
    startDate: '2026-01-01T00:00:01.000Z',
    statusAt: '2026-01-01T00:00:01.000Z',
    ...overrides,
  };
}

/**
 * Stubs the reads of the jobs table by sort key: the job item is `job`, each execution item of
 * `executions` is found (and listed by the query of the partition), and `history` is the cached
 * summary of every execution (none by default).
 */
export function givenJobPartition(
  job: SyncJob | undefined,
  executions: ReturnType<typeof executionItem>[] = [],
  history?: Record<string, unknown>,
): void {
  ddbMock.on(GetCommand, { TableName: JOBS_TABLE }).callsFake((input: { Key: { sk: string } }) => {
    const { sk } = input.Key;
    if (sk === 'JOB') return { Item: job };
    if (sk.startsWith('HISTORY#')) return { Item: history };
    return { Item: executions.find((e) => e.sk === sk) };
  });
  ddbMock.on(QueryCommand, { TableName: JOBS_TABLE }).resolves({ Items: executions });
}

/** Stubs the reads of the pages table by key: each page of `pages` is found, any other is not. */
export function givenPagesById(...pages: ConnectedPage[]): void {
  ddbMock.on(GetCommand, { TableName: PAGES_TABLE }).callsFake((input: { Key: { pageId: string } }) => ({
    Item: pages.find((p) => p.pageId === input.Key.pageId),
  }));
}

/** Stubs the reads of the jobs table by key: each job of `jobs` is found, any other is not. */
export function givenJobsById(...jobs: SyncJob[]): void {
  ddbMock.on(GetCommand, { TableName: JOBS_TABLE }).callsFake((input: { Key: { jobId: string } }) => ({
    Item: jobs.find((j) => j.jobId === input.Key.jobId),
  }));
}

/** Stubs the queries of the jobs table (a page's jobs): they answer `jobs`. */
export function givenJobsListed(...jobs: SyncJob[]): void {
  ddbMock.on(QueryCommand, { TableName: JOBS_TABLE }).resolves({ Items: jobs });
}

/** Stubs the queries of the pages table (an organization's pages): they answer `pages`. */
export function givenPagesListed(...pages: ConnectedPage[]): void {
  ddbMock.on(QueryCommand, { TableName: PAGES_TABLE }).resolves({ Items: pages });
}

/** A stop's commit point (cancel, pause): the only update of the jobs table that asks for the new item back. */
export const CANCEL_COMMIT = { TableName: JOBS_TABLE, ReturnValues: 'ALL_NEW' } as const;

/** The job is `stored` (running by default), and a cancel's commit wins, answering `committed`. */
export function givenCancellable(committed = cancelledJob(), stored = storedJob()): void {
  givenJob(stored);
  ddbMock.on(UpdateCommand, CANCEL_COMMIT).resolves({ Attributes: committed });
}

/** PAGE_ID is locked by its running job JOB_ID, which a cancel will stop (see givenCancellable). */
export function givenActiveSync(committed = cancelledJob(), stored = storedJob()): void {
  givenPage(storedPage({ activeJobId: JOB_ID }));
  givenCancellable(committed, stored);
}

/** A job id as a start makes it. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The job item the start transaction put (a start's, or a retry's). */
export function putJob(): Record<string, unknown> {
  const input: TransactWriteCommandInput | undefined =
    ddbMock.commandCalls(TransactWriteCommand)[0]?.args[0].input;
  const item = input?.TransactItems?.map((entry) => entry.Put?.Item).find((put) => put !== undefined);
  if (!item) throw new Error('no job was put');
  return item;
}

/** Every update sent to DynamoDB, in order. */
export const updateInputs = (): UpdateCommandInput[] =>
  ddbMock.commandCalls(UpdateCommand).map((call) => call.args[0].input);

/** The commit point of a transition (cancel, pause, resume): the update that asks for the new item back. */
export function commitInput(): UpdateCommandInput {
  const commit = updateInputs().find((input) => input.ReturnValues === 'ALL_NEW');
  if (!commit) throw new Error('no commit update');
  return commit;
}

/** `commit` is CALLER's cancel (for `reason`): from any active status (PAUSED too) to CANCELLED. */
export function expectCancelCommit(commit: UpdateCommandInput, reason: string): void {
  expect(allowedStatuses(commit).sort()).toEqual(['IN_PROGRESS', 'PAUSED', 'PENDING']);
  expect(setFields(commit)).toMatchObject({
    status: 'CANCELLED',
    cancelledBy: CALLER.sub,
    cancelReason: reason,
    completedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
  });
}

/** Job `jobId` released its lock on PAGE_ID: the update that removes the page's activeJobId if it is `jobId`. */
export function expectLockReleased(jobId: string): void {
  expect(ddbMock).toReceiveCommandWith(UpdateCommand, {
    TableName: PAGES_TABLE,
    Key: { pageId: PAGE_ID },
    UpdateExpression: 'REMOVE activeJobId',
    ExpressionAttributeValues: { ':j': jobId },
  });
}

/**
 * A job command's 400 for each of `statuses`, which it cannot act on (test `title`): the job read in
 * that status, the answer `Cannot <verb> job with status: <status>`, no `write` sent, no execution
 * touched.
 */
export function itRefusesJobsIn(
  statuses: JobStatus[],
  title: string,
  [verb, call]: [string, (body: unknown) => Promise<Reply>],
  write: typeof UpdateCommand | typeof TransactWriteCommand,
): void {
  it.each<JobStatus>(statuses)(title, async (status) => {
    givenJob(storedJob({ status }));

    expectError(await call({ jobId: JOB_ID }), 400, `Cannot ${verb} job with status: ${status}`);
    // The matcher's type takes one command class; the check is the same for either.
    expect(ddbMock).not.toReceiveCommand(write as typeof UpdateCommand);
    expect(sfnMock).not.toReceiveAnyCommand();
  });
}

/** A start's transaction refused: the page's lock condition (its first action) failed. */
export const pageLockConflict = () =>
  transactionCancelled([{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }]);

/**
 * What DynamoDB throws when a conditional write loses a race; with `item`, the item as it was
 * (ReturnValuesOnConditionCheckFailure: ALL_OLD), in AttributeValue form as DynamoDB sends it.
 */
export const conditionFailed = (item?: SyncJob) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    ...(item ? { Item: marshall(item, { removeUndefinedValues: true }) } : {}),
  });

/** A stop's commit point (cancel, pause) refused: `job` is the job as it was, undefined for none. */
export function givenRefusedCommit(job: SyncJob | undefined): void {
  ddbMock.on(UpdateCommand, CANCEL_COMMIT).rejects(conditionFailed(job));
}

/** Nothing was written: the only update sent is the commit the table refused, and nothing read before it. */
export function expectOnlyTheRefusedCommit(jobId = JOB_ID): void {
  expect(ddbMock).toReceiveCommandTimes(UpdateCommand, 1);
  expect(ddbMock).toReceiveCommandWith(UpdateCommand, {
    TableName: JOBS_TABLE,
    Key: { jobId, sk: 'JOB' },
    ConditionExpression: expect.stringContaining('organizationId = :org'),
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  });
  expect(ddbMock).not.toReceiveCommand(GetCommand);
}

/** A DynamoDB failure that is not a lost condition, naming an internal table. */
export const throughputExceeded = (table: string) =>
  new ProvisionedThroughputExceededException({ message: `Throughput exceeded on ${table}`, $metadata: {} });
