import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { signLocalToken } from '../../../local/auth.ts';
import { type CfnTemplate, localArn, TemplateResolver } from '../../../local/cloudformation.ts';
import { startDynamoFaultProxy } from '../../../local/dynamodb-faults.ts';
import { runAs } from '../../../local/iam/caller-identity.ts';
import { LocalIam } from '../../../local/iam/local-iam.ts';
import { LambdaRuntime } from '../../../local/lambda-runtime.ts';
import { DATA_DIR, type LocalStack, ROOT, startLocalStack } from '../../../local/local-stack.ts';
import { synthesizeTemplate } from '../../../local/synth.ts';
import { HttpClient, PATHS, pollUntil, query, simPages } from '../../e2e/http-client.ts';
import { allow, functionWithRole, request, serveBehindIam } from './function-roles.ts';

/** What the IAM objects of this file report (instead of stderr). */
const reported: string[] = [];
const report = (line: string) => reported.push(line);

describe('the roles of the synthesized template', () => {
  let iam: LocalIam;
  let resolver: TemplateResolver;
  const fn = (prefix: string) => {
    const id = new LambdaRuntime(resolver, ROOT).functionIds().find((f) => f.startsWith(prefix));
    return localArn.lambda(id as string);
  };
  const id = (type: string, prefix: string) =>
    resolver.resourcesOfType(type).find(([logicalId]) => logicalId.startsWith(prefix))?.[0] as string;
  const allowed = (caller: string, action: string, resource: string) =>
    iam.authorize(caller, [request(action, resource)]) === undefined;

  beforeAll(() => {
    resolver = new TemplateResolver(
      synthesizeTemplate({ jwtIssuer: 'x', jwtAudience: 'y', retainData: false, analyzer: 'local' }),
    );
    iam = LocalIam.fromTemplate(resolver, new LambdaRuntime(resolver, ROOT).functionIds(), {
      mode: 'enforce',
      report,
    });
  });
  afterEach(() => {
    iam.takeDenials();
  });

  it('lets the state machine invoke its workers (also qualified), continue itself, and nothing more', () => {
    const machine = resolver.ref(id('AWS::StepFunctions::StateMachine', 'Workflow'));
    expect(machine).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:ContactSyncLocal-contact-sync');
    expect(allowed(machine, 'lambda:InvokeFunction', fn('ProcessChunk'))).toBe(true);
    expect(allowed(machine, 'lambda:InvokeFunction', `${fn('ProcessChunk')}:$LATEST`)).toBe(true);
    expect(allowed(machine, 'states:StartExecution', machine)).toBe(true);
    expect(allowed(machine, 'dynamodb:GetItem', localArn.table(id('AWS::DynamoDB::Table', 'DataJobs')))).toBe(
      true,
    );
    expect(allowed(machine, 'lambda:InvokeFunction', fn('CancelSync'))).toBe(false);
    expect(allowed(machine, 'dynamodb:PutItem', localArn.table(id('AWS::DynamoDB::Table', 'DataJobs')))).toBe(
      false,
    );
    expect(iam.denials.map((d) => d.caller)).toEqual([machine, machine]);
  });

  it('lets cancel-sync stop this state machine’s executions only', () => {
    const machine = resolver.ref(id('AWS::StepFunctions::StateMachine', 'Workflow'));
    const execution = `${machine.replace(':stateMachine:', ':execution:')}:job-1`;
    expect(allowed(fn('CancelSync'), 'states:StopExecution', execution)).toBe(true);
    expect(
      allowed(fn('CancelSync'), 'states:StopExecution', execution.replace('ContactSyncLocal', 'Other')),
    ).toBe(false);
    expect(allowed(fn('CancelSync'), 'states:StartExecution', machine)).toBe(false);
    expect(allowed(fn('StartSync'), 'states:StartExecution', machine)).toBe(true);
  });

  it('gives each function its own tables, key use and bus', () => {
    const jobs = localArn.table(id('AWS::DynamoDB::Table', 'DataJobs'));
    const key = localArn.kmsKey(id('AWS::KMS::Key', 'DataPageTokenKey'));
    const bus = localArn.eventBus(resolver.ref(id('AWS::Events::EventBus', 'EventsBus')));
    expect(allowed(fn('MirrorExecution'), 'dynamodb:UpdateItem', jobs)).toBe(true);
    expect(allowed(fn('MirrorExecution'), 'dynamodb:PutItem', jobs)).toBe(false);
    expect(allowed(fn('SyncJobs'), 'dynamodb:Query', `${jobs}/index/byPage`)).toBe(true);
    expect(allowed(fn('SyncStatus'), 'dynamodb:Query', `${jobs}/index/byPage`)).toBe(false);
    expect(allowed(fn('SyncStatus'), 'dynamodb:UpdateItem', jobs)).toBe(false);
    expect(allowed(fn('ConnectPage'), 'kms:Encrypt', key)).toBe(true);
    expect(allowed(fn('ConnectPage'), 'kms:Decrypt', key)).toBe(false);
    expect(allowed(fn('ReadConversations'), 'kms:Decrypt', key)).toBe(true);
    // The workers read staged chunks: they never see the page token.
    expect(allowed(fn('ProcessChunk'), 'kms:Decrypt', key)).toBe(false);
    expect(allowed(fn('FinalizeSync'), 'events:PutEvents', bus)).toBe(true);
    expect(allowed(fn('SyncStatus'), 'events:PutEvents', bus)).toBe(false);
    expect(iam.denials).toHaveLength(6);
    expect(iam.denials[0]?.message).toMatch(
      /^User: arn:aws:sts::000000000000:assumed-role\/MirrorExecution\w+\/MirrorExecution\w+ is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table\/DataJobs\w+/,
    );
  });

  it('lets a denied call through in audit mode, but still records it', () => {
    const audit = LocalIam.fromTemplate(resolver, new LambdaRuntime(resolver, ROOT).functionIds(), {
      mode: 'audit',
      report,
    });
    expect(audit.authorize(fn('SyncStatus'), [request('dynamodb:DeleteTable', '*')])).toBeUndefined();
    expect(audit.takeDenials().map((d) => d.action)).toEqual(['dynamodb:DeleteTable']);
  });

  it('never checks a call without a caller, and checks nothing when off', () => {
    expect(iam.authorize(undefined, [request('dynamodb:DeleteTable', '*')])).toBeUndefined();
    const off = LocalIam.fromTemplate(resolver, [], { mode: 'off', report });
    expect(off.authorize(fn('SyncStatus'), [request('dynamodb:DeleteTable', '*')])).toBeUndefined();
    expect(iam.denials).toEqual([]);
    expect(off.denials).toEqual([]);
  });
});

