import { AwsJsonError } from './aws-json-server.ts';
import type { HistoryEvent } from './sfn-history.ts';

/**
 * The read calls of the local Step Functions API, answered in the shapes AWS answers them (dates
 * in epoch seconds, as the JSON 1.0 protocol carries them): ListStateMachines,
 * DescribeStateMachine, DescribeStateMachineForExecution, ListExecutions (newest first),
 * DescribeExecution and GetExecutionHistory, with AWS's paging (`maxResults`, opaque `nextToken`s
 * that fail with InvalidToken when they are not this request's), validation and error codes.
 *
 * Page sizes: a call over the wire gets AWS's default page (100) without `maxResults` and at most
 * AWS's largest (1000) with one (see `wirePageSize`); a harness calling in-process gets everything
 * unless it asks for less.
 */
type Json = Record<string, unknown>;
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface StateMachineRecord {
  arn: string;
  name: string;
  definition: Json;
  roleArn: string;
  creationDate: number;
  loggingConfiguration: Json;
  tracingConfiguration: Json;
}

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  /** Start order: the newest execution has the highest. */
  seq: number;
  events: HistoryEvent[];
}

export interface ExecutionListItem {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number;
  redriveCount: number;
}

export interface SfnStore {
  machines(): Iterable<StateMachineRecord>;
  machine(arn: string): StateMachineRecord | undefined;
  executions(): Iterable<ExecutionRecord>;
  execution(arn: string): ExecutionRecord | undefined;
}

const STATUSES = ['SUCCEEDED', 'TIMED_OUT', 'PENDING_REDRIVE', 'ABORTED', 'FAILED', 'RUNNING'];
/** The operations that page, and AWS's default and largest page. */
export const PAGED_OPERATIONS = new Set(['GetExecutionHistory', 'ListExecutions', 'ListStateMachines']);
const DEFAULT_PAGE = 100;
const LARGEST_PAGE = 1000;
/** AWS's pagination tokens expire after 24 hours. */
const TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

const invalid = (message: string) =>
  new AwsJsonError('ValidationException', `1 validation error detected: ${message}`);

/**
 * The page size of a call over the wire: AWS's default when `maxResults` is absent or 0. AWS
 * refuses more than 1000 with a ValidationException; the local endpoint serves its largest page
 * instead, because the project's own harnesses ask for more and page on.
 */
export function wirePageSize(maxResults: unknown): unknown {
  if (maxResults === undefined || maxResults === null || maxResults === 0) return DEFAULT_PAGE;
  return typeof maxResults === 'number' && maxResults > LARGEST_PAGE ? LARGEST_PAGE : maxResults;
}

function pageSize(maxResults: unknown): number {
  if (maxResults === undefined || maxResults === null || maxResults === 0) return Number.POSITIVE_INFINITY;
  if (!Number.isInteger(maxResults) || (maxResults as number) < 0)
    throw invalid(
      `Value '${maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 0`,
    );
  return maxResults as number;
}

/** A request's ARN of `kind`, else the error AWS answers for it. */
export function checkArn(value: unknown, field: string, kind: 'stateMachine' | 'execution'): string {
  if (value === undefined || value === null)
    throw invalid(`Value null at '${field}' failed to satisfy constraint: Member must not be null`);
  const arn = String(value);
  if (arn.length < 1 || arn.length > 256)
    throw invalid(
      `Value '${arn}' at '${field}' failed to satisfy constraint: Member must have length less than or equal to 256`,
    );
  const parts = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:([A-Za-z]+):(.+)$/.exec(arn);
  if (!parts) throw new AwsJsonError('InvalidArn', `Invalid Arn: 'Invalid ARN prefix: ${arn}'`);
  const [, type, rest = ''] = parts;
  const wellFormed = kind === 'execution' ? /^[^:]+:[^:]+$/.test(rest) : /^[^:]+$/.test(rest);
  if (type !== kind)
    throw new AwsJsonError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${type}'`);
  if (!wellFormed) throw new AwsJsonError('InvalidArn', `Invalid Arn: 'Invalid Arn resource: ${arn}'`);
  return arn;
}

/** Opaque page tokens: where the next page starts, for this operation and these arguments only. */
function pageToken(operation: string, scope: string, after: string | number): string {
  return Buffer.from(JSON.stringify({ o: operation, s: scope, a: after, t: Date.now() })).toString(
    'base64url',
  );
}

