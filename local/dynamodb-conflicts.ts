/**
 * DynamoDB's transaction conflicts, which DynamoDB Local never produces: it runs transactions one
 * after another. On AWS they run concurrently, and the developer guide ("Transaction conflict
 * handling in DynamoDB") lists when one request loses to another on the same item:
 *
 * - a PutItem, UpdateItem or DeleteItem on an item that an in-flight TransactWriteItems includes
 *   fails with TransactionConflictException;
 * - a TransactWriteItems that includes an item of another in-flight TransactWriteItems, or an item
 *   with a single-item write in flight, is cancelled (TransactionCanceledException, reason
 *   TransactionConflict on that item, None on the others);
 * - a TransactGetItems that includes an item with any write in flight (a transaction, a
 *   BatchWriteItem, a PutItem, UpdateItem or DeleteItem) is cancelled the same way.
 *
 * GetItem, Query and Scan never conflict. A transaction is "in flight" from the moment the model
 * admits it until its answer leaves, which the proxy (dynamodb-faults.ts) delays by `txHoldMs`
 * after DynamoDB Local has answered: AWS publishes no transaction latency, and DynamoDB Local's
 * own is well under a millisecond, so without a hold no two transactions would ever overlap.
 * A single-item write stays in flight for the local engine's time only (`writeHoldMs`, 0 unless
 * a test widens it).
 *
 * Left out (docs/dynamodb-conflicts.md): a BatchWriteItem that meets a transaction is let through
 * (AWS does not document that case); TransactGetItems does not block the writes that follow it;
 * conflicts are per item, never per partition; the 10-minute idempotency window of
 * ClientRequestToken is kept by DynamoDB Local itself, the model only counts the replays.
 */

type Json = Record<string, unknown>;

export interface ConflictModelOptions {
  /** Attribute names of each table's primary key, by table name. */
  keySchemas: Map<string, string[]>;
  /** How long a transaction stays in flight after the engine answered it. @default 25 */
  txHoldMs?: number;
  /** How long a single-item write stays in flight after the engine answered it. @default 0 */
  writeHoldMs?: number;
}

export interface ConflictStats {
  /** TransactWriteItems cancelled with a TransactionConflict reason. */
  transactionsCancelled: number;
  /** PutItem, UpdateItem and DeleteItem refused with TransactionConflictException. */
  singleWritesRefused: number;
  /** TransactGetItems cancelled because an item had a write in flight. */
  transactGetsCancelled: number;
  /** TransactWriteItems whose ClientRequestToken had already committed (answered, not re-run). */
  replays: number;
}

/** What the model decided for one request: an error to answer with, or a slot to release later. */
export interface Admitted {
  error?: undefined;
  /** How long to keep the request in flight after the engine answered. */
  holdMs: number;
  /** A transaction whose client token already committed: DynamoDB answers it without re-running it. */
  replay: boolean;
  /** Ends the request's time in flight; `committed` says whether the engine applied it. */
  release(committed?: boolean): void;
}
export type Admission = { error: { status: 400; body: Json } } | Admitted;

const SINGLE_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);
const TRANSACT_KINDS = ['Put', 'Update', 'Delete', 'ConditionCheck', 'Get'] as const;
/** How long DynamoDB remembers a transaction's client token. */
const TOKEN_WINDOW_MS = 10 * 60_000;

export const TX_CONFLICT_MESSAGE = 'Transaction is ongoing for the item';

export class ConflictModel {
  readonly txHoldMs: number;
  private readonly writeHoldMs: number;
  /** Items in in-flight TransactWriteItems, and items with a single-item write in flight. */
  private readonly inTransaction = new Map<string, number>();
  private readonly inSingleWrite = new Map<string, number>();
  /** Client tokens of committed transactions, with when they committed. */
  private readonly tokens = new Map<string, number>();
  private counts: ConflictStats = emptyStats();

  /** The tables' key attributes (the proxy also uses them to measure item sizes). */
  readonly keySchemas: Map<string, string[]>;

  constructor(private readonly options: ConflictModelOptions) {
    this.keySchemas = options.keySchemas;
    this.txHoldMs = options.txHoldMs ?? 25;
    this.writeHoldMs = options.writeHoldMs ?? 0;
  }

  stats(): ConflictStats {
    return { ...this.counts };
  }

  resetStats(): void {
    this.counts = emptyStats();
  }

  /** Decides `operation` with request `body` against what is in flight now. */
  admit(operation: string, body: Json): Admission {
    if (operation === 'TransactWriteItems') return this.admitTransaction(body);
    if (operation === 'TransactGetItems') return this.admitTransactGet(body);
    if (SINGLE_WRITES.has(operation)) return this.admitSingleWrite(this.keyOf(body.TableName, body));
    if (operation === 'BatchWriteItem') return this.hold(this.inSingleWrite, this.batchKeys(body), 0);
    return pass;
  }

  /** `DYNAMODB_CONFLICT_LOG=1`: one stderr line per conflict, naming the items (debugging). */
  private readonly log = process.env.DYNAMODB_CONFLICT_LOG === '1';
  private report(operation: string, keys: (string | undefined)[]): void {
    if (this.log)
      console.error(`[conflict] ${new Date().toISOString()} ${operation} ${keys.filter(Boolean).join(' ')}`);
  }

