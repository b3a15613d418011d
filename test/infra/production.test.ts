import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import aslValidator from 'asl-validator';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { issuerKey, signWithIssuerKey } from '../../infra/self-issuer.ts';
import { allStates, synthesize } from './template.ts';

/** What `cdk deploy` gives a team: checked, least-privileged, observable, configured per stage. */
const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};
let dev: ReturnType<typeof synthesize>;
let prod: ReturnType<typeof synthesize>;

beforeAll(() => {
  // The stages exactly as cdk.json defines them, with no test overrides.
  dev = synthesize({ ...cdkJson.context, jwtIssuer: undefined, jwtAudience: undefined }, 'DevStack');
  prod = synthesize(
    { ...cdkJson.context, stage: 'prod', jwtIssuer: undefined, jwtAudience: undefined },
    'ProdStack',
  );
});

describe('cdk-nag (AwsSolutions)', () => {
  it.each(['dev', 'prod'])('finds nothing unacknowledged in the %s stage', (stage) => {
    const { stack } = stage === 'dev' ? dev : prod;
    const report = new AwsSolutionsChecks().validateScope(stack);
    const findings = report.violations.flatMap((v) =>
      v.violatingResources.map((r) => `${v.ruleName} at ${(r as { constructPath?: string }).constructPath}`),
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('reports a finding that nobody acknowledged (the check can fail)', async () => {
    const { Bucket } = await import('aws-cdk-lib/aws-s3');
    const probe = synthesize({ webConsole: false }, 'NagProbe');
    new Bucket(probe.stack, 'Unchecked');
    const report = new AwsSolutionsChecks().validateScope(probe.stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual(
      expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']),
    );
  });
});

describe('the state machine definition', () => {
  it('passes asl-validator', () => {
    const { isValid, errorsText } = aslValidator(dev.definition());
    expect(errorsText('\n')).toBe('');
    expect(isValid).toBe(true);
    // The validator does reject a broken definition.
    expect(aslValidator({ StartAt: 'Missing', States: {} }).isValid).toBe(false);
  });

  it('logs every state transition to CloudWatch without execution data, and traces with X-Ray', () => {
    dev.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [Match.objectLike({ CloudWatchLogsLogGroup: Match.anyValue() })],
      },
      TracingConfiguration: { Enabled: true },
    });
  });
});

describe('secrets', () => {
  it('puts no secret in any Lambda environment: names, ARNs and settings only', () => {
    for (const { template } of [dev, prod]) {
      for (const [id, fn] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
        for (const [name, value] of Object.entries(fn.Properties.Environment?.Variables ?? {})) {
          if (typeof value !== 'string') {
            // A reference to a resource of the stack (a table or bus name, a key or state machine ARN).
            expect(Object.keys(value as object), `${id} ${name}`).toEqual([
              expect.stringMatching(/^(Ref|Fn::GetAtt)$/),
            ]);
            continue;
          }
          expect(name, id).not.toMatch(/SECRET|PASSWORD|TOKEN(?!_KEY_ID)/);
          expect(value, `${id} ${name}`).toMatch(/^[\w.:/=,-]{0,80}$/);
          expect(value, `${id} ${name}`).not.toMatch(/^EAA|@|:\/\/[^/]*:[^/]*@/);
        }
      }
    }
  });

  it('keeps state payloads to ids, cursors and statuses: no path reads anything else', () => {
    const text = JSON.stringify(dev.definition());
    // Every reference path, also those in brackets ($[0]...) and inside intrinsic functions.
    const paths = new Set([...text.matchAll(/(?<=["(,\s])(\$\$?(?:\.\w+|\[\d+\])+)/g)].map((m) => m[1]));
    expect(paths).toContain('$.jobId');
    const allowed =
      /^\$\.(jobId|pageId|run|resume|next(\.(platform|segment))?|position(\.segment)?|error|continuation(\.executionArn)?|job(\.Item(\.status(\.S)?)?)?|read(\.(next|stopped))?|slots|slot|segment|index|turn(\.next)?|Payload\.(next|stopped)|ExecutionArn)$|^\$\[0\]\.read\.(next|stopped)$|^\$\$\.(Execution\.StartTime|StateMachine\.Id|Map\.Item\.Value)$/;
    expect([...paths].filter((p) => !allowed.test(p as string))).toEqual([]);
    // The check does catch a path outside the list.
    expect(allowed.test('$.Payload.conversations')).toBe(false);
    // A worker's answer enters the state only through a selector of named fields, at every level.
    const invokes = allStates(dev.definition()).filter(
      ([, state]) => state.Resource === 'arn:aws:states:::lambda:invoke' && state.ResultPath !== null,
    );
    expect(invokes.map(([name]) => name).sort()).toEqual(['Process a staged chunk', 'Read conversations']);
    expect(Object.fromEntries(invokes.map(([name, state]) => [name, state.ResultSelector]))).toEqual({
      'Read conversations': { 'next.$': '$.Payload.next', 'stopped.$': '$.Payload.stopped' },
      'Process a staged chunk': { 'next.$': '$.Payload.next' },
    });
  });

  it('keeps page tokens under the rotating KMS key, which the stack retains in production', () => {
    prod.template.hasResource('AWS::KMS::Key', {
      Properties: Match.objectLike({
        EnableKeyRotation: true,
        Description: Match.stringLikeRegexp('access tokens'),
      }),
      DeletionPolicy: 'Retain',
    });
  });
});

describe('observability', () => {
  it('runs every function with X-Ray and the Powertools service name and metrics namespace', () => {
    const functions = Object.values(dev.template.findResources('AWS::Lambda::Function')).filter(
      (f) => f.Metadata?.['contact-sync:entry'],
    );
    for (const fn of functions) {
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(fn.Properties.Environment.Variables).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'contact-sync',
        POWERTOOLS_METRICS_NAMESPACE: 'ContactSync',
      });
    }
  });

  it('alarms on failed, timed-out and throttled executions, and on every function errors and throttles', () => {
    const alarms = Object.values(dev.template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties,
    );
    const on = (namespace: string, metric: string) =>
      alarms.filter((a) => a.Namespace === namespace && a.MetricName === metric);
    expect(on('AWS/States', 'ExecutionsFailed')).toHaveLength(1);
    expect(on('AWS/States', 'ExecutionsTimedOut')).toHaveLength(1);
    expect(on('AWS/States', 'ExecutionThrottled')).toHaveLength(1);
    // One Errors and one Throttles alarm per function, each on its own function.
    const functions = Object.entries(dev.template.findResources('AWS::Lambda::Function'))
      .filter(([, f]) => f.Metadata?.['contact-sync:entry'])
      .map(([id]) => id)
      .sort();
    expect(functions).toHaveLength(20);
    for (const metric of ['Errors', 'Throttles']) {
      const watched = on('AWS/Lambda', metric).map((a) => {
        expect(a.Dimensions).toHaveLength(1);
        return a.Dimensions[0].Value.Ref as string;
      });
      expect(watched.sort(), metric).toEqual(functions);
    }
    for (const name of ['read-conversations', 'process-chunk', 'discard-staging'])
      expect(functions).toContain(dev.functionId(name));
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({ Threshold: 1, TreatMissingData: 'notBreaching', Statistic: 'Sum' });
      expect(alarm.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^MonitoringAlarms/) }]);
    }
  });

  it('sends the alarms to an encrypted topic, and to an email when the stage names one', () => {
    dev.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    dev.template.resourceCountIs('AWS::SNS::Subscription', 0);
    const withEmail = synthesize({ alarmEmail: 'ops@example.com', webConsole: false }, 'EmailStack');
    withEmail.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it('has a dashboard with the product metrics next to the executions, the API and the functions', () => {
    const [dashboard] = Object.values(dev.template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    for (const metric of [
      'SyncsStarted',
      'SyncsCompleted',
      'SyncsCancelled',
      'SyncsFailed',
      'ContactsSynced',
      'ContactsFailed',
      'CancelLatency',
      'ExecutionsStarted',
      '5xx',
      'Errors',
      'Throttles',
    ])
      expect(body).toContain(metric);
    expect(body).toContain('ContactSync');
  });

  it('logs every API request, without headers or bodies', () => {
    dev.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
    const [stage] = Object.values(dev.template.findResources('AWS::ApiGatewayV2::Stage'));
    expect(stage?.Properties.AccessLogSettings.Format).not.toMatch(/header|body|authorization/i);
  });
});

describe('config per stage', () => {
  const tables = (s: typeof dev) => Object.values(s.template.findResources('AWS::DynamoDB::Table'));
  const logGroups = (s: typeof dev) => Object.values(s.template.findResources('AWS::Logs::LogGroup'));

  it('keeps data and logs in production and cleans up in dev', () => {
    const kept = (s: typeof dev) =>
      tables(s)
        .filter((t) => t.DeletionPolicy === 'Retain')
        .map((t) => JSON.stringify(t.Properties.KeySchema));
    // Jobs, pages and contacts; the idempotency and rate-limit records expire within hours anyway.
    expect(kept(prod)).toHaveLength(3);
    expect(kept(dev)).toHaveLength(0);
    expect(logGroups(prod).every((g) => g.DeletionPolicy === 'Retain')).toBe(true);
    expect(logGroups(dev).every((g) => g.DeletionPolicy === 'Delete')).toBe(true);
    // `cdk destroy` of a dev stage leaves nothing behind.
    const retained = Object.entries(
      dev.template.toJSON().Resources as Record<string, { DeletionPolicy?: string }>,
    )
      .filter(([, r]) => r.DeletionPolicy === 'Retain')
      .map(([id]) => id);
    expect(retained).toEqual([]);
  });

  it('turns on point-in-time recovery on every table', () => {
    for (const table of tables(prod))
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });

  it('applies the stage log retention to every log group', () => {
    expect(new Set(logGroups(prod).map((g) => g.Properties.RetentionInDays))).toEqual(new Set([365]));
    expect(new Set(logGroups(dev).map((g) => g.Properties.RetentionInDays))).toEqual(new Set([14]));
  });

  it('takes the Graph API version, Bedrock model, JWT, concurrency, chunk size and API limits from the stage, and a -c value over it', () => {
    const custom = synthesize(
      {
        ...cdkJson.context,
        stage: 'prod',
        graphApiVersion: 'v22.0',
        bedrockModelId: 'anthropic.claude-3-5-haiku-20241022-v1:0',
        chunkSize: 25,
        mapConcurrency: 2,
        jwtIssuer: 'https://login.example.org/',
        jwtAudience: 'crm,console',
        webConsole: false,
        apiRateLimit: 20,
        apiBurstLimit: 40,
      },
      'CustomStack',
    );
    custom.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
    });
    const env = Object.values(custom.template.findResources('AWS::Lambda::Function')).find(
      (f) => f.Metadata?.['contact-sync:entry'] === 'functions/process-chunk/handler.ts',
    )?.Properties.Environment.Variables;
    expect(env).toMatchObject({
      GRAPH_API_URL: 'https://graph.facebook.com/v22.0',
      BEDROCK_MODEL_ID: 'anthropic.claude-3-5-haiku-20241022-v1:0',
      CHUNK_SIZE: '25',
    });
    custom.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      JwtConfiguration: { Issuer: 'https://login.example.org/', Audience: ['crm', 'console'] },
    });
    expect(JSON.stringify(custom.definition())).toContain('"MaxConcurrency":2');
  });

  it.each([
    [{ stage: 'staging' }, /stages.staging is not defined/],
    [{ chunkSize: 0 }, /chunkSize must be a positive integer/],
    [{ graphApiVersion: '21' }, /graphApiVersion must look like v21.0/],
    [{ logRetentionDays: 10 }, /logRetentionDays must be one CloudWatch Logs accepts/],
  ])('refuses a bad value (%o)', (bad, message) => {
    expect(() =>
      synthesize({ ...cdkJson.context, ...bad, jwtIssuer: undefined, jwtAudience: undefined }),
    ).toThrow(message);
  });
});

