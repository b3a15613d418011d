import * as ddb from '@aws-sdk/client-dynamodb';
import { AwsJsonError } from './aws-json-server.ts';
import { localArn } from './cloudformation.ts';
import { dynamoDbRequests } from './iam/action-mapping.ts';
import type { LocalIam } from './iam/local-iam.ts';
import type { IamRequest } from './iam/policy-evaluation.ts';
import { LambdaFunctionError, type LambdaRuntime } from './lambda-runtime.ts';

/**
 * The task states of the local Step Functions. They reach the same services they reach on AWS:
 * `lambda:invoke` runs the template's functions, `states:startExecution` starts an execution,
 * `dynamodb:*` calls DynamoDB Local. With `iam`, each task is checked against the state
 * machine's role first, as on AWS.
 */
type Json = Record<string, unknown>;
export type TaskHandler = (input: unknown) => Promise<unknown>;

/** What a task needs of the Step Functions server and the services around it. */
export interface TaskServices {
  lambdas: LambdaRuntime;
  dynamo: ddb.DynamoDBClient;
  iam?: LocalIam;
  startExecution: (req: { stateMachineArn?: string; name?: string; input?: string }) => Promise<Json>;
}

/** Error names Step Functions gives failed integrations, e.g. DynamoDB.ConditionalCheckFailedException. */
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

/** The handler of every Task state of `definition` (also inside Map and Parallel states), by state name. */
export function taskHandlers(
  services: TaskServices,
  machineArn: string,
  definition: Json,
): Record<string, TaskHandler> {
  const tasks: Record<string, TaskHandler> = {};
  const collect = (states: Json) => {
    for (const [name, state] of Object.entries(states.States as Record<string, Json>)) {
      if (state.Type === 'Task')
        tasks[name] = taskHandler(services, machineArn, name, String(state.Resource));
      if (state.Type === 'Map') collect((state.ItemProcessor ?? state.Iterator) as Json);
      if (state.Type === 'Parallel') for (const branch of state.Branches as Json[]) collect(branch);
    }
  };
  collect(definition);
  return tasks;
}

function taskHandler(
  services: TaskServices,
  machineArn: string,
  stateName: string,
  resource: string,
): TaskHandler {
  /** Fails the task with `errorName` when the state machine's role does not allow `requests`. */
  const authorize = (requests: IamRequest[], errorName: string) => {
    const denial = services.iam?.authorize(machineArn, requests);
    if (denial) throw new TaskError(errorName, denial.message);
  };
  const invoke = async (functionName: string, payload: unknown) => {
    const functionArn = functionName.startsWith('arn:') ? functionName : localArn.lambda(functionName);
    authorize([{ action: 'lambda:InvokeFunction', resource: functionArn }], 'Lambda.AWSLambdaException');
    try {
      return await services.lambdas.invoke(functionArn, payload);
    } catch (error) {
      if (error instanceof LambdaFunctionError)
        throw new TaskError(error.errorType, error.stepFunctionsCause);
      throw error;
    }
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
      authorize([request], 'StepFunctions.AccessDeniedException');
      try {
        const out = await services.startExecution({
          stateMachineArn: req.StateMachineArn,
          name: req.Name,
          input: typeof req.Input === 'string' ? req.Input : JSON.stringify(req.Input ?? {}),
        });
        return { ExecutionArn: out.executionArn, StartDate: out.startDate };
      } catch (error) {
        if (error instanceof AwsJsonError) throw new TaskError(`StepFunctions.${error.type}`, error.message);
        throw error;
      }
    };
  }
  const dynamo = /^arn:aws:states:::dynamodb:(\w+)$/.exec(resource);
  const command = dynamo && DYNAMO_COMMANDS[dynamo[1] as string];
  if (command) {
    const send = services.dynamo.send.bind(services.dynamo) as (c: object) => Promise<Json>;
    const operation = `${dynamo[1]?.[0]?.toUpperCase()}${dynamo[1]?.slice(1)}`;
    return async (input) => {
      authorize(dynamoDbRequests(operation, input as Json), 'DynamoDB.AccessDeniedException');
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
