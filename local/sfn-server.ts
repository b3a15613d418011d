import type * as ddb from '@aws-sdk/client-dynamodb';
import { StateMachine } from 'aws-local-stepfunctions';
import { AwsJsonError } from './aws-json-server.ts';
import type { LocalIam } from './iam/local-iam.ts';
import type { IamRequest } from './iam/policy-evaluation.ts';
import type { LambdaRuntime } from './lambda-runtime.ts';
import { DefinitionIndex } from './sfn-definition.ts';
import { type ExecutionEnd, HistoryRecorder } from './sfn-history.ts';
import {
  type ExecutionRecord,
  type ExecutionStatus,
  PAGED_OPERATIONS,
  SfnReadApi,
  type StateMachineRecord,
  wirePageSize,
} from './sfn-read-api.ts';
import { inExecution, reportingCalls, trackIterations } from './sfn-task-calls.ts';
import { type TaskHandler, taskHandlers } from './sfn-tasks.ts';
import { SfnThrottle } from './sfn-throttle.ts';

type Json = Record<string, unknown>;

interface Execution extends ExecutionRecord {
  history: HistoryRecorder;
  abort: () => void;
}

interface RegisteredMachine extends StateMachineRecord {
  engine: StateMachine;
  tasks: Record<string, TaskHandler>;
  index: DefinitionIndex;
}

export interface LocalStateMachine {
  arn: string;
  name: string;
  definition: Json;
  /** @default a placeholder role */
  roleArn?: string;
  /** As DescribeStateMachine answers it. @default `{ level: 'OFF', includeExecutionData: false }` */
  loggingConfiguration?: Json;
  /** As DescribeStateMachine answers it. @default `{ enabled: false }` */
  tracingConfiguration?: Json;
}

const PLACEHOLDER_ROLE = 'arn:aws:iam::000000000000:role/local';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The Step Functions API (AWS JSON 1.0, served by aws-json-server.ts): StartExecution and
 * StopExecution here, the read calls (ListStateMachines, DescribeStateMachine,
 * DescribeStateMachineForExecution, ListExecutions, DescribeExecution, GetExecutionHistory) in
 * sfn-read-api.ts; any other operation is answered UnknownOperationException, as AWS answers an
 * operation it does not have. Calls over the wire are throttled with AWS's token buckets
 * (sfn-throttle.ts). Executions run on aws-local-stepfunctions; their task states (sfn-tasks.ts)
 * reach the same services they reach on AWS, checked against the state machine's role when there
 * is an `iam`, and their history (sfn-history.ts, sfn-task-calls.ts) has the events AWS records.
 */
export class LocalStepFunctions {
  private readonly machines = new Map<string, RegisteredMachine>();
  private readonly executions = new Map<string, Execution>();
  private started = 0;
  private readonly read = new SfnReadApi({
    machines: () => this.machines.values(),
    machine: (arn) => this.machines.get(arn),
    executions: () => this.executions.values(),
    execution: (arn) => this.executions.get(arn),
  });
  /**
   * Sees every execution status change, in the shape of the detail of EventBridge's "Step
   * Functions Execution Status Change" event (dates in epoch ms); the local stack puts them on its
   * local EventBridge, whose rules deliver them as on AWS.
   */
  onStatusChange?: (detail: Json) => void;

  /** The API's token buckets (AWS's quotas); a test shrinks one with `throttle.set(...)`. */
  readonly throttle = new SfnThrottle();

  /**
   * Test knob: how long StartExecution takes before the execution starts, so a harness can land a
   * cancel while start-sync still waits for it ("before StartExecution returns").
   */
  startDelayMs = 0;

  /**
   * Test knob: how long StopExecution waits before it aborts a running execution, so the
   * workflow's own cancel check can see a cancelled job before the stop lands.
   */
  stopDelayMs = 0;

  /**
   * Test knob: API actions that fail (HTTP 500, as a service outage would) until removed, so a
   * harness can prove what a failing StartExecution or StopExecution leaves behind.
   */
  readonly failing = new Set<'StartExecution' | 'StopExecution'>();

  constructor(
    private readonly lambdas: LambdaRuntime,
    private readonly dynamo: ddb.DynamoDBClient,
    private readonly iam?: LocalIam,
  ) {}

