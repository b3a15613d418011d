import * as ddb from '@aws-sdk/client-dynamodb';
import { ExecutionAbortedError, StateMachine } from 'aws-local-stepfunctions';
import { AwsJsonError } from './aws-json-server.ts';
import { localArn } from './cloudformation.ts';
import { dynamoDbRequests } from './iam/action-mapping.ts';
import type { LocalIam } from './iam/local-iam.ts';
import type { IamRequest } from './iam/policy-evaluation.ts';
import { LambdaFunctionError, type LambdaRuntime } from './lambda-runtime.ts';

type Json = Record<string, unknown>;
type TaskHandler = (input: unknown) => Promise<unknown>;
type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

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

/** Error names Step Functions gives failed DynamoDB integrations, e.g. DynamoDB.ConditionalCheckFailedException. */
class TaskError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** The optimized DynamoDB integrations: Parameters are the API's own request, in AttributeValue form. */
const DYNAMO_COMMANDS: Record<string, (input: never) => object> = {
  getItem: (input: ddb.GetItemCommandInput) => new ddb.GetItemCommand(input),
  putItem: (input: ddb.PutItemCommandInput) => new ddb.PutItemCommand(input),
  updateItem: (input: ddb.UpdateItemCommandInput) => new ddb.UpdateItemCommand(input),
  deleteItem: (input: ddb.DeleteItemCommandInput) => new ddb.DeleteItemCommand(input),
};

