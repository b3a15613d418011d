import {
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach } from 'vitest';
import type { ConnectedPage } from '#shared/store/page-repository.ts';

/**
 * What the unit tests of a chunk's processing share (process-chunk.test.ts, chunk-worker.test.ts):
 * DynamoDB stubbed, the tables of the test environment, the page, the commits a chunk sent, and
 * the environment each test sets and gives back.
 */
export const ddbMock = mockClient(DynamoDBDocumentClient);

export const JOBS_TABLE = process.env.JOBS_TABLE ?? '';
export const CONTACTS_TABLE = process.env.CONTACTS_TABLE ?? '';
export const PAGES_TABLE = process.env.PAGES_TABLE ?? '';
export const PAGE_ID = '104729384756192';

/** The page the chunks are of, as the pages table stores it. */
export function chunkPage(overrides: Partial<ConnectedPage> = {}): ConnectedPage {
  return {
    pageId: PAGE_ID,
    organizationId: 'org-1',
    pageName: 'My Business Page',
    accessTokenCiphertext: 'ciphertext',
    contactCount: 0,
    connectedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** The reads of the pages table answer `page`. */
export function givenPageStored(page: ConnectedPage = chunkPage()): void {
  ddbMock.on(GetCommand, { TableName: PAGES_TABLE }).resolves({ Item: page });
}

/** The reads of the pages table find no page: it is no longer connected. */
export function givenPageGone(): void {
  ddbMock.on(GetCommand, { TableName: PAGES_TABLE }).resolves({ Item: undefined });
}

/** Every transaction sent (the chunk's batch commits), in order. */
export const transactions = (): TransactWriteCommandInput[] =>
  ddbMock.commandCalls(TransactWriteCommand).map((call) => call.args[0].input);

/** The variables `names` as they were before each test are given back after it. */
export function restoreEnvAfterEach(names: readonly string[]): void {
  let saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  });
  afterEach(() => {
    for (const name of names) {
      const value = saved[name];
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
}
