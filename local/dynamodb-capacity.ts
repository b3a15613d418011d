import { type AttributeValue, BatchGetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * The write units a TransactWriteItems costs on AWS, which DynamoDB Local does not report: it
 * answers about one item's worth per table, however many items the transaction writes (measured:
 * 2 units for a transaction of 20 small items on one table). AWS performs two writes of every item
 * of a transaction (prepare and commit), so each action costs 2 units per started KB of its item
 * (developer guide, "Capacity management for transactions"; item sizes as in "Item sizes and
 * formats"): a Put, the item it writes; an Update, the larger of the item before and after; a
 * Delete or a ConditionCheck, the item as it was.
 *
 * Left out: writes to global secondary indexes (DynamoDB Local reports none either).
 */

type Item = Record<string, AttributeValue>;
type Json = Record<string, unknown>;

/** An item's size in bytes, as DynamoDB counts it: names plus values, with the documented overheads. */
export function itemSize(item: Item | undefined): number {
  if (!item) return 0;
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return rawBytes(value.B);
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS) return value.SS.reduce((sum, s) => sum + Buffer.byteLength(s), 0);
  if (value.NS) return value.NS.reduce((sum, n) => sum + numberSize(n), 0);
  if (value.BS) return value.BS.reduce((sum, b) => sum + rawBytes(b), 0);
  if (value.L) return 3 + value.L.reduce((sum, v) => sum + 1 + valueSize(v), 0);
  if (value.M)
    return (
      3 + Object.entries(value.M).reduce((sum, [k, v]) => sum + 1 + Buffer.byteLength(k) + valueSize(v), 0)
    );
  return 0;
}

function numberSize(n: string): number {
  const digits = n.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(digits.length / 2) + 1;
}

const rawBytes = (b: unknown) =>
  typeof b === 'string' ? Buffer.from(b, 'base64').length : ((b as Uint8Array | undefined)?.length ?? 0);

/** 2 units per started KB (a transaction writes each item twice), at least 2. */
const transactionalUnits = (bytes: number) => 2 * Math.max(1, Math.ceil(bytes / 1024));

interface Action {
  kind: 'Put' | 'Update' | 'Delete' | 'ConditionCheck';
  table: string;
  key?: Item;
  item?: Item;
}

function actionsOf(body: Json): Action[] {
  return ((body.TransactItems as Json[] | undefined) ?? []).flatMap((entry) =>
    (['Put', 'Update', 'Delete', 'ConditionCheck'] as const)
      .filter((kind) => entry[kind])
      .map((kind) => {
        const op = entry[kind] as Json;
        return {
          kind,
          table: String(op.TableName),
          key: op.Key as Item | undefined,
          item: op.Item as Item | undefined,
        };
      }),
  );
}

const keyId = (table: string, key: Item) => `${table}|${JSON.stringify(key, Object.keys(key).sort())}`;

/** The stored items of `actions` that name a key (all but Puts), read consistently. */
async function readItems(client: DynamoDBClient, actions: Action[], keySchemas: Map<string, string[]>) {
  const found = new Map<string, Item>();
  const byTable = new Map<string, Item[]>();
  for (const a of actions) if (a.key) byTable.set(a.table, [...(byTable.get(a.table) ?? []), a.key]);
  if (byTable.size === 0) return found;
  const out = await client.send(
    new BatchGetItemCommand({
      RequestItems: Object.fromEntries(
        [...byTable].map(([table, keys]) => [table, { Keys: dedupe(table, keys), ConsistentRead: true }]),
      ),
    }),
  );
  for (const [table, items] of Object.entries(out.Responses ?? {})) {
    const names = keySchemas.get(table) ?? [];
    for (const item of items)
      found.set(keyId(table, Object.fromEntries(names.map((n) => [n, item[n] as AttributeValue]))), item);
  }
  return found;
}

function dedupe(table: string, keys: Item[]): Item[] {
  const seen = new Map(keys.map((k) => [keyId(table, k), k]));
  return [...seen.values()];
}

/**
 * Measures a TransactWriteItems around its commit: `before()` reads the items it will change,
 * `after()` (once it committed) the items it updated, and `consumedCapacity()` gives the answer's
 * ConsumedCapacity as AWS would: per table, the sum over its actions.
 */
export function transactionCapacity(client: DynamoDBClient, body: Json, keySchemas: Map<string, string[]>) {
  const actions = actionsOf(body);
  let before = new Map<string, Item>();
  let after = new Map<string, Item>();
  return {
    async before() {
      before = await readItems(client, actions, keySchemas);
    },
    async after() {
      after = await readItems(
        client,
        actions.filter((a) => a.kind === 'Update'),
        keySchemas,
      );
    },
    consumedCapacity(): { TableName: string; CapacityUnits: number }[] {
      const units = new Map<string, number>();
      for (const a of actions) {
        const id = a.key ? keyId(a.table, a.key) : '';
        const bytes =
          a.kind === 'Put'
            ? itemSize(a.item)
            : Math.max(itemSize(before.get(id)), a.kind === 'Update' ? itemSize(after.get(id)) : 0);
        units.set(a.table, (units.get(a.table) ?? 0) + transactionalUnits(bytes));
      }
      return [...units].map(([TableName, CapacityUnits]) => ({ TableName, CapacityUnits }));
    },
  };
}
