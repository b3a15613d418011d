import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContactSync, type ContactSyncProps } from '../../infra/index.ts';

/**
 * A host's own CDK app: stacks of its own, each with its own resources and ContactSync beside
 * them, once trusting an issuer URL and once with the Cognito user pool the construct creates.
 */
const outdir = mkdtempSync(path.join(tmpdir(), 'contact-sync-host-'));
const issuerKeyDir = mkdtempSync(path.join(tmpdir(), 'contact-sync-host-key-'));
afterAll(() => {
  for (const dir of [outdir, issuerKeyDir]) rmSync(dir, { recursive: true, force: true });
});

function hostApp() {
  return new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
}

function hostStack(app: App, id: string, ...products: [string, ContactSyncProps][]) {
  const stack = new Stack(app, id, { env: { account: '111111111111', region: 'eu-west-1' } });
  new Bucket(stack, 'HostReports', { enforceSSL: true });
  const placed = products.map(([productId, props]) => new ContactSync(stack, productId, props));
  return { stack, placed };
}

/** The JSON the deployment writes as the console's config.json, its deploy-time values as markers. */
function consoleConfig(
  app: App,
  stack: Stack,
): { config: Record<string, unknown>; markers: Record<string, unknown> } {
  const assembly = app.synth();
  const template = Template.fromStack(stack);
  const deployments = template.findResources('Custom::CDKBucketDeployment', {
    Properties: { DestinationKeyPrefix: Match.absent() },
  });
  const [deployment] = Object.values(deployments);
  const keys = deployment?.Properties.SourceObjectKeys as string[];
  for (const [i, key] of keys.entries()) {
    const dir = path.join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`);
    // The console's build is not staged: the tests skip bundling.
    if (!existsSync(dir) || !readdirSync(dir).includes('config.json')) continue;
    const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
    return { config, markers: deployment?.Properties.SourceMarkers?.[i] ?? {} };
  }
  throw new Error('no config.json among the console deployment sources');
}

let issuerHost: ReturnType<typeof hostStack>;
let cognitoHost: ReturnType<typeof hostStack>;
let app: App;
beforeAll(() => {
  app = hostApp();
  issuerHost = hostStack(app, 'HostWithIssuer', [
    'Sync',
    { jwtIssuer: 'https://login.example.com/', jwtAudience: ['contact-sync-console', 'cli'] },
  ]);
  cognitoHost = hostStack(app, 'HostWithCognito', [
    'Sync',
    // With cognito the audience is the construct's own client: a given one is ignored.
    { jwtIssuer: 'cognito', jwtAudience: ['ignored'], retainData: false },
  ]);
});

describe('ContactSync in a host stack, trusting an issuer URL', () => {
  it('places the whole product next to the host resources', () => {
    const template = Template.fromStack(issuerHost.stack);
    template.resourceCountIs('AWS::DynamoDB::Table', 5);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.resourceCountIs('AWS::Events::EventBus', 1);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.resourceCountIs('AWS::CloudFront::Distribution', 1);
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
    expect(
      Object.keys(template.findResources('AWS::S3::Bucket')).some((id) => id.startsWith('HostReports')),
    ).toBe(true);
    const [product] = issuerHost.placed;
    expect(product?.apiUrl).toBeDefined();
    expect(product?.stateMachine).toBe(product?.workflow.stateMachine);
    expect(product?.eventBus).toBe(product?.events.bus);
    expect(Object.keys(product?.tables ?? {})).toEqual([
      'jobs',
      'pages',
      'contacts',
      'rateLimits',
      'idempotency',
    ]);
    expect(product?.consoleUrl).toBeDefined();
    expect(product?.cognito).toBeUndefined();
  });

  it("has the API's JWT authorizer trust that issuer and audience", () => {
    Template.fromStack(issuerHost.stack).hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://login.example.com/', Audience: ['contact-sync-console', 'cli'] },
    });
  });

  it("tells the console the issuer and, by default, the audience's first entry as its client", () => {
    const { config } = consoleConfig(app, issuerHost.stack);
    expect(config).toEqual({
      apiUrl: expect.any(String),
      oidc: {
        issuer: 'https://login.example.com/',
        clientId: 'contact-sync-console',
        scope: 'openid email profile',
      },
    });
  });

  it('takes the console client id from consoleClientId when given', () => {
    const other = hostApp();
    const { stack } = hostStack(other, 'HostWithClient', [
      'Sync',
      { jwtIssuer: 'https://login.example.com/', jwtAudience: ['api'], consoleClientId: 'console-spa' },
    ]);
    expect(consoleConfig(other, stack).config.oidc).toEqual({
      issuer: 'https://login.example.com/',
      clientId: 'console-spa',
      scope: 'openid email profile',
    });
  });

  it('finds nothing unacknowledged with cdk-nag', () => {
    const report = new AwsSolutionsChecks().validateScope(issuerHost.placed[0] as ContactSync);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('ContactSync in a host stack, with Cognito built in', () => {
  const ids = () => {
    const template = Template.fromStack(cognitoHost.stack);
    const only = (type: string) => {
      const found = Object.keys(template.findResources(type));
      expect(found, type).toHaveLength(1);
      return found[0] as string;
    };
    return {
      template,
      pool: only('AWS::Cognito::UserPool'),
      client: only('AWS::Cognito::UserPoolClient'),
      distribution: only('AWS::CloudFront::Distribution'),
    };
  };

  it('creates a user pool only an operator adds users to, with the organization attribute', () => {
    const { template } = ids();
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      Schema: Match.arrayWith([
        Match.objectLike({ Name: 'org_id', AttributeDataType: 'String', Mutable: true }),
      ]),
    });
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
  });

  it('creates a code-flow client without a secret, back at the console, that reads but never writes the organization', () => {
    const { template, pool, distribution } = ids();
    const consoleUrl = { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distribution, 'DomainName'] }]] };
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      UserPoolId: { Ref: pool },
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: Match.arrayWith(['openid', 'email', 'profile']),
      CallbackURLs: [consoleUrl],
      LogoutURLs: [consoleUrl],
      SupportedIdentityProviders: ['COGNITO'],
      ReadAttributes: Match.arrayWith(['custom:org_id']),
    });
    const [client] = Object.values(template.findResources('AWS::Cognito::UserPoolClient'));
    expect(client?.Properties.AllowedOAuthScopes.sort()).toEqual(['email', 'openid', 'profile']);
    expect(client?.Properties.WriteAttributes).not.toContain('custom:org_id');
  });

  it("has the API's JWT authorizer trust the pool, with the client as the audience", () => {
    const { template, pool, client } = ids();
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: {
        Issuer: { 'Fn::Join': ['', ['https://cognito-idp.eu-west-1.amazonaws.com/', { Ref: pool }]] },
        Audience: [{ Ref: client }],
      },
    });
    const product = cognitoHost.placed[0] as ContactSync;
    expect(product.cognito?.userPool).toBeDefined();
    expect(product.cognito?.client).toBeDefined();
    expect(product.cognito?.domain).toBeDefined();
  });

  it('tells the console the pool as its issuer and the client as its client id', () => {
    const { pool, client } = ids();
    const { config, markers } = consoleConfig(app, cognitoHost.stack);
    // Each deploy-time value stands in the file as a marker the deployment replaces.
    const resolved = JSON.parse(
      JSON.stringify(config).replace(/<<marker:0xbaba:\d+>>/g, (m) =>
        JSON.stringify(markers[m]).replace(/"/g, "'"),
      ),
    );
    expect(resolved.oidc).toEqual({
      issuer: `https://cognito-idp.eu-west-1.amazonaws.com/{'Ref':'${pool}'}`,
      clientId: `{'Ref':'${client}'}`,
      scope: 'openid email profile',
    });
  });

  it('finds nothing unacknowledged with cdk-nag', () => {
    const report = new AwsSolutionsChecks().validateScope(cognitoHost.placed[0] as ContactSync);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('two ContactSync in one stack', () => {
  it('synthesize, with the state machine and sign-in domain named after each construct path', () => {
    const { stack } = hostStack(
      hostApp(),
      'TwoProducts',
      ['Emea', { jwtIssuer: 'cognito' }],
      ['Americas', { jwtIssuer: 'cognito' }],
    );
    const template = Template.fromStack(stack);
    const names = Object.values(template.findResources('AWS::StepFunctions::StateMachine')).map(
      (r) => r.Properties.StateMachineName,
    );
    expect(names.sort()).toEqual(['TwoProducts-Americas-contact-sync', 'TwoProducts-Emea-contact-sync']);
    const prefixes = Object.values(template.findResources('AWS::Cognito::UserPoolDomain')).map(
      (r) => r.Properties.Domain as string,
    );
    expect(new Set(prefixes).size).toBe(2);
    for (const prefix of prefixes) expect(prefix).toMatch(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/);
    template.resourceCountIs('AWS::DynamoDB::Table', 10);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 2);
  });
});

describe('props', () => {
  it('require an audience with an issuer URL', () => {
    const stack = new Stack(hostApp(), 'NoAudience');
    expect(() => new ContactSync(stack, 'Sync', { jwtIssuer: 'https://login.example.com/' })).toThrow(
      /jwtAudience is required/,
    );
  });

  it('require the web console where it is what users sign in to', () => {
    const stack = new Stack(hostApp(), 'NoConsole');
    expect(() => new ContactSync(stack, 'Sync', { jwtIssuer: 'cognito', webConsole: false })).toThrow(
      /keep webConsole on/,
    );
  });

  it('leave oidc out of the console config with the self-hosted issuer', () => {
    const other = hostApp();
    const { stack } = hostStack(other, 'SelfHosted', [
      'Sync',
      { jwtIssuer: 'self', jwtAudience: ['contact-sync'], issuerKeyDir },
    ]);
    expect(consoleConfig(other, stack).config).toEqual({ apiUrl: expect.any(String) });
  });
});
