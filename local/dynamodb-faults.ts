import { createServer, type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';
import { localDynamoClient } from './dynamodb.ts';
import { transactionCapacity } from './dynamodb-capacity.ts';
import type { ConflictModel, ConflictStats } from './dynamodb-conflicts.ts';
import { dynamoDbRequests } from './iam/action-mapping.ts';
import { callerOf } from './iam/caller-identity.ts';
import type { LocalIam } from './iam/local-iam.ts';
import { mulberry32, type Rng } from './prng.ts';

/**
 * The proxy in front of DynamoDB Local. Every client of the embedded stack reaches DynamoDB
 * through it (the handlers by AWS_ENDPOINT_URL_DYNAMODB, the state machine's direct tasks by their
 * client), so it:
 * - checks each handler call against the caller's role (iam/local-iam.ts) and answers a denied
 *   one with AccessDeniedException, as DynamoDB does;
 * - runs the transaction conflict model (dynamodb-conflicts.ts), when given one: a request that
 *   loses to one in flight gets DynamoDB's conflict error, an admitted transaction stays in flight
 *   for the model's hold before its answer leaves;
 * - injects faults, as below.
 *
 * It also injects faults: a harness can throttle the handlers' writes the way DynamoDB does: an
 * HTTP 400 `ProvisionedThroughputExceededException`, which the SDK retries with backoff and, once
 * its attempts are spent, throws. Reads and every request that does not match pass untouched.
 *
 * A rule like `{ match: jobId, after: 5, failures: 3 }` lets a job's first 5 writes through and
 * fails the next 3: with the SDK's 3 attempts, the worker dies with an exception after exactly 5
 * writes ("a worker crash mid-chunk"). `{ match: jobId, rate: 0.2 }` throttles a fifth of them.
 * `error: 'conflict'` answers with a transaction conflict on the second item, whatever is in
 * flight. `error: 'ambiguous'` lets the write commit, then drops the connection before the answer:
 * the caller cannot know whether it was applied (the SDK retries it with the same client token).
 */
export interface DynamoWriteFault {
  /** Only writes whose request body contains this string (e.g. a job id) are affected. */
  match: string;
  /** Which write operations are affected. @default ['TransactWriteItems'] */
  operations?: string[];
  /** Matching writes let through before any fails. @default 0 */
  after?: number;
  /** How many matching writes to fail at most. @default unlimited */
  failures?: number;
  /** Probability (0..1) that an eligible write fails. @default 1 */
  rate?: number;
  /** The first this many eligible writes fail whatever the rate, so that a trial injects something. @default 0 */
  initial?: number;
  /** PRNG seed of the rate draws. @default 1 */
  seed?: number;
  /**
   * What a failed write is answered with: `throttled` (ProvisionedThroughputExceededException) or
   * `conflict`, the TransactionCanceledException DynamoDB returns when another transaction holds
   * the second item (the job's counter) at the same time, or `ambiguous`: committed, then the
   * connection is dropped before the answer. @default 'throttled'
   */
  error?: 'throttled' | 'conflict' | 'ambiguous';
}

export interface DynamoFaultStats {
  /** Matching writes seen since the rule was set. */
  matched: number;
  /** Of those, answered with the injected throttling error. */
  injected: number;
}

export interface DynamoFaultProxy {
  endpoint: string;
  /** Sets (or with null, removes) the rule, and resets the counters. */
  setFault(fault: DynamoWriteFault | null): void;
  stats(): DynamoFaultStats;
  /** The conflict model's counters (all 0 when the model is off). */
  conflicts(): ConflictStats;
  /** The model in use, if any. */
  model?: ConflictModel;
  close(): Promise<void>;
}

const THROTTLED = {
  __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  message: 'Injected fault: the level of configured provisioned throughput for the table was exceeded.',
};

/** A transaction cancelled because its second item (the job) is in another ongoing transaction. */
function conflict(body: string) {
  let items = 2;
  try {
    items = (JSON.parse(body) as { TransactItems?: unknown[] }).TransactItems?.length ?? 2;
  } catch {
    // not JSON: answer for two items
  }
  const reasons = Array.from({ length: items }, (_, i) =>
    i === 1
      ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' }
      : { Code: 'None' },
  );
  return {
    __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
    Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
    CancellationReasons: reasons,
  };
}

/** The answer to a call `iam` denies, or undefined when it may go through. */
function denied(
  iam: LocalIam | undefined,
  req: IncomingMessage,
  operation: string,
  parsed: Record<string, unknown>,
) {
  const caller = callerOf(req.headers);
  if (!iam || !caller) return undefined;
  const denial = iam.authorize(caller, dynamoDbRequests(operation, parsed));
  return (
    denial && {
      __type: 'com.amazonaws.dynamodb.v20120810#AccessDeniedException',
      message: denial.message,
    }
  );
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The answer with its ConsumedCapacity replaced (its CRC32 no longer holds: the SDK checks it only when present). */
function rewriteCapacity(
  answer: Answer,
  rewrite: (c: Record<string, unknown>[]) => Record<string, unknown>[],
): Answer {
  try {
    const out = JSON.parse(answer.body.toString('utf8')) as { ConsumedCapacity?: Record<string, unknown>[] };
    if (!Array.isArray(out.ConsumedCapacity)) return answer;
    out.ConsumedCapacity = rewrite(out.ConsumedCapacity);
    const body = Buffer.from(JSON.stringify(out));
    const { 'x-amz-crc32': _crc, ...headers } = answer.headers;
    return { status: answer.status, headers: { ...headers, 'content-length': String(body.length) }, body };
  } catch {
    return answer;
  }
}

/** A replayed client token reports the read units DynamoDB spent checking it, not write units. */
const asReadUnits = (answer: Answer) =>
  rewriteCapacity(answer, (consumed) =>
    consumed.map((c) => ({
      TableName: c.TableName,
      CapacityUnits: c.CapacityUnits,
      ReadCapacityUnits: c.CapacityUnits,
    })),
  );

/** A transaction's write units as AWS counts them (DynamoDB Local reports one item's worth per table). */
const withCapacity = (answer: Answer, consumed: { TableName: string; CapacityUnits: number }[]) =>
  rewriteCapacity(answer, () => consumed);

/** How long the proxy waits for DynamoDB Local before answering 502 itself. */
const UPSTREAM_TIMEOUT_MS = 60_000;

const NO_CONFLICTS: ConflictStats = {
  transactionsCancelled: 0,
  singleWritesRefused: 0,
  transactGetsCancelled: 0,
  replays: 0,
};

export async function startDynamoFaultProxy(
  target: string,
  iam?: LocalIam,
  model?: ConflictModel,
  listenPort = 0,
): Promise<DynamoFaultProxy> {
  const upstream = new URL(target);
  let fault: DynamoWriteFault | null = null;
  let rng: Rng = mulberry32(1);
  let stats: DynamoFaultStats = { matched: 0, injected: 0 };

  const shouldFail = (operation: string, body: string): boolean => {
    if (!fault || !(fault.operations ?? ['TransactWriteItems']).includes(operation)) return false;
    if (!body.includes(fault.match)) return false;
    stats.matched++;
    if (stats.matched <= (fault.after ?? 0)) return false;
    if (stats.injected >= (fault.failures ?? Number.POSITIVE_INFINITY)) return false;
    const eligible = stats.matched - (fault.after ?? 0);
    if (eligible > (fault.initial ?? 0) && rng() >= (fault.rate ?? 1)) return false;
    stats.injected++;
    return true;
  };

  /** Sends the request on to DynamoDB Local and reads its whole answer. */
  const forward = (req: IncomingMessage, body: Buffer) =>
    new Promise<Answer>((resolve) => {
      const out = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (d: Buffer) => parts.push(d));
          answer.on('end', () =>
            resolve({
              status: answer.statusCode ?? 502,
              headers: answer.headers,
              body: Buffer.concat(parts),
            }),
          );
          // A broken answer must still end the request (and free its items in the model).
          answer.on('error', (error) => out.destroy(error));
        },
      );
      out.setTimeout(UPSTREAM_TIMEOUT_MS, () => out.destroy(new Error('no answer in time')));
      out.on('error', (error) =>
        resolve({
          status: 502,
          headers: { 'content-type': 'text/plain' },
          body: Buffer.from(`DynamoDB Local unreachable: ${error.message}`),
        }),
      );
      out.end(body);
    });

  const parse = (text: string): Record<string, unknown> | undefined => {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      return undefined; // not JSON: DynamoDB Local answers the malformed request itself
    }
  };
  // Reads item sizes for the transactions' write units (dynamodb-capacity.ts), past the proxy.
  const engine = model ? localDynamoClient(target) : undefined;

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    const text = body.toString('utf8');
    const injected = shouldFail(operation, text) ? (fault?.error ?? 'throttled') : undefined;
    // Parsed once: the IAM check and the conflict model read the same request.
    const request = parse(text);
    const error =
      denied(iam, req, operation, request ?? {}) ??
      (injected === 'conflict' ? conflict(text) : injected === 'throttled' ? THROTTLED : undefined);
    // The units AWS would charge, when asked for (the benchmark asks): measured around the commit.
    const capacity =
      !error &&
      engine &&
      model &&
      request &&
      operation === 'TransactWriteItems' &&
      request.ReturnConsumedCapacity
        ? transactionCapacity(engine, request, model.keySchemas)
        : undefined;
    await capacity?.before();
    const admission = !error && request && model ? model.admit(operation, request) : undefined;
    const refusal = error ? { status: 400, body: error } : admission?.error;
    const admitted = admission?.error ? undefined : admission;
    if (refusal) {
      res.writeHead(refusal.status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(refusal.body));
      return;
    }
    let answer = await forward(req, body);
    const committed = answer.status === 200;
    await Promise.all([
      admitted?.holdMs ? new Promise((r) => setTimeout(r, admitted.holdMs)) : undefined,
      committed && !admitted?.replay ? capacity?.after() : undefined,
    ]);
    admitted?.release(committed);
    if (injected === 'ambiguous' && committed) {
      // Applied, but the caller never hears it: a timeout or a reset connection on AWS.
      res.socket?.destroy();
      return;
    }
    if (committed && admitted?.replay) answer = asReadUnits(answer);
    else if (committed && capacity) answer = withCapacity(answer, capacity.consumedCapacity());
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };

  return {
    endpoint: `http://127.0.0.1:${port}`,
    setFault(next) {
      if (next && (next.rate ?? 1) > 1) throw new Error('rate must be within 0..1');
      fault = next ? { ...next } : null;
      rng = mulberry32(next?.seed ?? 1);
      stats = { matched: 0, injected: 0 };
    },
    stats: () => ({ ...stats }),
    conflicts: () => model?.stats() ?? { ...NO_CONFLICTS },
    ...(model ? { model } : {}),
    close: () =>
      new Promise<void>((resolve) => {
        engine?.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