/**
 * The Step Functions API (AWS JSON 1.0, served by aws-json-server.ts: StartExecution,
 * StopExecution, DescribeExecution, GetExecutionHistory, ListExecutions, DescribeStateMachine)
 * and runs executions on aws-local-stepfunctions. Task states reach the same services they reach
 * on AWS: `lambda:invoke` runs the template's functions, `dynamodb:*` calls DynamoDB Local. With
 * `iam`, each task is checked against the state machine's role first, as on AWS.
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
    const tasks: Record<string, TaskHandler> = {};
    this.collectTasks(machine.arn, machine.definition, tasks);
    // The engine annotates the definition it is given; keep the served copy exactly as synthesized.
    const engine = new StateMachine(structuredClone(machine.definition) as never, {
      validationOptions: { checkArn: false },
    });
    this.machines.set(machine.arn, { ...machine, engine, tasks });
  }

  definitionOf(arn: string): Json | undefined {
    return this.machines.get(arn)?.definition;
  }

  private collectTasks(machineArn: string, definition: Json, tasks: Record<string, TaskHandler>): void {
    for (const [name, state] of Object.entries(definition.States as Record<string, Json>)) {
      if (state.Type === 'Task') tasks[name] = this.taskHandler(machineArn, name, String(state.Resource));
      if (state.Type === 'Map')
        this.collectTasks(machineArn, (state.ItemProcessor ?? state.Iterator) as Json, tasks);
      if (state.Type === 'Parallel')
        for (const branch of state.Branches as Json[]) this.collectTasks(machineArn, branch, tasks);
    }
  }

  /** Fails the task with `errorName` when the state machine's role does not allow `requests`. */
  private authorize(machineArn: string, requests: IamRequest[], errorName: string): void {
    const denial = this.iam?.authorize(machineArn, requests);
    if (denial) throw new TaskError(errorName, denial.message);
  }

  private taskHandler(machineArn: string, stateName: string, resource: string): TaskHandler {
    const invoke = (functionName: string, payload: unknown) => {
      const functionArn = functionName.startsWith('arn:') ? functionName : localArn.lambda(functionName);
      const request = { action: 'lambda:InvokeFunction', resource: functionArn };
      this.authorize(machineArn, [request], 'Lambda.AWSLambdaException');
      return this.invokeLambda(functionArn, payload);
    };
    if (resource === 'arn:aws:states:::lambda:invoke') {
      return async (input) => {
        const { FunctionName, Payload } = input as { FunctionName: string; Payload: unknown };
        return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: await invoke(FunctionName, Payload) };
      };
    }
    if (resource.startsWith('arn:aws:lambda:')) return async (input) => invoke(resource, input);
    if (resource === 'arn:aws:states:::states:startExecution') {
      return async (input) => {
        const req = input as { StateMachineArn?: string; Name?: string; Input?: unknown };
        const request = { action: 'states:StartExecution', resource: String(req.StateMachineArn) };
        this.authorize(machineArn, [request], 'StepFunctions.AccessDeniedException');
        try {
          const out = await this.StartExecution({
            stateMachineArn: req.StateMachineArn,
            name: req.Name,
            input: typeof req.Input === 'string' ? req.Input : JSON.stringify(req.Input ?? {}),
          });
          return { ExecutionArn: out.executionArn, StartDate: out.startDate };
        } catch (error) {
          if (error instanceof AwsJsonError)
            throw new TaskError(`StepFunctions.${error.type}`, error.message);
          throw error;
        }
      };
    }
    const dynamo = /^arn:aws:states:::dynamodb:(\w+)$/.exec(resource);
    const command = dynamo && DYNAMO_COMMANDS[dynamo[1] as string];
    if (command) {
      const send = this.dynamo.send.bind(this.dynamo) as (c: object) => Promise<Json>;
      const operation = `${dynamo[1]?.[0]?.toUpperCase()}${dynamo[1]?.slice(1)}`;
      return async (input) => {
        this.authorize(
          machineArn,
          dynamoDbRequests(operation, input as Json),
          'DynamoDB.AccessDeniedException',
        );
        try {
          const { $metadata: _, ...output } = await send(command(input as never));
          return output;
        } catch (error) {
          const e = error as Error;
          throw new TaskError(`DynamoDB.${e.name}`, e.message);
        }
      };
    }
    throw new Error(`State "${stateName}": the local stack cannot run resource ${resource}`);
  }

  private async invokeLambda(functionArn: string, payload: unknown): Promise<unknown> {
    try {
      return await this.lambdas.invoke(functionArn, payload);
    } catch (error) {
      if (error instanceof LambdaFunctionError)
        throw new TaskError(error.errorType, error.stepFunctionsCause);
      throw error;
    }
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
    const machine = this.machines.get(String(req.stateMachineArn));
    if (!machine)
      throw new AwsJsonError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${req.stateMachineArn}'`,
      );
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
    if (!this.machines.has(String(req.stateMachineArn))) {
      throw new AwsJsonError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${req.stateMachineArn}'`,
      );
    }
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
    const machine = this.machines.get(String(req.stateMachineArn));
    if (!machine)
      throw new AwsJsonError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${req.stateMachineArn}'`,
      );
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
      this.addEvent(execution, 'ExecutionAborted', {
        executionAbortedEventDetails: { error: details.error, cause: details.cause },
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

  private addEvent(execution: Execution, type: string, details: Json): void {
    const id = execution.events.length + 1;
    execution.events.push({ id, previousEventId: id - 1, timestamp: Date.now() / 1000, type, ...details });
  }

  /** Translates the engine's event log into the AWS history event shapes the console shows. */
  private async recordHistory(execution: Execution, log: AsyncIterable<unknown>): Promise<void> {
    for await (const raw of log) {
      const event = raw as Json;
      const state = event.state as
        | { name: string; type: string; input?: unknown; output?: unknown }
        | undefined;
      switch (event.type) {
        case 'ExecutionStarted':
          this.addEvent(execution, 'ExecutionStarted', {
            executionStartedEventDetails: { input: execution.input },
          });
          break;
        case 'ExecutionSucceeded':
          this.addEvent(execution, 'ExecutionSucceeded', {
            executionSucceededEventDetails: { output: JSON.stringify(event.output ?? null) },
          });
          break;
        case 'ExecutionFailed':
          this.addEvent(execution, 'ExecutionFailed', {
            executionFailedEventDetails: { error: event.Error, cause: event.Cause },
          });
          break;
        case 'StateEntered':
          if (state) {
            this.addEvent(execution, `${state.type}StateEntered`, {
              stateEnteredEventDetails: { name: state.name, input: JSON.stringify(state.input ?? null) },
            });
          }
          break;
        case 'StateExited':
          if (state) {
            this.addEvent(execution, `${state.type}StateExited`, {
              stateExitedEventDetails: { name: state.name, output: JSON.stringify(state.output ?? null) },
            });
          }
          break;
        case 'StateFailed':
          this.addEvent(execution, 'TaskFailed', {
            taskFailedEventDetails: { error: event.Error, cause: event.Cause },
          });
          break;
        case 'MapIterationStarted':
          this.addEvent(execution, 'MapIterationStarted', {
            mapIterationStartedEventDetails: { index: event.index },
          });
          break;
        case 'MapIterationSucceeded':
          this.addEvent(execution, 'MapIterationSucceeded', {
            mapIterationSucceededEventDetails: { index: event.index },
          });
          break;
        case 'MapIterationFailed':
          this.addEvent(execution, 'MapIterationFailed', {
            mapIterationFailedEventDetails: { index: event.index },
          });
          break;
        default:
          break;
      }
    }
  }
}
