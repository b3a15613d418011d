import { readdirSync } from 'node:fs';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_NAMES, ROUTES, routeKey } from '#shared/api/routes.ts';
import { allStates, type Definition, predecessors, type State, synthesize } from './template.ts';

let template: Template;
let definition: Definition;
let functionId: (name: string) => string;
let logicalId: ReturnType<typeof synthesize>['logicalId'];
let stack: ReturnType<typeof synthesize>['stack'];

beforeAll(() => {
  const synthesized = synthesize({ mapConcurrency: 3, corsOrigins: 'https://app.example.com' });
  ({ template, functionId, logicalId, stack } = synthesized);
  definition = synthesized.definition();
});

const IS_RUNNING = {
  And: [
    { Variable: '$.job.Item.status.S', IsPresent: true },
    { Variable: '$.job.Item.status.S', StringEquals: 'IN_PROGRESS' },
  ],
};
/** The direct getItem of the job's status alone, as every cancel check reads it. */
const CANCEL_CHECK = {
  Type: 'Task',
  Resource: 'arn:aws:states:::dynamodb:getItem',
  ResultPath: '$.job',
  Parameters: expect.objectContaining({
    ConsistentRead: true,
    Key: { jobId: { 'S.$': '$.jobId' }, sk: { S: 'JOB' } },
    ProjectionExpression: '#status',
    ExpressionAttributeNames: { '#status': 'status' },
  }),
};

const parallel = (d: Definition = definition) => d.States['Read and process the list'] as State;
const branches = (d: Definition = definition) => parallel(d).Branches as Definition[];
const workers = (d: Definition = definition) => branches(d)[1]?.States.Workers as State;
const worker = (d: Definition = definition) => workers(d).ItemProcessor as Definition;
const functionArn = (name: string) => expect.stringMatching(new RegExp(`:function:${functionId(name)}$`));

