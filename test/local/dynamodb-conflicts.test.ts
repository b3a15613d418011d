import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  conflictRetries,
  isTransactionConflict,
  retryTransactionConflicts,
} from '#shared/store/conflict-retry.ts';
import { itemSize } from '../../local/dynamodb-capacity.ts';
import { ConflictModel, conflictSettingsFromEnv } from '../../local/dynamodb-conflicts.ts';
import { startDynamoFaultProxy } from '../../local/dynamodb-faults.ts';

const TABLE = 'jobs';
const keySchemas = new Map([[TABLE, ['jobId', 'sk']]]);
const key = (id: string) => ({ jobId: { S: id }, sk: { S: 'JOB' } });
const update = (id: string) => ({
  TableName: TABLE,
  Key: key(id),
  UpdateExpression: 'ADD n :one',
  ExpressionAttributeValues: { ':one': { N: '1' } },
});
const tx = (...ids: string[]) => ({ TransactItems: ids.map((id) => ({ Update: update(id) })) });

describe('the conflict model', () => {
  it('cancels the second of two overlapping transactions on one item, naming the item', () => {
    const model = new ConflictModel({ keySchemas });
    const first = model.admit('TransactWriteItems', tx('a', 'b'));
    expect(first.error).toBeUndefined();
    const second = model.admit('TransactWriteItems', tx('c', 'b'));
    expect(second.error?.body).toMatchObject({
      __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }],
    });
    expect(model.stats().transactionsCancelled).toBe(1);
  });

  it('lets transactions on disjoint items through, and an item free again once released', () => {
    const model = new ConflictModel({ keySchemas });
    const first = model.admit('TransactWriteItems', tx('a'));
    expect(model.admit('TransactWriteItems', tx('b')).error).toBeUndefined();
    if (first.error) throw new Error('first was refused');
    first.release(true);
    expect(model.admit('TransactWriteItems', tx('a')).error).toBeUndefined();
    expect(model.stats().transactionsCancelled).toBe(0);
  });

  it('finds the key of a Put in its item, whatever other attributes it has', () => {
    const model = new ConflictModel({ keySchemas });
    model.admit('TransactWriteItems', {
      TransactItems: [{ Put: { TableName: TABLE, Item: { ...key('a'), other: { S: 'x' } } } }],
    });
    expect(model.admit('DeleteItem', { TableName: TABLE, Key: key('a') }).error).toBeDefined();
    // Same partition, other sort key: another item, no conflict.
    expect(
      model.admit('DeleteItem', { TableName: TABLE, Key: { jobId: { S: 'a' }, sk: { S: 'CHUNK#1' } } }).error,
    ).toBeUndefined();
  });

  it('refuses an UpdateItem on an item of a transaction in flight with TransactionConflictException', () => {
    const model = new ConflictModel({ keySchemas });
    model.admit('TransactWriteItems', tx('a'));
    const single = model.admit('UpdateItem', update('a'));
    expect(single.error?.body.__type).toBe('com.amazonaws.dynamodb.v20120810#TransactionConflictException');
    expect(model.admit('PutItem', { TableName: TABLE, Item: key('a') }).error).toBeDefined();
    expect(model.stats().singleWritesRefused).toBe(2);
  });

  it('cancels a transaction that meets a single-item write in flight', () => {
    const model = new ConflictModel({ keySchemas });
    const single = model.admit('UpdateItem', update('a'));
    expect(single.error).toBeUndefined();
    expect(model.admit('TransactWriteItems', tx('a')).error?.body.CancellationReasons).toEqual([
      { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' },
    ]);
    if (single.error) throw new Error('refused');
    single.release();
    expect(model.admit('TransactWriteItems', tx('a')).error).toBeUndefined();
  });

  it('cancels a TransactGetItems on an item with any write in flight, and never a GetItem', () => {
    const model = new ConflictModel({ keySchemas });
    const get = (id: string) => ({ TransactItems: [{ Get: { TableName: TABLE, Key: key(id) } }] });
    model.admit('TransactWriteItems', tx('a'));
    model.admit('PutItem', { TableName: TABLE, Item: key('b') });
    model.admit('BatchWriteItem', { RequestItems: { [TABLE]: [{ DeleteRequest: { Key: key('c') } }] } });
    for (const id of ['a', 'b', 'c'])
      expect(model.admit('TransactGetItems', get(id)).error?.body.CancellationReasons).toEqual([
        { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' },
      ]);
    expect(model.admit('TransactGetItems', get('d')).error).toBeUndefined();
    expect(model.admit('GetItem', { TableName: TABLE, Key: key('a') }).error).toBeUndefined();
    expect(model.stats().transactGetsCancelled).toBe(3);
  });

  it('answers a committed client token again as a replay, without a conflict', () => {
    const model = new ConflictModel({ keySchemas });
    const first = model.admit('TransactWriteItems', { ...tx('a'), ClientRequestToken: 't1' });
    if (first.error) throw new Error('refused');
    model.admit('TransactWriteItems', tx('a')); // another one in flight on the same item
    first.release(true);
    const replay = model.admit('TransactWriteItems', { ...tx('a'), ClientRequestToken: 't1' });
    expect(replay).toMatchObject({ replay: true });
    expect(model.stats().replays).toBe(1);
  });

  it('reads its switch and hold from the environment, and refuses nonsense', () => {
    expect(conflictSettingsFromEnv({})).toEqual({ enabled: true, txHoldMs: 25 });
    expect(conflictSettingsFromEnv({ DYNAMODB_CONFLICTS: 'off', DYNAMODB_TX_HOLD_MS: '50' })).toEqual({
      enabled: false,
      txHoldMs: 50,
    });
    expect(() => conflictSettingsFromEnv({ DYNAMODB_CONFLICTS: 'maybe' })).toThrow(/on or off/);
    expect(() => conflictSettingsFromEnv({ DYNAMODB_TX_HOLD_MS: '-1' })).toThrow(/DYNAMODB_TX_HOLD_MS/);
  });
});