function readPageToken(token: unknown, operation: string, scope: string): string | number {
  const text = String(token);
  if (text.length > 3096)
    throw invalid(
      `Value '${text}' at 'nextToken' failed to satisfy constraint: Member must have length less than or equal to 3096`,
    );
  let cursor: { o?: unknown; s?: unknown; a?: unknown; t?: unknown };
  try {
    cursor = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new AwsJsonError('InvalidToken', `Invalid Token: 'Invalid nextToken: ${text}'`);
  }
  const after = cursor?.a;
  if (
    cursor?.o !== operation ||
    cursor.s !== scope ||
    (typeof after !== 'string' && typeof after !== 'number')
  )
    throw new AwsJsonError('InvalidToken', `Invalid Token: 'Invalid nextToken: ${text}'`);
  if (typeof cursor.t !== 'number' || Date.now() - cursor.t > TOKEN_TTL_MS)
    throw new AwsJsonError('InvalidToken', `Invalid Token: 'Token expired: ${text}'`);
  return after;
}

/** The events with their data (inputs, outputs) left out, as `includeExecutionData: false` asks. */
function withoutData(event: HistoryEvent): HistoryEvent {
  const copy: HistoryEvent = { ...event };
  for (const [key, value] of Object.entries(event)) {
    if (!key.endsWith('EventDetails') || !value || typeof value !== 'object') continue;
    const { input: _input, output: _output, ...rest } = value as Json;
    copy[key] = rest;
  }
  return copy;
}

export class SfnReadApi {
  constructor(private readonly store: SfnStore) {}

  machine(arn: unknown, field = 'stateMachineArn'): StateMachineRecord {
    const checked = checkArn(arn, field, 'stateMachine');
    const machine = this.store.machine(checked);
    if (!machine)
      throw new AwsJsonError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${checked}'`);
    return machine;
  }

  execution(arn: unknown): ExecutionRecord {
    const checked = checkArn(arn, 'executionArn', 'execution');
    const execution = this.store.execution(checked);
    if (!execution) throw new AwsJsonError('ExecutionDoesNotExist', `Execution Does Not Exist: '${checked}'`);
    return execution;
  }