describe('workflow', () => {
  it('starts a new sync by marking the job IN_PROGRESS with a conditional update on PENDING', () => {
    const start = definition.States[definition.StartAt] as State;
    expect(start.Type).toBe('Choice');
    expect(start.Choices).toEqual([
      { Variable: '$.resume', IsPresent: true, Next: 'Resume where the last execution stopped' },
    ]);
    const first = definition.States[start.Default as string] as State;
    expect(start.Default).toBe('Mark job in progress');
    expect(first.Resource).toBe('arn:aws:states:::dynamodb:updateItem');
    expect(first.Parameters).toMatchObject({ ConditionExpression: '#status = :pending' });
    expect(first.Next).toBe('Start from the top of the list');
    // One pass over the list, from its top: the reader takes both platforms in turn.
    expect(definition.States['Start from the top of the list']).toMatchObject({
      Type: 'Pass',
      Result: { platform: 'messenger', cursor: null, segment: 0 },
      ResultPath: '$.position',
      Next: 'Check if cancelled before the segment',
    });
  });

  it('checks for cancellation before each segment, whether new or resumed', () => {
    const check = definition.States['Check if cancelled before the segment'] as State;
    expect(check).toMatchObject(CANCEL_CHECK);
    // No ResultSelector: a selector on a missing path would be an uncatchable States.Runtime error.
    expect(check).not.toHaveProperty('ResultSelector');
    expect(check.Next).toBe('Is job still running?');
    expect(predecessors(definition, 'Check if cancelled before the segment').sort()).toEqual([
      'Resume where the last execution stopped',
      'Start from the top of the list',
    ]);
    const choice = definition.States['Is job still running?'] as State;
    expect(choice.Type).toBe('Choice');
    expect(choice.Choices).toEqual([
      { ...IS_RUNNING, Next: 'Read and process the list' },
      // A deleted job record ends the sync through Mark sync failed, which frees the page.
      { Not: { Variable: '$.job.Item', IsPresent: true }, Next: 'Job record is gone' },
    ]);
    expect(choice.Default).toBe('Stop: job is no longer running');
    expect(definition.States['Stop: job is no longer running']?.Type).toBe('Succeed');
    expect(definition.States['Job record is gone']?.Next).toBe('Mark sync failed');
    // The segment is reached through the check only.
    expect(predecessors(definition, 'Read and process the list')).toEqual(['Is job still running?']);
  });

  it('runs a segment as the reader beside the worker slots, in one Parallel state', () => {
    const segment = parallel();
    expect(segment.Type).toBe('Parallel');
    expect(branches().map((b) => b.StartAt)).toEqual(['Read conversations', 'Worker slots']);

    // The reader: one Lambda reading the list once, both platforms, from the segment's position.
    const [reader] = branches();
    expect(Object.keys(reader?.States ?? {})).toEqual(['Read conversations']);
    expect(reader?.States['Read conversations']).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: {
        FunctionName: functionArn('read-conversations'),
        Payload: { 'jobId.$': '$.jobId', 'pageId.$': '$.pageId', 'position.$': '$.position' },
      },
      ResultSelector: { 'next.$': '$.Payload.next', 'stopped.$': '$.Payload.stopped' },
      ResultPath: '$.read',
      End: true,
    });

    // The slots: W = mapConcurrency workers at once, each given its slot number.
    const slots = branches()[1]?.States['Worker slots'] as State;
    expect(slots).toMatchObject({ Type: 'Pass', Result: [0, 1, 2], ResultPath: '$.slots', Next: 'Workers' });
    expect(workers()).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.slots',
      MaxConcurrency: 3,
      ItemSelector: {
        'jobId.$': '$.jobId',
        'pageId.$': '$.pageId',
        'segment.$': '$.position.segment',
        'slot.$': '$$.Map.Item.Value',
        'index.$': '$$.Map.Item.Value',
      },
      ResultPath: null,
      End: true,
    });
    // One Map in the whole definition (the workers), one Parallel (the segment).
    expect(
      allStates(definition)
        .filter(([, s]) => s.Type === 'Map')
        .map(([name]) => name),
    ).toEqual(['Workers']);
    expect(
      allStates(definition)
        .filter(([, s]) => s.Type === 'Parallel')
        .map(([name]) => name),
    ).toEqual(['Read and process the list']);

    // Only the reader's answer (where the list goes on) leaves the segment.
    expect(segment.ResultSelector).toEqual({ 'next.$': '$[0].read.next', 'stopped.$': '$[0].read.stopped' });
    expect(segment.ResultPath).toBe('$.read');
    expect(segment.Next).toBe('More conversations?');
  });

  it('starts every worker turn with the cancel check, which comes before every staged chunk', () => {
    const loop = worker();
    expect(Object.keys(loop.States).sort()).toEqual(
      [
        'Check if cancelled before the chunk',
        'Is job still running? (chunk)',
        'Stop this worker: job no longer running',
        'Process a staged chunk',
        'More chunks for this worker?',
        'Take the next chunk',
        'Worker done',
      ].sort(),
    );
    expect(loop.StartAt).toBe('Check if cancelled before the chunk');
    const check = loop.States['Check if cancelled before the chunk'] as State;
    expect(check).toMatchObject(CANCEL_CHECK);
    expect(check).not.toHaveProperty('ResultSelector');
    expect(check.Next).toBe('Is job still running? (chunk)');
    const choice = loop.States['Is job still running? (chunk)'] as State;
    expect(choice.Type).toBe('Choice');
    expect(choice.Choices).toEqual([{ ...IS_RUNNING, Next: 'Process a staged chunk' }]);
    expect(loop.States[choice.Default as string]?.Type).toBe('Succeed');

    // The chunk is reached only through the check's "still running" answer...
    expect(predecessors(loop, 'Process a staged chunk')).toEqual(['Is job still running? (chunk)']);
    expect(predecessors(loop, 'Is job still running? (chunk)')).toEqual([
      'Check if cancelled before the chunk',
    ]);
    // ...and the loop to the next chunk goes back through the check.
    expect(loop.States['More chunks for this worker?']).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.turn.next', IsNull: true, Next: 'Worker done' }],
      Default: 'Take the next chunk',
    });
    expect(loop.States['Worker done']?.Type).toBe('Succeed');
    expect(loop.States['Take the next chunk']).toEqual({
      Type: 'Pass',
      Parameters: {
        'jobId.$': '$.jobId',
        'pageId.$': '$.pageId',
        'segment.$': '$.segment',
        'slot.$': '$.slot',
        'index.$': '$.turn.next',
      },
      Next: 'Check if cancelled before the chunk',
    });
    expect(predecessors(loop, 'Check if cancelled before the chunk')).toEqual(['Take the next chunk']);

    const chunk = loop.States['Process a staged chunk'] as State;
    expect(chunk).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      ResultSelector: { 'next.$': '$.Payload.next' },
      ResultPath: '$.turn',
      Next: 'More chunks for this worker?',
    });
    expect(chunk.Parameters).toEqual({
      FunctionName: functionArn('process-chunk'),
      Payload: {
        'jobId.$': '$.jobId',
        'pageId.$': '$.pageId',
        'segment.$': '$.segment',
        'index.$': '$.index',
        'slot.$': '$.slot',
        slots: 3,
      },
    });
    // Nothing else in the whole definition processes a chunk.
    const processors = allStates(definition).filter(([, s]) =>
      JSON.stringify(s.Parameters ?? {}).includes(`:function:${functionId('process-chunk')}"`),
    );
    expect(processors.map(([name]) => name)).toEqual(['Process a staged chunk']);
  });

  it('drops the per-chunk cancel checks only when the cancelChecks context is false (benchmark)', () => {
    const unchecked = synthesize({ cancelChecks: false }, 'NoChecks').definition();
    const loop = worker(unchecked);
    expect(loop.StartAt).toBe('Process a staged chunk');
    expect(Object.keys(loop.States).sort()).toEqual([
      'More chunks for this worker?',
      'Process a staged chunk',
      'Take the next chunk',
      'Worker done',
    ]);
    expect(loop.States['Take the next chunk']?.Next).toBe('Process a staged chunk');
    // The check before the segment stays.
    expect(unchecked.States['Check if cancelled before the segment']).toMatchObject(CANCEL_CHECK);
    expect((unchecked.States['Is job still running?'] as State).Choices?.[0]).toEqual({
      ...IS_RUNNING,
      Next: 'Read and process the list',
    });
  });

  it('finalizes when the reader reached the end of the list, else continues in a new execution of itself, which the job then records', () => {
    const more = definition.States['More conversations?'] as State;
    // A reader that found the job paused or cancelled never leads to Finalize; one that found its
    // record deleted leads to the step that frees the page.
    expect((definition.States['Is the job record gone?'] as State).Choices).toEqual([
      { Not: { Variable: '$.job.Item', IsPresent: true }, Next: 'Job record is gone' },
    ]);
    expect((definition.States['Is the job record gone?'] as State).Default).toBe(
      'Stop: job is no longer running',
    );
    expect(more.Choices).toEqual([
      { Variable: '$.read.stopped', BooleanEquals: true, Next: 'Check why the reader stopped' },
      { Variable: '$.read.next', IsNull: true, Next: 'Finalize sync' },
    ]);
    expect(more.Default).toBe('Next segment');
    expect(definition.States['Finalize sync']).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: {
        FunctionName: functionArn('finalize-sync'),
        Payload: { 'jobId.$': '$.jobId', 'pageId.$': '$.pageId', outcome: 'COMPLETED' },
      },
      Next: 'Sync finished',
    });
    // The next position {platform, cursor, segment} is the reader's, as it answered.
    expect(definition.States['Next segment']).toEqual({
      Type: 'Pass',
      InputPath: '$.read.next',
      ResultPath: '$.next',
      Next: 'Is this a resumed run?',
    });
    const continuation = definition.States['Continue in a new execution'] as State;
    expect(continuation.Resource).toBe('arn:aws:states:::states:startExecution');
    expect(continuation.Parameters).toEqual({
      'StateMachineArn.$': '$$.StateMachine.Id',
      'Name.$': "States.Format('{}-{}{}', $.jobId, $.next.platform, $.next.segment)",
      Input: { 'jobId.$': '$.jobId', 'pageId.$': '$.pageId', 'resume.$': '$.next' },
    });
    expect(continuation.ResultSelector).toEqual({ 'executionArn.$': '$.ExecutionArn' });
    expect(continuation.ResultPath).toBe('$.continuation');
    expect(continuation.Next).toBe('Record the new execution on the job');
    const record = definition.States['Record the new execution on the job'] as State;
    expect(record).toMatchObject({
      Resource: 'arn:aws:states:::dynamodb:updateItem',
      Parameters: {
        UpdateExpression: 'SET executionArn = :arn',
        ConditionExpression: '#status = :running',
        ExpressionAttributeValues: {
          ':arn': { 'S.$': '$.continuation.executionArn' },
          ':running': { S: 'IN_PROGRESS' },
        },
      },
      Next: 'Continued in a new execution',
    });
    // Cancelled meanwhile: the new execution stops at its first cancel check.
    expect(record.Catch?.[0]).toEqual({
      ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'],
      ResultPath: null,
      Next: 'Stop: job is no longer running',
    });
    // The new execution starts at the position it was given.
    expect(definition.States['Resume where the last execution stopped']).toMatchObject({
      InputPath: '$.resume',
      ResultPath: '$.position',
      Next: 'Check if cancelled before the segment',
    });
  });

  it('names the continuations of a resumed run apart, so they never collide with the paused run', () => {
    expect(definition.States['Next segment']?.Next).toBe('Is this a resumed run?');
    const which = definition.States['Is this a resumed run?'] as State;
    expect(which.Choices).toEqual([
      { Variable: '$.run', IsPresent: true, Next: 'Continue the resumed run in a new execution' },
    ]);
    expect(which.Default).toBe('Continue in a new execution');
    const resumed = definition.States['Continue the resumed run in a new execution'] as State;
    expect(resumed.Parameters).toEqual({
      'StateMachineArn.$': '$$.StateMachine.Id',
      'Name.$': "States.Format('{}-r{}-{}{}', $.jobId, $.run, $.next.platform, $.next.segment)",
      Input: { 'jobId.$': '$.jobId', 'pageId.$': '$.pageId', 'resume.$': '$.next', 'run.$': '$.run' },
    });
    expect(resumed.Next).toBe('Record the new execution on the job');
    expect((definition.States['Continue in a new execution'] as State).Parameters).toMatchObject({
      'Name.$': "States.Format('{}-{}{}', $.jobId, $.next.platform, $.next.segment)",
    });
  });

  it('lets the state machine start executions of itself only', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap(
        (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
      )
      .filter((st) => [st.Action].flat().includes('states:StartExecution'));
    const own = statements.filter((st) => JSON.stringify(st.Resource).includes('TestStack-contact-sync'));
    expect(own).toHaveLength(1);
  });

  it('catches every failure into the conditional Mark sync failed step', () => {
    const catching = Object.entries(definition.States).filter(([, s]) =>
      ['Task', 'Map', 'Parallel'].includes(s.Type),
    );
    expect(catching.map(([name]) => name)).toContain('Read and process the list');
    for (const [name, state] of catching) {
      if (name === 'Mark sync failed') continue;
      expect(state.Catch, name).toContainEqual(
        expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'Mark sync failed' }),
      );
    }
    // Inside the segment nothing catches: a reader's or a worker's failure fails the segment,
    // which the Parallel's Catch sends to Mark sync failed.
    const nested = allStates(definition).filter(([, , within]) => within.length > 0);
    expect(nested.length).toBeGreaterThan(0);
    for (const [name, state] of nested) expect(state.Catch, name).toBeUndefined();
    expect(definition.States['Mark sync failed']?.Next).toBe('Sync failed');
  });

  it('keeps payloads to ids and cursors: the execution input is never widened with message data', () => {
    const text = JSON.stringify(definition);
    expect(text).not.toMatch(/accessToken|access_token|message"/);
  });

  it('is a Standard state machine', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineType: 'STANDARD' });
  });
});

