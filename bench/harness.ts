import { readdirSync, readFileSync } from 'node:fs';
import {
  type ExecutionListItem,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { ROUTES, type RouteName, routePath } from '#shared/api/routes.ts';
import { conflictRetries } from '#shared/store/conflict-retry.ts';
import { ddb, tables } from '#shared/store/db.ts';
import { JOB_SK } from '#shared/store/table-keys.ts';
import { signLocalToken } from '../local/auth.ts';
import type { SimPage } from '../local/graph-sim/demo-data.ts';
import { LambdaRuntime } from '../local/lambda-runtime.ts';
import { DATA_DIR, type LocalStack, startLocalStack } from '../local/local-stack.ts';
import { capacityUnits } from './stats.ts';

/**
 * The embedded stack (local/local-stack.ts) with the benchmark's counters around it, all real:
 * - every Lambda invocation, timed, with its function and job (LambdaRuntime.invoke is wrapped);
 * - every DynamoDB request of the handlers and of the state machine's direct integrations, sent
 *   with ReturnConsumedCapacity=TOTAL, and the units DynamoDB Local answers added up;
 * - the executions and their history, read back through the Step Functions API.
 * One stack per process: the handlers' SDK clients are module-scope, bound to the first endpoints.
 */

export interface Invocation {
  fn: string;
  jobId?: string;
  start: number;
  end: number;
  /** Conversations a chunk worker sent to the analyzer (from its result). */
  analysed?: number;
  /** The invocation threw (for a chunk: an attempt the workflow retries or catches). */
  failed?: boolean;
}

export const counters = {
  invocations: [] as Invocation[],
  readUnits: 0,
  writeUnits: 0,
  /** Read units of replayed transactions (a client token already committed): not writes. */
  replayReadUnits: 0,
  dynamoRequests: 0,
  /**
   * Committed contact commits that include the job item: TransactWriteItems with a contact (or a
   * failed-conversation marker) and the job's counter. Lifecycle writes are not counted.
   */
  jobItemWrites: 0,
  /** Invocations still running, by job. */
  inFlight: new Map<string, number>(),
  reset() {
    this.invocations = [];
    this.readUnits = 0;
    this.writeUnits = 0;
    this.replayReadUnits = 0;
    this.dynamoRequests = 0;
    this.jobItemWrites = 0;
    conflictRetries.conflicts = 0;
    conflictRetries.retries = 0;
    conflictRetries.gaveUp = 0;
  },
};

const CAPACITY_OPERATIONS = new Set([
  'GetItemCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
  'TransactGetItemsCommand',
]);

const READS = new Set([
  'GetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'TransactGetItemsCommand',
]);

type Stack = { add: (mw: unknown, opts: object) => void };

type TransactItem = Record<
  string,
  { TableName?: string; Key?: Record<string, unknown>; Item?: Record<string, unknown> }
>;

/** A contact commit: a transaction with a contact or failure marker, and the job item. */
function isContactCommitWithJob(input: Record<string, unknown>): boolean {
  const ops = ((input.TransactItems as TransactItem[] | undefined) ?? []).flatMap((i) => Object.values(i));
  const sk = (op: (typeof ops)[number]) => (op.Key ?? op.Item)?.sk;
  const jobItem = ops.some((op) => op.TableName === tables.jobs && sk(op) === JOB_SK);
  const contact = ops.some(
    (op) =>
      op.TableName === tables.contacts ||
      (op.TableName === tables.jobs && String(sk(op)).startsWith('FAILED#')),
  );
  return jobItem && contact;
}

/** Asks DynamoDB for the units of every request and adds them up (the client's own middleware). */
function countCapacity(client: { middlewareStack: unknown }): void {
  (client.middlewareStack as Stack).add(
    (
      next: (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>,
      context: { commandName?: string },
    ) =>
      async (args: { input: Record<string, unknown> }) => {
        const counted = CAPACITY_OPERATIONS.has(context.commandName ?? '');
        if (counted) args.input.ReturnConsumedCapacity ??= 'TOTAL';
        const result = await next(args);
        if (counted) {
          counters.dynamoRequests++;
          const units = capacityUnits(
            result.output.ConsumedCapacity,
            READS.has(context.commandName ?? '') ? 'read' : 'write',
          );
          if (context.commandName === 'TransactWriteItemsCommand') {
            counters.replayReadUnits += units.read;
            if (isContactCommitWithJob(args.input)) counters.jobItemWrites++;
          } else counters.readUnits += units.read;
          counters.writeUnits += units.write;
        }
        return result;
      },
    { step: 'initialize', name: 'benchConsumedCapacity', override: true },
  );
}

/** The job an invocation works on: a worker's input, or the JSON body of an HTTP request. */
function jobIdOf(event: unknown): unknown {
  const e = event as { jobId?: unknown; body?: unknown } | null;
  if (e?.jobId !== undefined || typeof e?.body !== 'string') return e?.jobId;
  try {
    return (JSON.parse(e.body) as { jobId?: unknown }).jobId;
  } catch {
    return undefined;
  }
}

let lambdaWrapped = false;
function timeLambdas(): void {
  if (lambdaWrapped) return;
  lambdaWrapped = true;
  const invoke = LambdaRuntime.prototype.invoke;
  LambdaRuntime.prototype.invoke = async function timed(
    this: LambdaRuntime,
    arnOrId: string,
    event: unknown,
  ) {
    const start = performance.now();
    const jobId = jobIdOf(event);
    const fn = arnOrId.split(':').pop() ?? arnOrId;
    const job = typeof jobId === 'string' ? jobId : undefined;
    if (job) counters.inFlight.set(job, (counters.inFlight.get(job) ?? 0) + 1);
    let analysed: number | undefined;
    let failed = false;
    try {
      const result = await invoke.call(this, arnOrId, event);
      const n = (result as { analysed?: unknown } | null)?.analysed;
      if (typeof n === 'number') analysed = n;
      return result;
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      if (job) counters.inFlight.set(job, (counters.inFlight.get(job) ?? 1) - 1);
      counters.invocations.push({
        fn,
        ...(job ? { jobId: job } : {}),
        start,
        end: performance.now(),
        ...(analysed === undefined ? {} : { analysed }),
        ...(failed ? { failed } : {}),
      });
    }
  };
}

export interface BenchStack {
  stack: LocalStack;
  sfn: SFNClient;
  token: string;
  /** MemorySize (MB) of each function, by logical id prefix, from the synthesized template. */
  memoryMbOf(fn: string): number;
}

export async function startBenchStack(opts: {
  pages: SimPage[];
  context?: Record<string, unknown>;
  graphSimLatencyMs?: number;
  graphApiUrl?: string;
}): Promise<BenchStack> {
  timeLambdas();
  countCapacity(ddb);
  const stack = await startLocalStack({
    port: 0,
    sfnPort: 0,
    graphSimPort: 0,
    pages: opts.pages,
    context: opts.context,
    graphSimLatencyMs: opts.graphSimLatencyMs ?? 0,
    ...(opts.graphApiUrl ? { graphApiUrl: opts.graphApiUrl } : {}),
  });
  countCapacity(stack.dynamo);
  const sfn = new SFNClient({
    endpoint: stack.sfnEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const token = await signLocalToken(DATA_DIR, { org: 'demo-org', user: 'bench' });
  const memory = new Map<string, number>();
  for (const [id, resource] of Object.entries(stack.template.Resources ?? {})) {
    const r = resource as { Type?: string; Properties?: { MemorySize?: number } };
    if (r.Type === 'AWS::Lambda::Function') memory.set(id, r.Properties?.MemorySize ?? 128);
  }
  return {
    stack,
    sfn,
    token,
    memoryMbOf: (fn) => {
      for (const [id, mb] of memory) if (fn === id || fn.startsWith(id) || id.startsWith(fn)) return mb;
      return 512;
    },
  };
}

export interface Api {
  start(pageId: string, mode?: 'incremental' | 'full'): Promise<string>;
  cancel(jobId: string): Promise<{ ms: number; status: number; body: CancelBody }>;
  pause(jobId: string): Promise<{ ms: number; status: number; body: CancelBody }>;
  status(jobId: string): Promise<JobStatus>;
}

export interface JobStatus {
  status: string;
  syncedContacts: number;
  failedContacts: number;
  totalContacts: number | null;
}
interface CancelBody {
  job?: { status: string; syncedContacts: number; failedContacts: number };
  error?: string;
}

export function api(b: BenchStack): Api {
  /** A route of the route table (shared/api/routes.ts), at `path` (default: its own). */
  const call = async (route: RouteName, body?: unknown, path: string = ROUTES[route].path) => {
    const res = await fetch(`${b.stack.apiUrl}${path}`, {
      method: ROUTES[route].method,
      headers: {
        authorization: `Bearer ${b.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
  };
  return {
    async start(pageId, mode) {
      for (let attempt = 0; ; attempt++) {
        const res = await call('startSync', {
          pageId,
          ...(mode ? { mode } : {}),
        });
        if (res.status === 202) return String(res.body.jobId);
        // The previous job's lock is freed a moment after it ends.
        if (res.status !== 409 || attempt > 50)
          throw new Error(`start: ${res.status} ${JSON.stringify(res.body)}`);
        await sleep(100);
      }
    },
    async cancel(jobId) {
      const t0 = performance.now();
      const res = await call('cancelSync', { jobId, reason: 'bench' });
      return { ms: performance.now() - t0, status: res.status, body: res.body as CancelBody };
    },
    async pause(jobId) {
      const t0 = performance.now();
      const res = await call('pauseSync', { jobId });
      return { ms: performance.now() - t0, status: res.status, body: res.body as CancelBody };
    },
    async status(jobId) {
      const res = await call('syncStatus', undefined, routePath('syncStatus', { jobId }));
      if (res.status !== 200) throw new Error(`status: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.job as JobStatus;
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls sync-status until the job leaves PENDING/IN_PROGRESS. */
export async function waitForEnd(a: Api, jobId: string, intervalMs = 100): Promise<JobStatus> {
  for (;;) {
    const job = await a.status(jobId);
    if (job.status !== 'PENDING' && job.status !== 'IN_PROGRESS') return job;
    await sleep(intervalMs);
  }
}

/** The job's executions (its own and its continuations), once none is RUNNING. */
export async function settledExecutions(b: BenchStack, jobId: string): Promise<ExecutionListItem[]> {
  for (let i = 0; ; i++) {
    const { executions = [] } = await b.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: b.stack.machines[0]?.arn, maxResults: 100_000 }),
    );
    const mine = executions.filter((e) => e.name === jobId || e.name?.startsWith(`${jobId}-`));
    if (mine.length > 0 && mine.every((e) => e.status !== 'RUNNING')) return mine;
    if (i > 600) throw new Error(`executions of ${jobId} never settled`);
    await sleep(50);
  }
}

export async function historyOf(b: BenchStack, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await b.sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/**
 * Figures of one execution's history. The local history records the events AWS records (state
 * entries and exits, TaskScheduled, TaskStarted and TaskSucceeded/Failed per task attempt, the
 * Map's events), so `awsEvents` is its length: the count the 25,000-event limit applies to.
 * `transitions` is what Standard bills: one per state entered.
 */
/** The states `cancelChecks: false` removes: each chunk's cancel check and the Choice after it. */
const CHUNK_CHECK_STATE = /^(Check if cancelled before the chunk|Is job still running\? \(chunk\))$/;
/** A worker turn: one staged chunk (or a slot's last look for one). */
const CHUNK_TURN_STATE = 'Process a staged chunk';

export function historyFigures(events: HistoryEvent[]) {
  const entered = events.filter((e) => String(e.type).endsWith('StateEntered'));
  const tasks = entered.filter((e) => e.type === 'TaskStateEntered').length;
  const chunkTurns = entered.filter((e) => e.stateEnteredEventDetails?.name === CHUNK_TURN_STATE).length;
  // Time spent in the per-chunk checks: the sum of (exited - entered) over every check, which is
  // the sum of the exit times minus the sum of the entry times, however the iterations interleave.
  let checkMs = 0;
  for (const e of events) {
    const name = e.stateEnteredEventDetails?.name ?? e.stateExitedEventDetails?.name ?? '';
    if (!CHUNK_CHECK_STATE.test(name)) continue;
    const at = e.timestamp?.getTime() ?? 0;
    if (String(e.type).endsWith('StateEntered')) checkMs -= at;
    else if (String(e.type).endsWith('StateExited')) checkMs += at;
  }
  return {
    localEvents: events.length,
    awsEvents: events.length,
    transitions: entered.length,
    checkMs,
    tasks,
    chunkTurns,
  };
}

/** Peak resident memory of this process (workers, simulator, state machine engine, API emulator). */
export const processPeakRssMb = () => process.resourceUsage().maxRSS / 1024;

/** Peak resident memory of this process's child processes (DynamoDB Local's JVM), from /proc. */
export function childrenPeakRssMb(): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (hwm) total += Number(hwm[1]) / 1024;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}