  listStateMachines(req: { maxResults?: number; nextToken?: string }): Json {
    const size = pageSize(req.maxResults);
    const after = req.nextToken ? String(readPageToken(req.nextToken, 'ListStateMachines', '')) : undefined;
    const machines = [...this.store.machines()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .filter((m) => after === undefined || m.name > after);
    const page = machines.slice(0, size);
    const last = page.at(-1);
    return {
      stateMachines: page.map((m) => ({
        stateMachineArn: m.arn,
        name: m.name,
        type: 'STANDARD',
        creationDate: m.creationDate,
      })),
      ...(machines.length > page.length && last
        ? { nextToken: pageToken('ListStateMachines', '', last.name) }
        : {}),
    };
  }

  describeStateMachine(req: { stateMachineArn?: string }): Json {
    const m = this.machine(req.stateMachineArn);
    return {
      stateMachineArn: m.arn,
      name: m.name,
      status: 'ACTIVE',
      definition: JSON.stringify(m.definition),
      roleArn: m.roleArn,
      type: 'STANDARD',
      creationDate: m.creationDate,
      loggingConfiguration: m.loggingConfiguration,
      tracingConfiguration: m.tracingConfiguration,
    };
  }

  describeStateMachineForExecution(req: { executionArn?: string }): Json {
    const execution = this.execution(req.executionArn);
    const m = this.machine(execution.stateMachineArn);
    return {
      stateMachineArn: m.arn,
      name: m.name,
      definition: JSON.stringify(m.definition),
      roleArn: m.roleArn,
      updateDate: m.creationDate,
      loggingConfiguration: m.loggingConfiguration,
      tracingConfiguration: m.tracingConfiguration,
    };
  }

  listExecutions(req: {
    stateMachineArn?: string;
    mapRunArn?: string;
    statusFilter?: string;
    redriveFilter?: string;
    maxResults?: number;
    nextToken?: string;
  }): { executions: ExecutionListItem[]; nextToken?: string } {
    if (req.mapRunArn !== undefined && req.stateMachineArn === undefined)
      throw new AwsJsonError('ResourceNotFound', `Resource not found: '${req.mapRunArn}'`);
    if (req.stateMachineArn === undefined)
      throw new AwsJsonError('ValidationException', 'Must provide a StateMachine ARN or MapRun ARN');
    const machine = this.machine(req.stateMachineArn);
    const filter = req.statusFilter;
    if (filter !== undefined && !STATUSES.includes(filter))
      throw invalid(
        `Value '${filter}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [${STATUSES.join(', ')}]`,
      );
    const size = pageSize(req.maxResults);
    const scope = `${machine.arn}|${filter ?? ''}|${req.redriveFilter ?? ''}`;
    const after = req.nextToken ? Number(readPageToken(req.nextToken, 'ListExecutions', scope)) : undefined;
    const matching = [...this.store.executions()]
      .filter(
        (e) =>
          e.stateMachineArn === machine.arn &&
          (filter === undefined || e.status === filter) &&
          req.redriveFilter !== 'REDRIVEN' &&
          (after === undefined || e.seq < after),
      )
      .sort((a, b) => b.seq - a.seq);
    const page = matching.slice(0, size);
    const last = page.at(-1);
    return {
      executions: page.map(
        (e): ExecutionListItem => ({
          executionArn: e.executionArn,
          stateMachineArn: e.stateMachineArn,
          name: e.name,
          status: e.status,
          startDate: e.startDate,
          ...(e.stopDate === undefined ? {} : { stopDate: e.stopDate }),
          redriveCount: 0,
        }),
      ),
      ...(matching.length > page.length && last
        ? { nextToken: pageToken('ListExecutions', scope, last.seq) }
        : {}),
    };
  }

  describeExecution(req: { executionArn?: string; includedData?: string }): Json {
    const e = this.execution(req.executionArn);
    if (req.includedData !== undefined && !['ALL_DATA', 'METADATA_ONLY'].includes(req.includedData))
      throw invalid(
        `Value '${req.includedData}' at 'includedData' failed to satisfy constraint: Member must satisfy enum value set: [ALL_DATA, METADATA_ONLY]`,
      );
    const data = req.includedData !== 'METADATA_ONLY';
    return {
      executionArn: e.executionArn,
      stateMachineArn: e.stateMachineArn,
      name: e.name,
      status: e.status,
      startDate: e.startDate,
      ...(e.stopDate === undefined ? {} : { stopDate: e.stopDate }),
      ...(data ? { input: e.input } : {}),
      inputDetails: { included: data },
      ...(e.output === undefined
        ? {}
        : { ...(data ? { output: e.output } : {}), outputDetails: { included: data } }),
      ...(e.error === undefined ? {} : { error: e.error }),
      ...(e.cause === undefined ? {} : { cause: e.cause }),
      redriveCount: 0,
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason:
        e.status === 'RUNNING' || e.status === 'SUCCEEDED'
          ? `Execution is ${e.status} and cannot be redriven`
          : 'The local Step Functions does not redrive executions',
    };
  }

  getExecutionHistory(req: {
    executionArn?: string;
    maxResults?: number;
    nextToken?: string;
    reverseOrder?: boolean;
    includeExecutionData?: boolean;
  }): { events: HistoryEvent[]; nextToken?: string } {
    const execution = this.execution(req.executionArn);
    const size = pageSize(req.maxResults);
    const reverse = req.reverseOrder === true;
    const scope = `${execution.executionArn}|${reverse}|${req.includeExecutionData !== false}`;
    const after = req.nextToken
      ? Number(readPageToken(req.nextToken, 'GetExecutionHistory', scope))
      : undefined;
    const all = execution.events;
    // Event ids are positions + 1: a page resumes after (or, in reverse, before) the last id served.
    let page: HistoryEvent[];
    let more: boolean;
    if (reverse) {
      const end = after === undefined ? all.length : after - 1;
      const start = Math.max(0, end - size);
      page = all.slice(start, end).reverse();
      more = start > 0;
    } else {
      const start = after ?? 0;
      page = all.slice(start, start + size);
      more = start + page.length < all.length;
    }
    const last = page.at(-1);
    return {
      events: req.includeExecutionData === false ? page.map(withoutData) : page,
      ...(more && last ? { nextToken: pageToken('GetExecutionHistory', scope, last.id) } : {}),
    };
  }
}