describe('functions', () => {
  it('run on Node.js 24, ARM64, with tracing', () => {
    const functions = template.findResources('AWS::Lambda::Function', {
      Metadata: { 'contact-sync:entry': Match.anyValue() },
    });
    // One per folder under functions/: each is deployed, and nothing else is.
    const folders = readdirSync(new URL('../../functions/', import.meta.url), { withFileTypes: true });
    expect(Object.keys(functions).length).toBe(folders.filter((entry) => entry.isDirectory()).length);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
      });
    }
  });
});

describe('analysis', () => {
  it('lets only the chunk worker invoke the configured Bedrock model', () => {
    const invokers = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.PolicyDocument).includes('bedrock:InvokeModel'),
    );
    expect(invokers).toHaveLength(1);
    expect(JSON.stringify(invokers[0]?.Properties.Roles)).toContain('ProcessChunk');
    expect(JSON.stringify(invokers[0]?.Properties.PolicyDocument)).toContain(
      'foundation-model/anthropic.claude-3-haiku-20240307-v1:0',
    );
  });
});

describe('api', () => {
  it('uses a JWT authorizer with the issuer and audience from context', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://issuer.example.com/', Audience: ['contact-sync-test'] },
    });
  });

  it.each(ROUTE_NAMES.filter((name) => !('public' in ROUTES[name])).map(routeKey))(
    'routes %s behind the authorizer',
    (key) => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: key,
        AuthorizationType: 'JWT',
      });
    },
  );

  it('serves the OpenAPI document without a token, and nothing else', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'));
    const open = routes
      .filter((r) => r.Properties.AuthorizationType !== 'JWT')
      .map((r) => r.Properties.RouteKey);
    expect(open).toEqual([routeKey('openApi')]);
  });

  it('takes CORS origins from context, and adds the deployed web console', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({
        AllowOrigins: ['https://app.example.com', Match.objectLike({ 'Fn::Join': Match.anyValue() })],
        // A browser client can read when to come back from a busy or throttled answer.
        ExposeHeaders: ['retry-after'],
      }),
    });
  });
});