  private admitTransaction(body: Json): Admission {
    const token = typeof body.ClientRequestToken === 'string' ? body.ClientRequestToken : undefined;
    if (token && this.committed(token)) {
      this.counts.replays++;
      return { holdMs: 0, replay: true, release: () => {} };
    }
    const keys = transactItems(body).map(([, op]) => this.keyOf(op.TableName, op));
    const reasons = keys.map((k) => (k && (this.inTransaction.has(k) || this.inSingleWrite.has(k)) ? 1 : 0));
    if (reasons.includes(1)) {
      this.counts.transactionsCancelled++;
      this.report(
        'TransactWriteItems',
        keys.filter((_, i) => reasons[i]),
      );
      return { error: cancelled(reasons) };
    }
    const admitted = this.hold(this.inTransaction, keys, this.txHoldMs);
    return {
      ...admitted,
      release: (committed) => {
        admitted.release(committed);
        if (committed && token) this.tokens.set(token, Date.now());
      },
    };
  }

  private admitTransactGet(body: Json): Admission {
    const keys = transactItems(body).map(([, op]) => this.keyOf(op.TableName, op));
    const reasons = keys.map((k) => (k && (this.inTransaction.has(k) || this.inSingleWrite.has(k)) ? 1 : 0));
    if (!reasons.includes(1)) return pass;
    this.counts.transactGetsCancelled++;
    return { error: cancelled(reasons) };
  }

  private admitSingleWrite(key: string | undefined): Admission {
    if (key && this.inTransaction.has(key)) {
      this.counts.singleWritesRefused++;
      this.report('single write', [key]);
      return {
        error: {
          status: 400,
          body: {
            __type: 'com.amazonaws.dynamodb.v20120810#TransactionConflictException',
            message: TX_CONFLICT_MESSAGE,
          },
        },
      };
    }
    return this.hold(this.inSingleWrite, [key], this.writeHoldMs);
  }

  /** Marks `keys` in flight in `set` until release. */
  private hold(set: Map<string, number>, keys: (string | undefined)[], holdMs: number): Admitted {
    const held = keys.filter((k): k is string => k !== undefined);
    for (const k of held) set.set(k, (set.get(k) ?? 0) + 1);
    let released = false;
    return {
      holdMs,
      replay: false,
      release: () => {
        if (released) return;
        released = true;
        for (const k of held) {
          const n = (set.get(k) ?? 1) - 1;
          if (n > 0) set.set(k, n);
          else set.delete(k);
        }
      },
    };
  }

  private committed(token: string): boolean {
    const at = this.tokens.get(token);
    if (at === undefined) return false;
    if (Date.now() - at <= TOKEN_WINDOW_MS) return true;
    this.tokens.delete(token);
    return false;
  }

  /** `table|<key values>` of the item a request names by `Key` or carries as `Item`. */
  private keyOf(table: unknown, op: Json): string | undefined {
    const names = typeof table === 'string' ? this.options.keySchemas.get(table) : undefined;
    const source = (op.Key ?? op.Item) as Json | undefined;
    if (!names || !source) return undefined;
    return `${table}|${names.map((n) => JSON.stringify(source[n] ?? null)).join('|')}`;
  }

  private batchKeys(body: Json): (string | undefined)[] {
    return Object.entries((body.RequestItems as Record<string, Json[]> | undefined) ?? {}).flatMap(
      ([table, requests]) =>
        requests.map((r) => {
          const put = r.PutRequest as Json | undefined;
          const del = r.DeleteRequest as Json | undefined;
          return this.keyOf(table, (put ?? del ?? {}) as Json);
        }),
    );
  }
}

const pass: Admitted = { holdMs: 0, replay: false, release: () => {} };

function emptyStats(): ConflictStats {
  return { transactionsCancelled: 0, singleWritesRefused: 0, transactGetsCancelled: 0, replays: 0 };
}

function transactItems(body: Json): [string, Json][] {
  return ((body.TransactItems as Json[] | undefined) ?? []).flatMap((item) =>
    TRANSACT_KINDS.filter((kind) => item[kind]).map((kind) => [kind, item[kind] as Json] as [string, Json]),
  );
}

/** TransactionCanceledException with one reason per item, in request order, as DynamoDB words it. */
function cancelled(conflicting: number[]): { status: 400; body: Json } {
  const reasons = conflicting.map((c) =>
    c ? { Code: 'TransactionConflict', Message: TX_CONFLICT_MESSAGE } : { Code: 'None' },
  );
  return {
    status: 400,
    body: {
      __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
      CancellationReasons: reasons,
    },
  };
}

/** `DYNAMODB_CONFLICTS` (on unless `off`) and `DYNAMODB_TX_HOLD_MS` (default 25). */
export function conflictSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): {
  enabled: boolean;
  txHoldMs: number;
} {
  const raw = env.DYNAMODB_CONFLICTS?.trim().toLowerCase();
  if (raw !== undefined && raw !== '' && raw !== 'on' && raw !== 'off')
    throw new Error(`DYNAMODB_CONFLICTS must be on or off, not ${JSON.stringify(env.DYNAMODB_CONFLICTS)}`);
  const hold = env.DYNAMODB_TX_HOLD_MS?.trim();
  const txHoldMs = hold ? Number(hold) : 25;
  if (!Number.isFinite(txHoldMs) || txHoldMs < 0 || txHoldMs > 10_000)
    throw new Error(
      `DYNAMODB_TX_HOLD_MS must be a number of milliseconds (0..10000), not ${JSON.stringify(hold)}`,
    );
  return { enabled: raw !== 'off', txHoldMs };
}
