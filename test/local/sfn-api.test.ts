import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CreateActivityCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  paginateGetExecutionHistory,
  paginateListExecutions,
  paginateListStateMachines,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveAwsJson } from '../../local/aws-json-server.ts';
import { LambdaFunctionError, type LambdaRuntime } from '../../local/lambda-runtime.ts';
import { LocalStepFunctions } from '../../local/sfn-server.ts';
import { AWS_API_QUOTAS } from '../../local/sfn-throttle.ts';

/**
 * The local Step Functions endpoint as an operator's tools see it: a LocalStepFunctions served over
 * HTTP by the AWS JSON endpoint, running small definitions (a Map of Lambda tasks with a retried
 * failure and three iterations in the same state at once, a caught failure, a states:startExecution
 * task, a Map held open until released), called with @aws-sdk/client-sfn and the aws CLI.
 */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const machineArn = (name: string) => `arn:aws:states:us-east-1:000000000000:stateMachine:${name}`;
const MAIN = machineArn('SfnApiMain');
const CHILD = machineArn('SfnApiChild');
const HOLD = machineArn('SfnApiHold');
const LOGGING = {
  level: 'ALL',
  includeExecutionData: false,
  destinations: [
    { cloudWatchLogsLogGroup: { logGroupArn: 'arn:aws:logs:us-east-1:000000000000:log-group:x:*' } },
  ],
};

const lambdaTask = (functionName: string, payload: Record<string, unknown>) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: functionName, ...payload },
});

const MAIN_DEFINITION = {
  StartAt: 'Prepare',
  States: {
    Prepare: { Type: 'Pass', Result: [0, 1, 2, 3, 4, 5], ResultPath: '$.items', Next: 'Fan out' },
    'Fan out': {
      Type: 'Map',
      ItemsPath: '$.items',
      MaxConcurrency: 3,
      ResultPath: '$.results',
      ItemSelector: { 'item.$': '$$.Map.Item.Value' },
      ItemProcessor: {
        StartAt: 'Work',
        States: {
          Work: {
            ...lambdaTask('worker', { 'Payload.$': '$' }),
            ResultSelector: { 'value.$': '$.Payload' },
            Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: 1, MaxAttempts: 2 }],
            Next: 'Worked?',
          },
          'Worked?': {
            Type: 'Choice',
            Choices: [{ Variable: '$.value.ok', BooleanEquals: true, Next: 'Item done' }],
            Default: 'Item done',
          },
          'Item done': { Type: 'Succeed' },
        },
      },
      Next: 'Risky',
    },
    Risky: {
      ...lambdaTask('breaker', { Payload: {} }),
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Recovered' }],
      Next: 'Recovered',
    },
    Recovered: { Type: 'Pass', Next: 'Start child' },
    'Start child': {
      Type: 'Task',
      Resource: 'arn:aws:states:::states:startExecution',
      Parameters: { StateMachineArn: CHILD, Input: { from: 'main' } },
      ResultPath: null,
      End: true,
    },
  },
};
const CHILD_DEFINITION = { StartAt: 'Echo', States: { Echo: { Type: 'Pass', End: true } } };
const HOLD_DEFINITION = {
  StartAt: 'Slots',
  States: {
    Slots: { Type: 'Pass', Result: [0, 1], ResultPath: '$.slots', Next: 'Hold all' },
    'Hold all': {
      Type: 'Map',
      ItemsPath: '$.slots',
      ItemSelector: { 'slot.$': '$$.Map.Item.Value' },
      ItemProcessor: {
        StartAt: 'Hold',
        States: { Hold: { ...lambdaTask('hold', { 'Payload.$': '$' }), End: true } },
      },
      End: true,
    },
  },
};

/** The template's Lambda functions, as the tasks reach them: a worker, a breaker and a holder. */
const holds: (() => void)[] = [];
let flakyCalls = 1;
const lambdas = {
  async invoke(functionArn: string, payload: { item?: number }) {
    const name = functionArn.split(':').at(-1);
    if (name === 'worker') {
      await sleep(((payload.item ?? 0) % 3) * 15 + 10);
      if (payload.item === 1 && flakyCalls-- > 0) throw new LambdaFunctionError('Flaky', 'try again');
      return { item: payload.item, ok: true };
    }
    if (name === 'breaker') throw new LambdaFunctionError('Boom', 'broken on purpose');
    return new Promise((resolve) => holds.push(() => resolve({ held: true })));
  },
} as unknown as LambdaRuntime;
const releaseHolds = () => {
  for (const release of holds.splice(0)) release();
};