describe('a handler’s DynamoDB call through the proxy', () => {
  const tables = inject('tables');
  const caller = localArn.lambda('Reader');
  // A template fragment: one function whose role may read the jobs table, nothing else.
  const fragment: CfnTemplate = {
    Resources: functionWithRole('Reader', [allow('dynamodb:GetItem', localArn.table(tables.JOBS_TABLE))]),
  };
  const iam = LocalIam.fromTemplate(new TemplateResolver(fragment), ['Reader'], { mode: 'enforce', report });
  const proxy = serveBehindIam(
    iam,
    () => startDynamoFaultProxy(inject('dynamoDbEndpoint'), iam),
    (endpoint) =>
      new DynamoDBClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
        maxAttempts: 1,
      }),
  );
  const key = { jobId: { S: 'iam-test-job' }, sk: { S: 'JOB' } };

  it('answers AccessDeniedException, as DynamoDB does, and records the denial', async () => {
    const put = new PutItemCommand({ TableName: tables.JOBS_TABLE, Item: key });
    const error = await runAs(caller, () => proxy.client.send(put)).catch((e: Error) => e);
    expect(error).toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
      message: `User: arn:aws:sts::000000000000:assumed-role/ReaderRole/Reader is not authorized to perform: dynamodb:PutItem on resource: ${localArn.table(tables.JOBS_TABLE)} because no identity-based policy allows the dynamodb:PutItem action`,
    });
    expect(reported.at(-1)).toBe(
      `[iam] DENIED dynamodb:PutItem on ${localArn.table(tables.JOBS_TABLE)} to ${caller} (role arn:aws:iam::000000000000:role/ReaderRole)`,
    );
    expect(iam.takeDenials()).toEqual([
      expect.objectContaining({
        caller,
        role: 'arn:aws:iam::000000000000:role/ReaderRole',
        action: 'dynamodb:PutItem',
        resource: localArn.table(tables.JOBS_TABLE),
      }),
    ]);
  });

  it('lets an allowed call through, and does not check the harness’s own calls', async () => {
    await proxy.client.send(new PutItemCommand({ TableName: tables.JOBS_TABLE, Item: key }));
    const read = await runAs(caller, () =>
      proxy.client.send(new GetItemCommand({ TableName: tables.JOBS_TABLE, Key: key })),
    );
    expect(read.Item?.jobId).toEqual(key.jobId);
    expect(iam.denials).toEqual([]);
    expect(iam.used.get(caller)).toEqual(new Set([`dynamodb:GetItem ${localArn.table(tables.JOBS_TABLE)}`]));
  });

  it('names the caller of a fetch too', async () => {
    const answer = await runAs(caller, () =>
      fetch(proxy.server.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.DeleteItem',
        },
        body: JSON.stringify({ TableName: tables.JOBS_TABLE, Key: key }),
      }),
    );
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({
      __type: 'com.amazonaws.dynamodb.v20120810#AccessDeniedException',
    });
    expect(iam.takeDenials().map((d) => d.action)).toEqual(['dynamodb:DeleteItem']);
  });
});

