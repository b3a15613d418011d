import type * as ddb from '@aws-sdk/client-dynamodb';
import { ExecutionAbortedError, StateMachine } from 'aws-local-stepfunctions';
import { AwsJsonError } from './aws-json-server.ts';
import type { LocalIam } from './iam/local-iam.ts';
import type { IamRequest } from './iam/policy-evaluation.ts';
import type { LambdaRuntime } from './lambda-runtime.ts';
import { addHistoryEvent, awsHistoryEvent, type HistoryEvent } from './sfn-history.ts';
import { type TaskHandler, taskHandlers } from './sfn-tasks.ts';

type Json = Record<string, unknown>;
type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

interface Execution {
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
  events: HistoryEvent[];
  abort: () => void;
}

export interface LocalStateMachine {
  arn: string;
  name: string;
  definition: Json;
  /** @default a placeholder role */
  roleArn?: string;
}

const PLACEHOLDER_ROLE = 'arn:aws:iam::000000000000:role/local';

/**
 * The Step Functions API (AWS JSON 1.0, served by aws-json-server.ts: StartExecution,
 * StopExecution, DescribeExecution, GetExecutionHistory, ListExecutions, DescribeStateMachine)
 * and runs executions on aws-local-stepfunctions. Its task states (sfn-tasks.ts) reach the same
 * services they reach on AWS, checked against the state machine's role when there is an `iam`; its
 * history (sfn-history.ts) has the shapes AWS records.
 */
export class LocalStepFunctions {
  private readonly machines = new Map<
    string,
    LocalStateMachine & { engine: StateMachine; tasks: Record<string, TaskHandler> }
  >();
  private readonly executions = new Map<string, Execution>();
  /**
   * Sees every execution status change, in the shape of the detail of EventBridge's "Step
   * Functions Execution Status Change" event (dates in epoch ms); the local stack puts them on its
   * local EventBridge, whose rules deliver them as on AWS.
   */
  onStatusChange?: (detail: Json) => void;

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
    const engine = new StateMachine(structuredClone(machine.definition) as never, {
      validationOptions: { checkArn: false },
    });
    this.machines.set(machine.arn, { ...machine, engine, tasks });
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
   * Test knob: how long StartExecution takes before the execution starts, so a harness can land a
   * cancel while start-sync still waits for it ("before StartExecution returns").
   */
  startDelayMs = 0;

  /**
   * Test knob: API actions that fail (HTTP 500, as a service outage would) until removed, so a
   * harness can prove what a failing StartExecution or StopExecution leaves behind.
   */
  readonly failing = new Set<'StartExecution' | 'StopExecution'>();

  private injectFault(action: 'StartExecution' | 'StopExecution'): void {
    if (this.failing.has(action)) throw new Error(`Injected fault: ${action} is unavailable`);
  }

  async StartExecution(req: { stateMachineArn?: string; name?: string; input?: string }): Promise<Json> {
    this.injectFault('StartExecution');
    if (this.startDelayMs > 0) await new Promise((r) => setTimeout(r, this.startDelayMs));
    const machine = this.machine(req.stateMachineArn);
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
    const run = machine.engine.run(parsedInput as never, {
      overrides: { taskResourceLocalHandlers: machine.tasks as never },
      context: {
        Execution: { Id: executionArn, Name: name, RoleArn: machine.roleArn ?? PLACEHOLDER_ROLE },
        StateMachine: { Id: machine.arn, Name: machine.name },
      },
    });
    const execution: Execution = {
      executionArn,
      stateMachineArn: machine.arn,
      name,
      input,
      status: 'RUNNING',
      startDate,
      events: [],
      abort: run.abort,
    };
    this.executions.set(executionArn, execution);
    this.notify(execution);
    void this.recordHistory(execution, run.eventLogs);
    run.result.then(
      (output) => this.settle(execution, 'SUCCEEDED', { output: JSON.stringify(output ?? null) }),
      (error: Error & { cause?: unknown }) => {
        if (error instanceof ExecutionAbortedError) return; // StopExecution already settled it
        const inner = (error.cause ?? error) as Error & { cause?: unknown };
        this.settle(execution, 'FAILED', {
          error: inner.name,
          cause: typeof inner.cause === 'string' ? inner.cause : inner.message,
        });
      },
    );
    return { executionArn, startDate };
  }