let sfn: LocalStepFunctions;
let endpoint: string;
let close: () => Promise<void>;
let client: SFNClient;
let noRetries: SFNClient;
let mainExecution: string;

const sdk = (opts: { maxAttempts?: number } = {}) =>
  new SFNClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    ...opts,
  });
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('expected the call to fail'),
    (error: Error & { $metadata?: { httpStatusCode?: number } }) => error,
  );
const history = async (executionArn: string) => {
  const events: HistoryEvent[] = [];
  for await (const page of paginateGetExecutionHistory({ client }, { executionArn }))
    events.push(...(page.events ?? []));
  return events;
};
const detailsOf = (event: HistoryEvent) =>
  Object.entries(event).find(([key]) => key.endsWith('EventDetails'))?.[1] as Record<string, unknown>;
const start = async (stateMachineArn: string, name: string) =>
  (await client.send(new StartExecutionCommand({ stateMachineArn, name }))).executionArn as string;
const until = async (what: string, done: () => boolean) => {
  for (let i = 0; i < 200 && !done(); i++) await sleep(10);
  expect(done(), what).toBe(true);
};

beforeAll(async () => {
  sfn = new LocalStepFunctions(lambdas, {} as never);
  sfn.register({ arn: MAIN, name: 'SfnApiMain', definition: MAIN_DEFINITION });
  sfn.register({ arn: CHILD, name: 'SfnApiChild', definition: CHILD_DEFINITION });
  sfn.register({
    arn: HOLD,
    name: 'SfnApiHold',
    definition: HOLD_DEFINITION,
    roleArn: 'arn:aws:iam::000000000000:role/hold',
    loggingConfiguration: LOGGING,
    tracingConfiguration: { enabled: true },
  });
  ({ endpoint, close } = await serveAwsJson({ AWSStepFunctions: sfn }, 0));
  client = sdk();
  noRetries = sdk({ maxAttempts: 1 });
  mainExecution = await start(MAIN, 'main-1');
  for (const n of [1, 2, 3, 4]) await start(CHILD, `child-${n}`);
  await sfn.drain();
});

afterAll(async () => {
  releaseHolds();
  client?.destroy();
  noRetries?.destroy();
  await sfn?.drain(2000);
  await close?.();
});