/** Removes from the policy whose logical id starts with `policy` the statements `drop` picks. */
function revoke(template: CfnTemplate, policy: string, drop: (statement: string) => boolean): CfnTemplate {
  const copy = structuredClone(template);
  const [, resource] = (Object.entries(copy.Resources).find(
    ([id, r]) => r.Type === 'AWS::IAM::Policy' && id.startsWith(policy),
  ) ?? [policy, undefined]) as unknown as [
    string,
    { Properties: { PolicyDocument: { Statement: unknown[] } } },
  ];
  if (!resource) throw new Error(`No policy ${policy}* in the template`);
  const document = resource.Properties.PolicyDocument;
  const before = document.Statement.length;
  document.Statement = document.Statement.filter((s) => !drop(JSON.stringify(s)));
  if (document.Statement.length === before) throw new Error(`Nothing revoked from ${policy}`);
  return copy;
}

describe('the embedded stack with narrowed roles', () => {
  const page = simPages('9520000000', 'IAM')('narrowed', 6, 0);
  let stack: LocalStack | undefined;

  beforeAll(async () => {
    stack = await startLocalStack({
      port: 0,
      sfnPort: 0,
      graphSimPort: 0,
      pages: [page],
      context: { chunkSize: 3 },
      editTemplate: (template) => {
        // start-sync may no longer publish (best effort: the 202 hides it), sync-status may no
        // longer read jobs, and the state machine may no longer run its cancel check.
        let narrowed = revoke(template, 'StartSyncRoleDefaultPolicy', (s) => s.includes('events:PutEvents'));
        narrowed = revoke(narrowed, 'SyncStatusRoleDefaultPolicy', (s) => s.includes('dynamodb:'));
        return revoke(narrowed, 'WorkflowStateMachineRoleDefaultPolicy', (s) =>
          s.includes('"dynamodb:GetItem"'),
        );
      },
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('denies, records and reports each call a narrowed role no longer allows', async () => {
    const live = stack as LocalStack;
    const http = new HttpClient(live.apiUrl);
    const token = await signLocalToken(DATA_DIR, { org: 'demo-org', user: 'iam-tester' });
    const started = await http.post(PATHS.start, token, { pageId: page.id });
    expect(started.status).toBe(202);
    const { jobId } = started.body as { jobId: string };

    const status = await http.get(`${PATHS.status}${query({ jobId })}`, token);
    expect(status.status).toBe(500);
    const job = await pollUntil(
      'the job to fail at its cancel check',
      async () =>
        (
          await live.dynamo.send(
            new GetItemCommand({
              TableName: live.tables.jobs,
              Key: { jobId: { S: jobId }, sk: { S: 'JOB' } },
            }),
          )
        ).Item,
      (item) => item?.status?.S === 'FAILED',
    );
    expect(job?.status?.S).toBe('FAILED');
    await live.sfn.drain();
    const machine = live.machines[0]?.arn as string;
    // The check failed as a DynamoDB integration fails on AWS: DynamoDB.AccessDeniedException.
    const { events } = live.sfn.GetExecutionHistory({
      executionArn: `${machine.replace(':stateMachine:', ':execution:')}:${jobId}`,
    });
    expect(events.find((e) => e.type === 'TaskFailed')).toMatchObject({
      taskFailedEventDetails: { error: 'DynamoDB.AccessDeniedException' },
    });

    const fnArn = (prefix: string) =>
      localArn.lambda(live.lambdas.functionIds().find((f) => f.startsWith(prefix)) as string);
    const bus = localArn.eventBus(live.lambdas.sharedEnvironment().EVENT_BUS_NAME as string);
    expect(live.iam.denials.map(({ caller, action, resource }) => ({ caller, action, resource }))).toEqual(
      expect.arrayContaining([
        { caller: fnArn('StartSync'), action: 'events:PutEvents', resource: bus },
        {
          caller: fnArn('SyncStatus'),
          action: 'dynamodb:GetItem',
          resource: localArn.table(live.tables.jobs),
        },
        { caller: machine, action: 'dynamodb:GetItem', resource: localArn.table(live.tables.jobs) },
      ]),
    );
    // What the roles still allow went through, checked: start-sync's writes and StartExecution.
    expect([...(live.iam.used.get(fnArn('StartSync')) ?? [])]).toEqual(
      expect.arrayContaining([
        `states:StartExecution ${machine}`,
        `dynamodb:UpdateItem ${localArn.table(live.tables.jobs)}`,
      ]),
    );
    expect([...(live.iam.used.get(machine) ?? [])]).toContain(
      `dynamodb:UpdateItem ${localArn.table(live.tables.jobs)}`,
    );

    // The run cannot end green: stop() fails while a denial is recorded.
    stack = undefined;
    await expect(live.stop()).rejects.toThrow(/IAM: \d+ call\(s\) were denied/);
    expect(live.iam.takeDenials().length).toBeGreaterThanOrEqual(3);
  });
});
