import { readdirSync } from 'node:fs';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesize } from './template.ts';

type State = {
  Type: string;
  Resource?: string;
  Next?: string;
  End?: boolean;
  Choices?: { Next: string }[];
  Default?: string;
} & Record<string, unknown>;
type Definition = { StartAt: string; States: Record<string, State> };

let template: Template;
let definition: Definition;

beforeAll(() => {
  const synthesized = synthesize({ mapConcurrency: 3, corsOrigins: 'https://app.example.com' });
  template = synthesized.template;
  definition = synthesized.definition() as Definition;
});

function mapStates(): [string, State][] {
  return Object.entries(definition.States).filter(([, s]) => s.Type === 'Map');
}

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
  });

  it('continues a large platform in a new execution of itself, which the job then records', () => {
    const more = definition.States['More messenger conversations?'] as State;
    expect(more.Choices).toEqual([
      { Variable: '$.discovery.nextAfter', IsNull: true, Next: 'Start instagram from the beginning' },
    ]);
    expect(more.Default).toBe('Next messenger segment');
    const next = definition.States['Next messenger segment'] as State;
    expect(next.Parameters).toEqual({
      platform: 'messenger',
      'cursor.$': '$.discovery.nextAfter',
      'segment.$': 'States.MathAdd($.position.segment, 1)',
    });
    const continuation = definition.States['Continue in a new execution'] as State;
    expect(continuation.Resource).toBe('arn:aws:states:::states:startExecution');
    expect(continuation.Parameters).toMatchObject({
      'StateMachineArn.$': '$$.StateMachine.Id',
      Input: { 'jobId.$': '$.jobId', 'pageId.$': '$.pageId', 'resume.$': '$.next' },
    });
    expect(continuation.Next).toBe('Record the new execution on the job');
    // The resumed execution starts at the platform it was continuing, with the cursor it got.
    expect(definition.States['Resume where the last execution stopped']).toMatchObject({
      InputPath: '$.resume',
      ResultPath: '$.position',
    });
  });

  it('names the continuations of a resumed run apart, so they never collide with the paused run', () => {
    expect(definition.States['Next messenger segment']?.Next).toBe('Is this a resumed run?');
    const which = definition.States['Is this a resumed run?'] as State;
    expect(which.Choices).toEqual([
      { Variable: '$.run', IsPresent: true, Next: 'Continue the resumed run in a new execution' },
    ]);
    expect(which.Default).toBe('Continue in a new execution');
    const resumed = definition.States['Continue the resumed run in a new execution'] as State;
    expect(resumed.Parameters).toMatchObject({
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

  it('has one Map per platform, messenger before instagram', () => {
    expect(mapStates().map(([name]) => name)).toEqual([
      'Process messenger chunks',
      'Process instagram chunks',
    ]);
    const messenger = definition.States['Process messenger chunks'] as State;
    expect(messenger.Next).toBe('More messenger conversations?');
    expect(definition.States['Start instagram from the beginning']?.Next).toBe(
      'Check if cancelled before instagram',
    );
  });

  it.each(['messenger', 'instagram'])(
    'starts each %s Map iteration with the cancel check, then a Choice',
    (platform) => {
      const map = definition.States[`Process ${platform} chunks`] as State & {
        ItemProcessor: Definition;
        MaxConcurrency: number;
      };
      const processor = map.ItemProcessor;
      const check = processor.States[processor.StartAt] as State;
      expect(processor.StartAt).toBe(`Check if cancelled before ${platform} chunk`);
      expect(check.Resource).toBe('arn:aws:states:::dynamodb:getItem');
      expect(check.Parameters).toMatchObject({
        ConsistentRead: true,
        Key: { jobId: { 'S.$': '$.jobId' } },
        ProjectionExpression: '#status',
      });
      // No ResultSelector: a selector on a missing path would be an uncatchable States.Runtime error.
      expect(check).not.toHaveProperty('ResultSelector');

      const choice = processor.States[check.Next as string] as State;
      expect(choice.Type).toBe('Choice');
      expect(choice.Choices).toEqual([
        {
          And: [
            { Variable: '$.job.Item.status.S', IsPresent: true },
            { Variable: '$.job.Item.status.S', StringEquals: 'IN_PROGRESS' },
          ],
          Next: `Process ${platform} conversation chunk`,
        },
      ]);
      expect((processor.States[choice.Default as string] as State).Type).toBe('Succeed');
      expect((processor.States[`Process ${platform} conversation chunk`] as State).Resource).toBe(
        'arn:aws:states:::lambda:invoke',
      );
      expect(map.MaxConcurrency).toBe(3);
    },
  );

  it('drops the per-chunk cancel checks only when the cancelChecks context is false (benchmark)', () => {
    const states = (synthesize({ cancelChecks: false }, 'NoChecks').definition() as Definition).States;
    for (const platform of ['messenger', 'instagram']) {
      const map = states[`Process ${platform} chunks`] as State & { ItemProcessor: Definition };
      expect(map.ItemProcessor.StartAt).toBe(`Process ${platform} conversation chunk`);
      expect(Object.keys(map.ItemProcessor.States)).toEqual([`Process ${platform} conversation chunk`]);
      // The platform-level check stays.
      expect(states[`Check if cancelled before ${platform}`]?.Resource).toBe(
        'arn:aws:states:::dynamodb:getItem',
      );
    }
  });

  it('checks for cancellation before discovering each platform', () => {
    for (const platform of ['messenger', 'instagram']) {
      const check = definition.States[`Check if cancelled before ${platform}`] as State;
      expect(check.Resource).toBe('arn:aws:states:::dynamodb:getItem');
      const choice = definition.States[check.Next as string] as State;
      expect(choice.Choices?.[0]?.Next).toBe(`Discover ${platform} conversations`);
      // A deleted job record ends the sync through Mark sync failed, which frees the page.
      expect(choice.Choices?.[1]).toEqual({
        Not: { Variable: '$.job.Item', IsPresent: true },
        Next: 'Job record is gone',
      });
      expect(choice.Default).toBe('Stop: job is no longer running');
    }
    expect(definition.States['Job record is gone']?.Next).toBe('Mark sync failed');
  });

  it('catches every failure into the conditional Mark sync failed step', () => {
    const catching = Object.entries(definition.States).filter(
      ([, s]) => s.Type === 'Task' || s.Type === 'Map',
    );
    for (const [name, state] of catching) {
      if (name === 'Mark sync failed') continue;
      const catches = state.Catch as { ErrorEquals: string[]; Next: string }[];
      expect(catches, name).toContainEqual(
        expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'Mark sync failed' }),
      );
    }
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
  it('run on Node.js 22, ARM64, with tracing', () => {
    const functions = template.findResources('AWS::Lambda::Function', {
      Metadata: { 'contact-sync:entry': Match.anyValue() },
    });
    // One per folder under functions/: each is deployed, and nothing else is.
    const folders = readdirSync(new URL('../../functions/', import.meta.url), { withFileTypes: true });
    expect(Object.keys(functions).length).toBe(folders.filter((entry) => entry.isDirectory()).length);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
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

  it.each([
    'POST /api/facebook/sync-background',
    'POST /api/facebook/sync-cancel',
    'GET /api/facebook/sync-status',
    'GET /api/facebook/sync-jobs',
    'GET /api/facebook/pages',
    'POST /api/facebook/pages',
    'DELETE /api/facebook/pages/{pageId}',
    'GET /api/facebook/pages/{pageId}/contacts',
  ])('routes %s behind the authorizer', (routeKey) => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: routeKey,
      AuthorizationType: 'JWT',
    });
  });

  it('serves the OpenAPI document without a token, and nothing else', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'));
    const open = routes
      .filter((r) => r.Properties.AuthorizationType !== 'JWT')
      .map((r) => r.Properties.RouteKey);
    expect(open).toEqual(['GET /openapi.json']);
  });

  it('takes CORS origins from context, and adds the deployed web console', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({
        AllowOrigins: ['https://app.example.com', Match.objectLike({ 'Fn::Join': Match.anyValue() })],
      }),
    });
  });
});

describe('data', () => {
  it('encrypts page tokens under a rotating KMS key that only connect encrypts with and the workers decrypt with', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const kmsActionsByRole = policies.map((p) => ({
      role: JSON.stringify(p.Properties.Roles),
      actions: (p.Properties.PolicyDocument.Statement as { Action: string | string[] }[])
        .flatMap((st) => st.Action)
        .filter((a) => a.startsWith('kms:')),
    }));
    const encrypters = kmsActionsByRole.filter((r) => r.actions.includes('kms:Encrypt')).map((r) => r.role);
    const decrypters = kmsActionsByRole.filter((r) => r.actions.includes('kms:Decrypt')).map((r) => r.role);
    expect(encrypters).toHaveLength(1);
    expect(encrypters[0]).toContain('ConnectPage');
    expect(decrypters.sort()).toEqual([
      expect.stringContaining('DiscoverConversations'),
      expect.stringContaining('ProcessChunk'),
    ]);
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