describe('the read calls, with @aws-sdk/client-sfn', () => {
  it('ListStateMachines lists every machine (name order), page by page', async () => {
    const pages = [];
    for await (const page of paginateListStateMachines({ client, pageSize: 1 }, {})) pages.push(page);

    expect(pages).toHaveLength(3);
    const machines = pages.flatMap((p) => p.stateMachines ?? []);
    expect(machines.map((m) => m.name)).toEqual(['SfnApiChild', 'SfnApiHold', 'SfnApiMain']);
    expect(machines[2]).toEqual({
      stateMachineArn: MAIN,
      name: 'SfnApiMain',
      type: 'STANDARD',
      creationDate: expect.any(Date),
    });
  });

  it('DescribeStateMachine answers the whole AWS shape; InvalidArn and StateMachineDoesNotExist otherwise', async () => {
    const main = await client.send(new DescribeStateMachineCommand({ stateMachineArn: MAIN }));
    const hold = await client.send(new DescribeStateMachineCommand({ stateMachineArn: HOLD }));

    expect(main).toMatchObject({
      stateMachineArn: MAIN,
      name: 'SfnApiMain',
      status: 'ACTIVE',
      roleArn: 'arn:aws:iam::000000000000:role/local',
      type: 'STANDARD',
      creationDate: expect.any(Date),
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    });
    expect(JSON.parse(main.definition as string)).toEqual(MAIN_DEFINITION);
    expect(hold).toMatchObject({ loggingConfiguration: LOGGING, tracingConfiguration: { enabled: true } });
    const missing = await rejection(
      client.send(new DescribeStateMachineCommand({ stateMachineArn: `${MAIN}x` })),
    );
    expect(missing.name).toBe('StateMachineDoesNotExist');
    expect(missing.$metadata?.httpStatusCode).toBe(400);
    const malformed = await rejection(
      client.send(new DescribeStateMachineCommand({ stateMachineArn: 'nope' })),
    );
    expect(malformed.name).toBe('InvalidArn');
  });

  it('DescribeStateMachineForExecution answers the machine an execution runs', async () => {
    const described = await client.send(
      new DescribeStateMachineForExecutionCommand({ executionArn: mainExecution }),
    );

    expect(described).toMatchObject({
      stateMachineArn: MAIN,
      name: 'SfnApiMain',
      roleArn: 'arn:aws:iam::000000000000:role/local',
      updateDate: expect.any(Date),
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    });
    expect(JSON.parse(described.definition as string)).toEqual(MAIN_DEFINITION);
    const missing = await rejection(
      client.send(new DescribeStateMachineForExecutionCommand({ executionArn: `${mainExecution}x` })),
    );
    expect(missing.name).toBe('ExecutionDoesNotExist');
  });

  it('DescribeExecution answers the AWS shape; METADATA_ONLY leaves the input and output out', async () => {
    const all = await client.send(new DescribeExecutionCommand({ executionArn: mainExecution }));
    const metadata = await client.send(
      new DescribeExecutionCommand({ executionArn: mainExecution, includedData: 'METADATA_ONLY' }),
    );

    expect(all).toMatchObject({
      executionArn: mainExecution,
      stateMachineArn: MAIN,
      name: 'main-1',
      status: 'SUCCEEDED',
      startDate: expect.any(Date),
      stopDate: expect.any(Date),
      input: '{}',
      inputDetails: { included: true },
      outputDetails: { included: true },
      redriveCount: 0,
      redriveStatus: 'NOT_REDRIVABLE',
    });
    expect(JSON.parse(all.output as string).results).toHaveLength(6);
    expect(metadata).toMatchObject({ status: 'SUCCEEDED', inputDetails: { included: false } });
    expect(metadata.outputDetails).toEqual({ included: false });
    expect(metadata).not.toHaveProperty('input');
    expect(metadata).not.toHaveProperty('output');
    for (const [executionArn, name] of [
      [`${mainExecution}-gone`, 'ExecutionDoesNotExist'],
      ['not-an-arn', 'InvalidArn'],
      [MAIN, 'InvalidArn'],
    ] as const) {
      expect((await rejection(client.send(new DescribeExecutionCommand({ executionArn })))).name).toBe(name);
    }
  });

  it('ListExecutions lists newest first, filters by status, pages with nextToken, and answers AWS errors', async () => {
    const pages = [];
    for await (const page of paginateListExecutions({ client, pageSize: 2 }, { stateMachineArn: CHILD }))
      pages.push(page);
    const listed = pages.flatMap((p) => p.executions ?? []);

    // The four the test started and the one main-1 started (last, with its last state): newest first.
    expect(pages).toHaveLength(3);
    expect(listed).toHaveLength(5);
    expect(listed.map((e) => e.name).filter((n) => n?.startsWith('child-'))).toEqual([
      'child-4',
      'child-3',
      'child-2',
      'child-1',
    ]);
    const starts = listed.map((e) => e.startDate?.getTime() ?? 0);
    expect(starts).toEqual([...starts].sort((a, b) => b - a));
    expect(listed.find((e) => e.name === 'child-4')).toEqual({
      executionArn: `${CHILD.replace(':stateMachine:', ':execution:')}:child-4`,
      stateMachineArn: CHILD,
      name: 'child-4',
      status: 'SUCCEEDED',
      startDate: expect.any(Date),
      stopDate: expect.any(Date),
      redriveCount: 0,
    });

    const running = await start(HOLD, 'list-running');
    const stopped = await start(HOLD, 'list-stopped');
    await client.send(new StopExecutionCommand({ executionArn: stopped }));
    const byStatus = async (statusFilter: 'RUNNING' | 'ABORTED' | 'SUCCEEDED') =>
      (await client.send(new ListExecutionsCommand({ stateMachineArn: HOLD, statusFilter }))).executions?.map(
        (e) => e.executionArn,
      );
    expect(await byStatus('RUNNING')).toEqual([running]);
    expect(await byStatus('ABORTED')).toEqual([stopped]);
    expect(await byStatus('SUCCEEDED')).toEqual([]);
    releaseHolds();

    const first = await client.send(new ListExecutionsCommand({ stateMachineArn: CHILD, maxResults: 2 }));
    const errors = await Promise.all([
      rejection(client.send(new ListExecutionsCommand({ stateMachineArn: machineArn('Nope') }))),
      rejection(client.send(new ListExecutionsCommand({ stateMachineArn: 'arn:nope' }))),
      rejection(
        client.send(new ListExecutionsCommand({ stateMachineArn: CHILD, statusFilter: 'done' as never })),
      ),
      rejection(
        client.send(
          new ListExecutionsCommand({
            stateMachineArn: CHILD,
            statusFilter: 'FAILED',
            nextToken: first.nextToken,
          }),
        ),
      ),
      rejection(client.send(new ListExecutionsCommand({ stateMachineArn: CHILD, nextToken: 'garbage' }))),
    ]);
    expect(errors.map((e) => e.name)).toEqual([
      'StateMachineDoesNotExist',
      'InvalidArn',
      'ValidationException',
      'InvalidToken',
      'InvalidToken',
    ]);
  });

  it('GetExecutionHistory pages forward and in reverse; a token of another request is InvalidToken', async () => {
    const all = await history(mainExecution);
    const pages = [];
    for await (const page of paginateGetExecutionHistory(
      { client, pageSize: 7 },
      { executionArn: mainExecution, reverseOrder: true },
    ))
      pages.push(page.events ?? []);

    expect(all.length).toBeGreaterThan(80);
    expect(all.map((e) => e.id)).toEqual(all.map((_, i) => i + 1));
    expect(pages.length).toBe(Math.ceil(all.length / 7));
    expect(pages.every((p) => p.length <= 7)).toBe(true);
    expect(pages.flat()).toEqual([...all].reverse());
    // Without maxResults, AWS's default page of 100.
    const firstPage = await client.send(new GetExecutionHistoryCommand({ executionArn: mainExecution }));
    expect(firstPage.events).toHaveLength(Math.min(100, all.length));

    const forward = await client.send(
      new GetExecutionHistoryCommand({ executionArn: mainExecution, maxResults: 3 }),
    );
    expect(forward.events?.map((e) => e.id)).toEqual([1, 2, 3]);
    const errors = await Promise.all([
      rejection(
        client.send(
          new GetExecutionHistoryCommand({
            executionArn: mainExecution,
            reverseOrder: true,
            nextToken: forward.nextToken,
          }),
        ),
      ),
      rejection(
        client.send(new GetExecutionHistoryCommand({ executionArn: mainExecution, nextToken: 'x!' })),
      ),
      rejection(client.send(new GetExecutionHistoryCommand({ executionArn: `${mainExecution}-gone` }))),
      rejection(client.send(new GetExecutionHistoryCommand({ executionArn: 'arn:aws:states:nope' }))),
    ]);
    expect(errors.map((e) => e.name)).toEqual([
      'InvalidToken',
      'InvalidToken',
      'ExecutionDoesNotExist',
      'InvalidArn',
    ]);
  });

  it('GetExecutionHistory with includeExecutionData false leaves out every input and output, marked not truncated', async () => {
    const full = await history(mainExecution);
    const lean: HistoryEvent[] = [];
    for await (const page of paginateGetExecutionHistory(
      { client, pageSize: 1000 },
      { executionArn: mainExecution, includeExecutionData: false },
    ))
      lean.push(...(page.events ?? []));

    expect(lean.map((e) => [e.id, e.previousEventId, e.type])).toEqual(
      full.map((e) => [e.id, e.previousEventId, e.type]),
    );
    for (const event of lean) {
      const details = detailsOf(event) ?? {};
      expect(details, event.type).not.toHaveProperty('input');
      expect(details, event.type).not.toHaveProperty('output');
    }
    const entered = lean.find((e) => e.type === 'TaskStateEntered');
    expect(entered?.stateEnteredEventDetails).toEqual({ name: 'Work', inputDetails: { truncated: false } });
    const succeeded = lean.find((e) => e.type === 'TaskSucceeded');
    expect(succeeded?.taskSucceededEventDetails).toEqual({
      resourceType: 'lambda',
      resource: 'invoke',
      outputDetails: { truncated: false },
    });
    expect(lean.at(-1)?.executionSucceededEventDetails).toEqual({ outputDetails: { truncated: false } });
  });

  it('an operation the endpoint does not implement answers HTTP 400 UnknownOperationException', async () => {
    const raw = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AWSStepFunctions.CreateActivity',
      },
      body: JSON.stringify({ name: 'activity' }),
    });

    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { __type: string }).__type).toBe('UnknownOperationException');
    const error = await rejection(noRetries.send(new CreateActivityCommand({ name: 'activity' })));
    expect(error.name).toBe('UnknownOperationException');
    expect(error.$metadata?.httpStatusCode).toBe(400);
  });
});