  StopExecution(req: { executionArn?: string; error?: string; cause?: string }): Json {
    this.injectFault('StopExecution');
    const execution = this.get(req.executionArn);
    if (execution.status === 'RUNNING') {
      this.settle(execution, 'ABORTED', { error: req.error, cause: req.cause });
      execution.abort();
    }
    return { stopDate: execution.stopDate };
  }

  DescribeExecution(req: { executionArn?: string }): Json {
    const { events: _e, abort: _a, ...description } = this.get(req.executionArn);
    return description;
  }

  GetExecutionHistory(req: {
    executionArn?: string;
    reverseOrder?: boolean;
    maxResults?: number;
    nextToken?: string;
  }) {
    const events = [...this.get(req.executionArn).events];
    if (req.reverseOrder) events.reverse();
    const start = req.nextToken ? Number(req.nextToken) : 0;
    const size = req.maxResults && req.maxResults > 0 ? req.maxResults : 1000;
    const page = events.slice(start, start + size);
    return { events: page, ...(start + size < events.length ? { nextToken: String(start + size) } : {}) };
  }

  ListExecutions(req: { stateMachineArn?: string; statusFilter?: ExecutionStatus; maxResults?: number }) {
    this.machine(req.stateMachineArn);
    const executions = [...this.executions.values()]
      .filter(
        (e) =>
          e.stateMachineArn === req.stateMachineArn && (!req.statusFilter || e.status === req.statusFilter),
      )
      .sort((a, b) => b.startDate - a.startDate)
      .slice(0, req.maxResults && req.maxResults > 0 ? req.maxResults : 100)
      .map(({ executionArn, stateMachineArn, name, status, startDate, stopDate }) => ({
        executionArn,
        stateMachineArn,
        name,
        status,
        startDate,
        stopDate,
      }));
    return { executions };
  }

  DescribeStateMachine(req: { stateMachineArn?: string }): Json {
    const machine = this.machine(req.stateMachineArn);
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      status: 'ACTIVE',
      type: 'STANDARD',
      definition: JSON.stringify(machine.definition),
      roleArn: machine.roleArn ?? PLACEHOLDER_ROLE,
      creationDate: 0,
    };
  }

  /** Waits for every execution to leave RUNNING (used by tests and shutdown). */
  async drain(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ([...this.executions.values()].some((e) => e.status === 'RUNNING') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private machine(stateMachineArn?: string) {
    const machine = this.machines.get(String(stateMachineArn));
    if (!machine)
      throw new AwsJsonError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${stateMachineArn}'`,
      );
    return machine;
  }

  private get(executionArn?: string): Execution {
    const execution = this.executions.get(String(executionArn));
    if (!execution)
      throw new AwsJsonError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return execution;
  }

  private settle(execution: Execution, status: ExecutionStatus, details: Partial<Execution>): void {
    if (execution.status !== 'RUNNING') return;
    Object.assign(execution, details, { status, stopDate: Date.now() / 1000 });
    this.notify(execution);
    if (status === 'ABORTED') {
      addHistoryEvent(execution.events, 'ExecutionAborted', 'executionAborted', {
        error: details.error,
        cause: details.cause,
      });
    }
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

  /** Records the engine's event log as the AWS history events the console shows. */
  private async recordHistory(execution: Execution, log: AsyncIterable<unknown>): Promise<void> {
    for await (const raw of log) {
      const event = awsHistoryEvent(raw as Json, execution.input);
      if (event) addHistoryEvent(execution.events, ...event);
    }
  }
}