  register(machine: LocalStateMachine): void {
    const tasks = taskHandlers(
      {
        lambdas: this.lambdas,
        dynamo: this.dynamo,
        iam: this.iam,
        startExecution: (req) => this.StartExecution(req),
      },
      machine.arn,
      machine.definition,
    );
    // The engine annotates the definition it is given; keep the served copy exactly as synthesized.
    const definition = structuredClone(machine.definition);
    const engine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
    trackIterations(definition);
    this.machines.set(machine.arn, {
      arn: machine.arn,
      name: machine.name,
      definition: machine.definition,
      roleArn: machine.roleArn ?? PLACEHOLDER_ROLE,
      creationDate: Date.now() / 1000,
      loggingConfiguration: machine.loggingConfiguration ?? { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: machine.tracingConfiguration ?? { enabled: false },
      engine,
      tasks: reportingCalls(tasks),
      index: new DefinitionIndex(machine.definition),
    });
  }

  definitionOf(arn: string): Json | undefined {
    return this.machines.get(arn)?.definition;
  }

  // --- the API -------------------------------------------------------------------------------

  /** A call needs `states:<operation>` on the execution it names, else on the state machine. */
  iamRequests(operation: string, req: Json): IamRequest[] {
    return [
      { action: `states:${operation}`, resource: String(req.executionArn ?? req.stateMachineArn ?? '*') },
    ];
  }

  /**
   * What AWS's front end does to a call before the operation sees it (aws-json-server.ts calls it
   * for calls over the wire only): the throttling, and the page size of a paging read.
   */
  admit(operation: string, body: Json): void {
    this.throttle.admit(operation);
    if (PAGED_OPERATIONS.has(operation)) body.maxResults = wirePageSize(body.maxResults);
  }

  private injectFault(action: 'StartExecution' | 'StopExecution'): void {
    if (this.failing.has(action)) throw new Error(`Injected fault: ${action} is unavailable`);
  }

  async StartExecution(req: { stateMachineArn?: string; name?: string; input?: string }): Promise<Json> {
    this.injectFault('StartExecution');
    if (this.startDelayMs > 0) await sleep(this.startDelayMs);
    const machine = this.machines.get(this.read.machine(req.stateMachineArn).arn) as RegisteredMachine;
    const name = req.name ?? crypto.randomUUID();
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw new AwsJsonError('InvalidName', `Invalid Name: '${name}'`);
    const input = req.input ?? '{}';
    let parsedInput: unknown;
    try {
      parsedInput = JSON.parse(input);
    } catch {
      throw new AwsJsonError('InvalidExecutionInput', 'Invalid execution input: not JSON');
    }
    const executionArn = `${machine.arn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      // Same name and input while running is idempotent, as on AWS; anything else is a conflict.
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn, startDate: existing.startDate };
      }
      throw new AwsJsonError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }

    const startDate = Date.now() / 1000;
    const history = new HistoryRecorder(machine.index, {
      input,
      roleArn: machine.roleArn,
      onEnd: (end) => this.ended(execution, end),
    });
    const execution: Execution = {
      executionArn,
      stateMachineArn: machine.arn,
      name,
      input,
      status: 'RUNNING',
      startDate,
      seq: ++this.started,
      events: history.events,
      history,
      abort: () => {},
    };
    this.executions.set(executionArn, execution);
    // Its task calls are reported to its history, with the Map iteration each runs for.
    const run = inExecution(history, () =>
      machine.engine.run(parsedInput as never, {
        overrides: { taskResourceLocalHandlers: machine.tasks as never },
        context: {
          Execution: { Id: executionArn, Name: name, RoleArn: machine.roleArn },
          StateMachine: { Id: machine.arn, Name: machine.name },
        },
      }),
    );
    execution.abort = run.abort;
    this.notify(execution);
    // The history ends the execution (so that an ended execution's history is complete); should
    // the engine's log ever stop short, its result still does.
    void history.record(run.eventLogs).catch(() => {});
    const fallback = (end: ExecutionEnd) => setTimeout(() => this.ended(execution, end), 100);
    run.result.then(
      (output) => fallback({ status: 'SUCCEEDED', output: JSON.stringify(output ?? null) }),
      (error: Error & { cause?: Error }) =>
        fallback({ status: 'FAILED', error: (error.cause ?? error).name }),
    );
    return { executionArn, startDate };
  }

  async StopExecution(req: { executionArn?: string; error?: string; cause?: string }): Promise<Json> {
    this.injectFault('StopExecution');
    const execution = this.get(req.executionArn);
    if (this.stopDelayMs > 0 && execution.status === 'RUNNING') await sleep(this.stopDelayMs);
    if (execution.status === 'RUNNING') {
      execution.history.abort(req.error, req.cause);
      this.settle(execution, 'ABORTED', { error: req.error, cause: req.cause });
      execution.abort();
    }
    return { stopDate: execution.stopDate };
  }

  ListStateMachines(req: Parameters<SfnReadApi['listStateMachines']>[0]) {
    return this.read.listStateMachines(req);
  }

  DescribeStateMachine(req: Parameters<SfnReadApi['describeStateMachine']>[0]) {
    return this.read.describeStateMachine(req);
  }

  DescribeStateMachineForExecution(req: Parameters<SfnReadApi['describeStateMachineForExecution']>[0]) {
    return this.read.describeStateMachineForExecution(req);
  }

  ListExecutions(req: Parameters<SfnReadApi['listExecutions']>[0]) {
    return this.read.listExecutions(req);
  }

  DescribeExecution(req: Parameters<SfnReadApi['describeExecution']>[0]) {
    return this.read.describeExecution(req);
  }

  GetExecutionHistory(req: Parameters<SfnReadApi['getExecutionHistory']>[0]) {
    return this.read.getExecutionHistory(req);
  }

  /** Waits for every execution to leave RUNNING (used by tests and shutdown). */
  async drain(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ([...this.executions.values()].some((e) => e.status === 'RUNNING') && Date.now() < deadline) {
      await sleep(50);
    }
  }

  private get(executionArn?: string): Execution {
    return this.executions.get(this.read.execution(executionArn).executionArn) as Execution;
  }

  private ended(execution: Execution, end: ExecutionEnd): void {
    if (end.status === 'SUCCEEDED') this.settle(execution, 'SUCCEEDED', { output: end.output });
    else this.settle(execution, end.status, { error: end.error, cause: end.cause });
  }

  private settle(execution: Execution, status: ExecutionStatus, details: Partial<Execution>): void {
    if (execution.status !== 'RUNNING') return;
    Object.assign(execution, details, { status, stopDate: Date.now() / 1000 });
    this.notify(execution);
  }

  private notify(e: Execution): void {
    this.onStatusChange?.({
      executionArn: e.executionArn,
      stateMachineArn: e.stateMachineArn,
      name: e.name,
      status: e.status,
      startDate: Math.round(e.startDate * 1000),
      stopDate: e.stopDate === undefined ? null : Math.round(e.stopDate * 1000),
      input: e.input,
      output: e.output ?? null,
      error: e.error ?? null,
      cause: e.cause ?? null,
    });
  }
}