describe('data', () => {
  it('encrypts page tokens under a rotating KMS key that only connect and token replacement encrypt with and only the reader decrypts with', () => {
    const key = logicalId(stack.data.pageTokenKey);
    expect(template.findResources('AWS::KMS::Key')[key]?.Properties.EnableKeyRotation).toBe(true);
    // Every grant on the key, role by role.
    const onKey = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
        .filter((st) => JSON.stringify(st.Resource).includes(`"${key}"`))
        .flatMap((st) =>
          [st.Action]
            .flat()
            .flatMap((action) => p.Properties.Roles.map((r: { Ref: string }) => `${action} ${r.Ref}`)),
        ),
    );
    const roleOf = (name: string) =>
      template.findResources('AWS::Lambda::Function')[functionId(name)]?.Properties.Role['Fn::GetAtt'][0];
    expect(onKey.sort()).toEqual(
      [
        `kms:Encrypt ${roleOf('connect-page')}`,
        `kms:Encrypt ${roleOf('replace-page-token')}`,
        `kms:Decrypt ${roleOf('read-conversations')}`,
      ].sort(),
    );
  });

  it('keeps idempotency records with a TTL', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
  });

  it('keys jobs by id with a byPage history index', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'jobId', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'byPage' })],
    });
  });

  it('keeps page tokens out of the organization index', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'byOrganization',
          Projection: {
            ProjectionType: 'INCLUDE',
            NonKeyAttributes: Match.not(Match.arrayWith(['accessToken'])),
          },
        }),
      ],
    });
  });
});