/** A file of the synthesized assets (the data a BucketDeployment uploads), by name. */
function assetFile(synthesized: typeof dev, name: string): string {
  const dir = synthesized.app.synth().directory;
  const found = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(
    (f) => path.basename(f) === name,
  );
  expect(found).toHaveLength(1);
  return path.join(dir, found[0] as string);
}

describe('outputs and the web console', () => {
  it('outputs the API URL, the state machine ARN, a console link to its executions, and the dashboard', () => {
    const outputs = dev.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual(
      [
        'AlarmTopicArn',
        'ApiUrl',
        'DashboardUrl',
        'ExecutionsConsoleUrl',
        'JwtAudience',
        'JwtIssuer',
        'StateMachineArn',
        'WebConsoleUrl',
      ].sort(),
    );
    const executions = JSON.stringify(outputs.ExecutionsConsoleUrl?.Value);
    expect(executions).toContain('.console.aws.amazon.com/states/home?region=');
    expect(executions).toContain('#/statemachines/view/');
    expect(executions).toContain(dev.logicalId(dev.stack.workflow.stateMachine));
  });

  it('serves the console from a private bucket through CloudFront over HTTPS', () => {
    dev.template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    dev.template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
        Origins: [Match.objectLike({ OriginAccessControlId: Match.anyValue() })],
      }),
    });
  });

  it('writes config.json with the API URL (and no token) beside the console, and lets its origin call the API', () => {
    const [deployment] = Object.values(dev.template.findResources('Custom::CDKBucketDeployment'));
    const markers = JSON.stringify(deployment?.Properties.SourceMarkers);
    expect(markers).toContain(dev.logicalId(dev.stack.api.httpApi));
    expect(markers).not.toMatch(/token/i);
    prod.template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.objectLike({
        AllowOrigins: [
          'https://app.example.com',
          { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [Match.anyValue(), 'DomainName'] }]] },
        ],
      }),
    });
  });

  it('hosts its own OpenID issuer (jwtIssuer: self) beside the console: public key only, online before the authorizer', async () => {
    const [distributionId] = Object.keys(dev.template.findResources('AWS::CloudFront::Distribution'));
    const issuer = {
      'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }]],
    };
    dev.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      JwtConfiguration: { Issuer: issuer, Audience: ['contact-sync'] },
    });
    const key = issuerKey(dev.stack.node.tryGetContext('issuerKeyDir'), 'contact-sync-dev');
    const [documentsId, documents] = Object.entries(
      dev.template.findResources('Custom::CDKBucketDeployment'),
    ).find(([id]) => id.startsWith('Issuer')) ?? ['', undefined];
    // The key set, as uploaded: the public key with its id.
    const jwks = JSON.parse(readFileSync(assetFile(dev, 'jwks.json'), 'utf8'));
    expect(jwks).toEqual({ keys: [{ ...key.publicJwk, kid: 'contact-sync-dev', alg: 'RS256', use: 'sig' }] });
    // A token from `npm run token -- --stage dev` verifies against it, with the claims the API reads.
    const claims = {
      issuer: 'https://d123.cloudfront.net',
      audience: 'contact-sync',
      org: 'acme',
      user: 'ana',
    };
    const token = await signWithIssuerKey(key, { ...claims, expiresIn: '5m' });
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: claims.issuer,
      audience: claims.audience,
      algorithms: ['RS256'],
    });
    expect(payload).toMatchObject({ org_id: 'acme', sub: 'ana' });
    expect(documents?.Properties.DestinationBucketKeyPrefix).toBe('.well-known/');
    // Nothing of the private key is in the template.
    const template = JSON.stringify(dev.template.toJSON());
    for (const part of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const)
      expect(template).not.toContain(key.privateJwk[part] as string);
    // API Gateway reads the discovery document when the authorizer is created.
    const authorizer = Object.values(dev.template.findResources('AWS::ApiGatewayV2::Authorizer'))[0];
    expect(authorizer?.DependsOn).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`^${documentsId.slice(0, 20)}`))]),
    );
    expect(() => synthesize({ jwtIssuer: 'self', webConsole: false }, 'NoSite')).toThrow(
      /keep webConsole on/,
    );
  });

  it('leaves the console out when the stage says so', () => {
    const without = synthesize({ webConsole: false }, 'NoConsole');
    without.template.resourceCountIs('AWS::CloudFront::Distribution', 0);
    expect(Object.keys(without.template.toJSON().Outputs)).not.toContain('WebConsoleUrl');
  });
});