describe('the conflict model in front of DynamoDB Local, with the SDK', () => {
  const table = inject('tables').JOBS_TABLE;
  const schemas = new Map([[table, ['jobId', 'sk']]]);
  // Wide holds, so that the second request surely arrives while the first is in flight.
  const model = new ConflictModel({ keySchemas: schemas, txHoldMs: 400, writeHoldMs: 400 });
  let proxy: Awaited<ReturnType<typeof startDynamoFaultProxy>>;
  let raw: DynamoDBClient;
  let retrying: DynamoDBClient;
  const id = (name: string) => `conflict-model-${name}-${Date.now()}`;
  const upd = (jobId: string) => ({ ...update(jobId), TableName: table });

  beforeAll(async () => {
    proxy = await startDynamoFaultProxy(inject('dynamoDbEndpoint'), undefined, model);
    const options = {
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    raw = new DynamoDBClient(options);
    retrying = new DynamoDBClient(options);
    retryTransactionConflicts(retrying);
  });
  afterAll(async () => {
    raw.destroy();
    retrying.destroy();
    await proxy.close();
  });

  it('an UpdateItem during a transaction fails with TransactionConflictException, and is applied once retried', async () => {
    const jobId = id('single');
    const transaction = raw.send(new TransactWriteItemsCommand({ TransactItems: [{ Update: upd(jobId) }] }));
    await new Promise((r) => setTimeout(r, 100));
    const refused = await raw.send(new UpdateItemCommand(upd(jobId))).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).name).toBe('TransactionConflictException');
    expect(isTransactionConflict(refused)).toBe(true);

    const before = conflictRetries.retries;
    await retrying.send(new UpdateItemCommand(upd(jobId))); // waits out the transaction
    await transaction;
    expect(conflictRetries.retries).toBeGreaterThan(before);
    const { Item } = await raw.send(
      new GetItemCommand({ TableName: table, Key: key(jobId), ConsistentRead: true }),
    );
    expect(Item?.n).toEqual({ N: '2' });
  });

  it('a transaction during an UpdateItem is cancelled with a TransactionConflict reason', async () => {
    const jobId = id('tx');
    const single = raw.send(new UpdateItemCommand(upd(jobId)));
    await new Promise((r) => setTimeout(r, 100));
    const cancelled = await raw
      .send(new TransactWriteItemsCommand({ TransactItems: [{ Update: upd(jobId) }] }))
      .catch((e: Error) => e);
    await single;
    expect((cancelled as Error).name).toBe('TransactionCanceledException');
    expect((cancelled as { CancellationReasons?: { Code?: string }[] }).CancellationReasons?.[0]?.Code).toBe(
      'TransactionConflict',
    );
    const { Item } = await raw.send(
      new GetItemCommand({ TableName: table, Key: key(jobId), ConsistentRead: true }),
    );
    expect(Item?.n).toEqual({ N: '1' }); // the cancelled transaction changed nothing
  });

  it('a TransactGetItems during a PutItem is cancelled; a GetItem succeeds', async () => {
    const jobId = id('get');
    const put = raw.send(new PutItemCommand({ TableName: table, Item: key(jobId) }));
    await new Promise((r) => setTimeout(r, 100));
    const get = await raw
      .send(new TransactGetItemsCommand({ TransactItems: [{ Get: { TableName: table, Key: key(jobId) } }] }))
      .catch((e: Error) => e);
    expect((get as Error).name).toBe('TransactionCanceledException');
    await expect(raw.send(new GetItemCommand({ TableName: table, Key: key(jobId) }))).resolves.toBeDefined();
    await put;
  });

  it('a transaction that loses only a condition is not a conflict: the client does not retry it', async () => {
    const jobId = id('condition');
    const before = conflictRetries.conflicts;
    const error = await retrying
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Update: { ...upd(jobId), ConditionExpression: 'attribute_exists(jobId)' } }],
        }),
      )
      .catch((e: Error) => e);
    expect((error as Error).name).toBe('TransactionCanceledException');
    expect(isTransactionConflict(error)).toBe(false);
    expect(conflictRetries.conflicts).toBe(before);
  });
});