describe('the history, as AWS records it', () => {
  let events: HistoryEvent[];
  let byId: Map<number, HistoryEvent>;
  /** The nearest `*StateEntered` walking back from `event` along previousEventId. */
  const enteredOf = (event: HistoryEvent) => {
    let current = byId.get(event.previousEventId as number);
    while (current && !current.type?.endsWith('StateEntered'))
      current = byId.get(current.previousEventId as number);
    return current;
  };
  /** A visit's own events: from its Entered along the chain, up to its Exited. */
  const visitOf = (entered: HistoryEvent | undefined) => {
    const visit = entered ? [entered] : [];
    for (let current = entered; current && !current.type?.endsWith('StateExited'); ) {
      current = events.find((e) => e.previousEventId === current?.id && enteredOf(e) === entered);
      if (current && !current.type?.endsWith('StateEntered')) visit.push(current);
      else break;
    }
    return visit;
  };
  const named = (type: string, name: string) =>
    events.filter((e) => e.type === type && detailsOf(e)?.name === name);

  beforeAll(async () => {
    events = await history(mainExecution);
    byId = new Map(events.map((e) => [e.id as number, e]));
  });

  it('every event has an id, previousEventId, timestamp, type and details; ids count up, times never go back', () => {
    expect(events[0]).toMatchObject({ id: 1, previousEventId: 0, type: 'ExecutionStarted' });
    expect(events[0]?.executionStartedEventDetails).toEqual({
      input: '{}',
      inputDetails: { truncated: false },
      roleArn: 'arn:aws:iam::000000000000:role/local',
    });
    // The first state points at 0, as on AWS.
    expect(events[1]).toMatchObject({ id: 2, previousEventId: 0, type: 'PassStateEntered' });
    for (const [i, event] of events.entries()) {
      expect(event.id).toBe(i + 1);
      expect(event.previousEventId).toBeLessThan(event.id as number);
      expect(event.timestamp).toBeInstanceOf(Date);
      if (i > 0)
        expect(event.timestamp?.getTime()).toBeGreaterThanOrEqual(events[i - 1]?.timestamp?.getTime() ?? 0);
    }
    expect(events.at(-1)).toMatchObject({ type: 'ExecutionSucceeded' });
    expect(JSON.parse(events.at(-1)?.executionSucceededEventDetails?.output as string).results).toHaveLength(
      6,
    );
  });

  it('a Lambda task visit: Entered, Scheduled, Started, Succeeded, Exited, each pointing at the one before', () => {
    const [entered] = named('TaskStateEntered', 'Work').filter((e) => detailsOf(e)?.input === '{"item":0}');
    const visit = visitOf(entered);

    expect(visit.map((e) => e.type)).toEqual([
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
    ]);
    for (let i = 1; i < visit.length; i++) expect(visit[i]?.previousEventId).toBe(visit[i - 1]?.id);
    expect(visit[1]?.taskScheduledEventDetails).toEqual({
      resourceType: 'lambda',
      resource: 'invoke',
      region: 'us-east-1',
      parameters: JSON.stringify({ FunctionName: 'worker', Payload: { item: 0 } }),
    });
    expect(visit[2]?.taskStartedEventDetails).toEqual({ resourceType: 'lambda', resource: 'invoke' });
    // TaskSucceeded has the integration's raw result; the Exited the state's output.
    expect(JSON.parse(visit[3]?.taskSucceededEventDetails?.output as string)).toMatchObject({
      StatusCode: 200,
      Payload: { item: 0, ok: true },
    });
    expect(visit[4]?.stateExitedEventDetails).toEqual({
      name: 'Work',
      output: JSON.stringify({ value: { item: 0, ok: true } }),
      outputDetails: { truncated: false },
    });
  });

  it('a retried task: TaskFailed, then another TaskScheduled pointing at it, then the attempt that succeeds', () => {
    const failed = events.filter(
      (e) => e.type === 'TaskFailed' && e.taskFailedEventDetails?.error === 'Flaky',
    );
    expect(failed).toHaveLength(1);
    const entered = enteredOf(failed[0] as HistoryEvent);
    const visit = visitOf(entered);

    expect(detailsOf(entered as HistoryEvent)).toMatchObject({ name: 'Work', input: '{"item":1}' });
    expect(visit.map((e) => e.type)).toEqual([
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
    ]);
    for (let i = 1; i < visit.length; i++) expect(visit[i]?.previousEventId).toBe(visit[i - 1]?.id);
    expect(visit[3]?.taskFailedEventDetails).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke',
      error: 'Flaky',
      cause: expect.stringContaining('try again'),
    });
  });

  it("a caught failure: TaskFailed, the state's Exited pointing at it, then the Catch target's Entered", () => {
    const [entered] = named('TaskStateEntered', 'Risky');
    const visit = visitOf(entered);
    const [recovered] = named('PassStateEntered', 'Recovered');

    expect(visit.map((e) => e.type)).toEqual([
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskStateExited',
    ]);
    expect(visit[3]?.taskFailedEventDetails).toMatchObject({ error: 'Boom' });
    expect(visit[4]?.previousEventId).toBe(visit[3]?.id);
    expect(recovered?.previousEventId).toBe(visit[4]?.id);
    expect(JSON.parse(recovered?.stateEnteredEventDetails?.input as string).error.Error).toBe('Boom');
  });

  it('a Map: MapStateStarted {length}, an iteration per item named after the Map, then Succeeded and Exited', () => {
    const [entered] = named('MapStateEntered', 'Fan out');
    const started = events.find((e) => e.type === 'MapStateStarted');
    const iterations = events.filter((e) => e.type?.startsWith('MapIteration'));
    const succeeded = events.find((e) => e.type === 'MapStateSucceeded');
    const [exited] = named('MapStateExited', 'Fan out');

    expect(started).toMatchObject({
      previousEventId: entered?.id,
      mapStateStartedEventDetails: { length: 6 },
    });
    const startedIterations = iterations.filter((e) => e.type === 'MapIterationStarted');
    expect(startedIterations.map((e) => e.mapIterationStartedEventDetails?.index).sort()).toEqual([
      0, 1, 2, 3, 4, 5,
    ]);
    expect(iterations.filter((e) => e.type === 'MapIterationSucceeded')).toHaveLength(6);
    expect(iterations.every((e) => detailsOf(e)?.name === 'Fan out')).toBe(true);
    // The first three start at once, pointing at MapStateStarted; the first state of each iteration at its start.
    expect(startedIterations.slice(0, 3).every((e) => e.previousEventId === started?.id)).toBe(true);
    for (const iteration of startedIterations) {
      const first = events.find((e) => e.previousEventId === iteration.id && e.type === 'TaskStateEntered');
      expect(first?.stateEnteredEventDetails?.input).toBe(
        JSON.stringify({ item: iteration.mapIterationStartedEventDetails?.index }),
      );
    }
    const lastIteration = iterations.filter((e) => e.type === 'MapIterationSucceeded').at(-1);
    expect(succeeded?.previousEventId).toBe(lastIteration?.id);
    expect(exited?.previousEventId).toBe(lastIteration?.id);
    expect((exited?.id as number) > (succeeded?.id as number)).toBe(true);
  });

  it('every Task event walks back to the Entered of its own visit, with three iterations in the same state at once', () => {
    const work = named('TaskStateEntered', 'Work');
    const firstExit = named('TaskStateExited', 'Work')[0];
    // Concurrency did happen: three visits of Work were open before the first one exited.
    expect(work.filter((e) => (e.id as number) < (firstExit?.id as number))).toHaveLength(3);

    const taskEvents = events.filter((e) => /^Task(Scheduled|Started|Succeeded|Failed)$/.test(e.type ?? ''));
    expect(taskEvents.length).toBeGreaterThanOrEqual(6 * 3 + 3 + 3 * 2);
    for (const event of taskEvents) {
      const entered = enteredOf(event);
      expect(entered?.type, `event ${event.id}`).toBe('TaskStateEntered');
      const name = entered?.stateEnteredEventDetails?.name;
      if (name !== 'Work') continue;
      // Its iteration: the MapIterationStarted the visit's Entered points at.
      const index = byId.get(entered?.previousEventId as number)?.mapIterationStartedEventDetails?.index;
      expect(index, `event ${event.id}`).toBeTypeOf('number');
      if (event.type === 'TaskScheduled')
        expect(JSON.parse(event.taskScheduledEventDetails?.parameters as string).Payload.item).toBe(index);
      if (event.type === 'TaskSucceeded')
        expect(JSON.parse(event.taskSucceededEventDetails?.output as string).Payload.item).toBe(index);
      if (event.type === 'TaskFailed') expect(index).toBe(1);
    }
  });

  it('an optimized integration (states:startExecution) records the same Task events with its resourceType and resource', async () => {
    const [entered] = named('TaskStateEntered', 'Start child');
    const visit = visitOf(entered);

    expect(visit.map((e) => e.type)).toEqual([
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
    ]);
    expect(visit[1]?.taskScheduledEventDetails).toMatchObject({
      resourceType: 'states',
      resource: 'startExecution',
      region: 'us-east-1',
      parameters: JSON.stringify({ StateMachineArn: CHILD, Input: { from: 'main' } }),
    });
    const childArn = JSON.parse(visit[3]?.taskSucceededEventDetails?.output as string).ExecutionArn;
    const child = await client.send(new DescribeExecutionCommand({ executionArn: childArn }));
    expect(child).toMatchObject({ stateMachineArn: CHILD, input: '{"from":"main"}', status: 'SUCCEEDED' });
  });
});