describe('the write units of a transaction, as AWS counts them', () => {
  it('sizes items as the developer guide does', () => {
    expect(itemSize({ a: { S: 'xyz' } })).toBe(4);
    expect(itemSize({ n: { N: '12345' } })).toBe(1 + 3 + 1);
    expect(itemSize({ m: { M: { k: { S: 'v' } } } })).toBe(1 + 3 + 1 + 1 + 1);
    expect(itemSize({ l: { L: [{ BOOL: true }, { NULL: true }] } })).toBe(1 + 3 + 2 + 2);
  });

  it('charges 2 units per started KB of every item, where DynamoDB Local reports one item per table', async () => {
    const table = inject('tables').CONTACTS_TABLE;
    const pageId = `capacity-${Date.now()}`;
    const model = new ConflictModel({
      keySchemas: new Map([[table, ['pageId', 'contactKey']]]),
      txHoldMs: 0,
    });
    const proxy = await startDynamoFaultProxy(inject('dynamoDbEndpoint'), undefined, model);
    const client = new DynamoDBClient({
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      const put = (k: string, bytes: number) => ({
        Put: {
          TableName: table,
          Item: { pageId: { S: pageId }, contactKey: { S: k }, pad: { S: 'x'.repeat(bytes) } },
        },
      });
      await client.send(new TransactWriteItemsCommand({ TransactItems: [put('big', 1500)] }));
      const out = await client.send(
        new TransactWriteItemsCommand({
          ReturnConsumedCapacity: 'TOTAL',
          TransactItems: [
            ...['a', 'b', 'c', 'd', 'e'].map((k) => put(k, 500)), // 5 x 2
            {
              Update: {
                TableName: table,
                Key: { pageId: { S: pageId }, contactKey: { S: 'big' } },
                UpdateExpression: 'SET n = :n',
                ExpressionAttributeValues: { ':n': { N: '1' } },
              },
            }, // 2 KB started: 4
          ],
        }),
      );
      expect(out.ConsumedCapacity).toEqual([{ TableName: table, CapacityUnits: 14 }]);
    } finally {
      client.destroy();
      await proxy.close();
    }
  });
});