describe('StopExecution', () => {
  it('aborts a running execution: its open Map iterations are aborted, then the execution, with no exits', async () => {
    await sfn.drain();
    releaseHolds();
    const executionArn = await start(HOLD, 'stop-now');
    await until('both iterations hold', () => holds.length === 2);

    await client.send(new StopExecutionCommand({ executionArn, error: 'Cancelled', cause: 'by the test' }));

    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Cancelled', cause: 'by the test' });
    const events = await history(executionArn);
    const tail = events.slice(-3);
    expect(tail.map((e) => [e.type, detailsOf(e)])).toEqual([
      ['MapIterationAborted', { name: 'Hold all', index: 0 }],
      ['MapIterationAborted', { name: 'Hold all', index: 1 }],
      ['ExecutionAborted', { error: 'Cancelled', cause: 'by the test' }],
    ]);
    // Each aborted iteration points at the last event of its own visit (its task's start).
    for (const aborted of tail.slice(0, 2))
      expect(events.find((e) => e.id === aborted.previousEventId)?.type).toBe('TaskStarted');
    expect(events.some((e) => e.type?.endsWith('StateExited') && detailsOf(e)?.name !== 'Slots')).toBe(false);
    // The held tasks finishing afterwards add nothing.
    releaseHolds();
    await sleep(50);
    expect(await history(executionArn)).toHaveLength(events.length);
  });

  it('stopDelayMs: StopExecution waits that long first, so an execution that ends meanwhile is not aborted', async () => {
    await sfn.drain();
    releaseHolds();
    sfn.stopDelayMs = 300;
    try {
      const executionArn = await start(HOLD, 'stop-late');
      await until('both iterations hold', () => holds.length === 2);
      const asked = performance.now();
      const stopping = client.send(new StopExecutionCommand({ executionArn, error: 'Cancelled' }));
      await sleep(50);
      // The workflow ends by itself before the stop lands.
      releaseHolds();
      await stopping;

      expect(performance.now() - asked).toBeGreaterThanOrEqual(290);
      expect((await client.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('SUCCEEDED');
      expect((await history(executionArn)).at(-1)?.type).toBe('ExecutionSucceeded');
    } finally {
      sfn.stopDelayMs = 0;
    }
  });
});

describe('throttling', () => {
  it("defaults to AWS's published quotas (Standard workflows, us-east-1)", () => {
    expect(sfn.throttle.limits('GetExecutionHistory')).toEqual({ bucket: 400, refillPerSecond: 20 });
    expect(sfn.throttle.limits('DescribeExecution')).toEqual({ bucket: 300, refillPerSecond: 15 });
    expect(sfn.throttle.limits('ListExecutions')).toEqual({ bucket: 200, refillPerSecond: 5 });
    expect(Object.keys(AWS_API_QUOTAS).sort()).toEqual([
      'DescribeExecution',
      'DescribeStateMachine',
      'DescribeStateMachineForExecution',
      'GetExecutionHistory',
      'ListExecutions',
      'ListStateMachines',
      'StartExecution',
      'StopExecution',
    ]);
  });

  it('a shrunk bucket: a client without retries gets ThrottlingException (HTTP 400, Rate exceeded)', async () => {
    sfn.throttle.set('GetExecutionHistory', { bucket: 2, refillPerSecond: 0.5 });
    try {
      const read = () =>
        noRetries.send(new GetExecutionHistoryCommand({ executionArn: mainExecution, maxResults: 1 }));
      await read();
      await read();
      const error = await rejection(read());

      expect(error.name).toBe('ThrottlingException');
      expect(error.message).toBe('Rate exceeded');
      expect(error.$metadata?.httpStatusCode).toBe(400);
      // Only that action is throttled.
      await noRetries.send(new DescribeExecutionCommand({ executionArn: mainExecution }));
    } finally {
      sfn.throttle.reset();
    }
  });

  it("with the SDK's default retries, a throttled read succeeds once the bucket has refilled", async () => {
    sfn.throttle.set('GetExecutionHistory', { bucket: 1, refillPerSecond: 20 });
    try {
      await noRetries.send(new GetExecutionHistoryCommand({ executionArn: mainExecution, maxResults: 1 }));
      const answer = await client.send(
        new GetExecutionHistoryCommand({ executionArn: mainExecution, maxResults: 1 }),
      );

      expect(answer.events).toHaveLength(1);
      expect(answer.$metadata.attempts).toBeGreaterThanOrEqual(2);
    } finally {
      sfn.throttle.reset();
    }
  });
});

const CLI = spawnSync('aws', ['--version'], { encoding: 'utf8' }).status === 0;

describe("an operator's read calls", () => {
  it(`answer the CLI's commands, run ${CLI ? 'with the aws CLI' : 'through @aws-sdk/client-sfn paginators (no aws CLI on this machine)'}`, async () => {
    let machines: { name?: string; stateMachineArn?: string }[];
    let forExecution: { name?: string; definition?: string };
    let succeeded: { name?: string }[];
    let latest: { events: { type?: string; id?: number }[]; next: unknown };
    let described: { status?: string; name?: string };
    if (CLI) {
      const { AWS_PROFILE: _profile, AWS_SESSION_TOKEN: _token, ...env } = process.env;
      const aws = async (...args: string[]) => {
        const { stdout } = await promisify(execFile)(
          'aws',
          ['--endpoint-url', endpoint, '--region', 'us-east-1', '--output', 'json', 'stepfunctions', ...args],
          {
            env: { ...env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_PAGER: '' },
            timeout: 60_000,
          },
        );
        return JSON.parse(stdout);
      };
      machines = (await aws('list-state-machines')).stateMachines;
      forExecution = await aws('describe-state-machine-for-execution', '--execution-arn', mainExecution);
      succeeded = (await aws('list-executions', '--state-machine-arn', CHILD, '--status-filter', 'SUCCEEDED'))
        .executions;
      const page = await aws(
        'get-execution-history',
        '--execution-arn',
        mainExecution,
        '--reverse-order',
        '--max-items',
        '5',
      );
      latest = { events: page.events, next: page.NextToken };
      described = await aws('describe-execution', '--execution-arn', mainExecution);
    } else {
      machines = [];
      for await (const p of paginateListStateMachines({ client }, {}))
        machines.push(...(p.stateMachines ?? []));
      forExecution = await client.send(
        new DescribeStateMachineForExecutionCommand({ executionArn: mainExecution }),
      );
      succeeded = [];
      for await (const p of paginateListExecutions(
        { client },
        { stateMachineArn: CHILD, statusFilter: 'SUCCEEDED' },
      ))
        succeeded.push(...(p.executions ?? []));
      const p = await client.send(
        new GetExecutionHistoryCommand({ executionArn: mainExecution, reverseOrder: true, maxResults: 5 }),
      );
      latest = { events: p.events ?? [], next: p.nextToken };
      described = await client.send(new DescribeExecutionCommand({ executionArn: mainExecution }));
    }

    expect(machines.map((m) => m.name)).toEqual(['SfnApiChild', 'SfnApiHold', 'SfnApiMain']);
    expect(forExecution.name).toBe('SfnApiMain');
    expect(JSON.parse(forExecution.definition as string)).toEqual(MAIN_DEFINITION);
    expect(succeeded.map((e) => e.name)).toEqual(
      expect.arrayContaining(['child-1', 'child-2', 'child-3', 'child-4']),
    );
    expect(succeeded).toHaveLength(5);
    expect(latest.events).toHaveLength(5);
    expect(latest.events[0]?.type).toBe('ExecutionSucceeded');
    expect(latest.events.map((e) => e.id)).toEqual(
      [...latest.events.map((e) => e.id)].sort((a, b) => (b ?? 0) - (a ?? 0)),
    );
    expect(latest.next).toBeTruthy();
    expect(described).toMatchObject({ name: 'main-1', status: 'SUCCEEDED' });
  }, 60_000);
});
