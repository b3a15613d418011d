import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  anyVerifier,
  LOCAL_AUDIENCE,
  LOCAL_ISSUER,
  localVerifier,
  oidcVerifier,
  type Verifier,
} from './auth.ts';
import { serveAwsJson } from './aws-json-server.ts';
import { type CfnTemplate, TemplateResolver } from './cloudformation.ts';
import { consoleFallback } from './console-server.ts';
import { connectPage, DEMO_ORG } from './demo-org.ts';
import {
  createTablesFromTemplate,
  keySchemasFromTemplate,
  localDynamoClient,
  startDynamoDbLocal,
} from './dynamodb.ts';
import { ConflictModel, conflictSettingsFromEnv } from './dynamodb-conflicts.ts';
import { startDynamoFaultProxy } from './dynamodb-faults.ts';
import { LocalEventBridge, rulesFromTemplate } from './event-bridge.ts';
import { demoPage } from './graph-sim/demo-data/generate-page.ts';
import type { SimPage } from './graph-sim/demo-data/sim-types.ts';
import { startGraphSimulator } from './graph-sim/server.ts';
import { isAllowedOrigin, refuseForeignHost } from './host-check.ts';
import { routesFromTemplate, serveHttpApi } from './http-api.ts';
import { type IamMode, iamModeFromEnv, LocalIam } from './iam/local-iam.ts';
import { LocalKms } from './kms.ts';
import { LambdaRuntime } from './lambda-runtime.ts';
import { startOidcProvider } from './oidc-provider.ts';
import { startLocalS3 } from './s3.ts';
import { LocalStepFunctions } from './sfn-server.ts';
import { synthesizeTemplate } from './synth.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DATA_DIR = path.join(ROOT, '.local-data');

export interface LocalStackOptions {
  /** HTTP API port; 0 picks a free one. @default 3000 */
  port?: number;
  /** Where DynamoDB is served: the proxy with the IAM checks and the conflict model (the engine behind it takes a free port). */
  dynamoDbPort?: number;
  sfnPort?: number;
  graphSimPort?: number;
  /** Use this Graph API instead of starting the simulator. */
  graphApiUrl?: string;
  graphSimLatencyMs?: number;
  /** Pages to serve from the simulator and connect to `demo-org`. @default the demo page */
  pages?: SimPage[];
  /** CDK context overrides (chunkSize, mapConcurrency, ...). */
  context?: Record<string, unknown>;
  /** Expose the fault injection of the proxy between the handlers and DynamoDB Local (`stack.dynamoFaults`). */
  dynamoDbFaults?: boolean;
  /**
   * DynamoDB's transaction conflicts (local/dynamodb-conflicts.ts), which DynamoDB Local never
   * produces: `false` turns the model off (debugging only), a number sets the hold of a
   * transaction in ms. @default DYNAMODB_CONFLICTS (on) and DYNAMODB_TX_HOLD_MS (25)
   */
  dynamoDbConflicts?: boolean | { txHoldMs: number };
  /**
   * Enforcement of the template's IAM policies (iam/local-iam.ts): `enforce` denies what a role
   * does not allow and makes `stop()` fail if anything was denied; `audit` only records and
   * reports (and fails at stop); `off` checks nothing (debugging). @default LOCAL_IAM, else
   * `enforce`
   */
  iam?: IamMode;
  /** Changes the synthesized template before it runs (a test narrows a role with it). */
  editTemplate?: (template: CfnTemplate) => CfnTemplate;
  /** Sees every HTTP API answer (status and body). */
  onApiResponse?: (status: number, body: string) => void;
  /** Serve the built web console from this folder at `/`, with a dev-token `/config.json`. */
  webRoot?: string;
  /**
   * Run the local OpenID provider (local/oidc-provider.ts) on this port (0: any free one); the API
   * then also accepts its ID tokens (issuer, audience = the console's client id, its JWKS).
   */
  oidcPort?: number;
  /**
   * How the served console signs in: `dev-token` (config.json hands it a fresh dev token) or
   * `oidc` (config.json names the provider; needs `oidcPort`). @default 'dev-token'
   */
  consoleSignIn?: 'dev-token' | 'oidc';
  /** Log each EventBridge event (lifecycle and execution status changes) in one line. @default false */
  logEvents?: boolean;
}

export type LocalStack = Awaited<ReturnType<typeof startLocalStack>>;

/** The stack's conflict model: on unless the option or DYNAMODB_CONFLICTS=off says otherwise. */
function conflictModel(opts: LocalStackOptions, resolver: TemplateResolver): ConflictModel | undefined {
  const env = conflictSettingsFromEnv();
  const option = opts.dynamoDbConflicts;
  if (option === false || (option === undefined && !env.enabled)) return undefined;
  const txHoldMs = typeof option === 'object' ? option.txHoldMs : env.txHoldMs;
  return new ConflictModel({ keySchemas: keySchemasFromTemplate(resolver), txHoldMs });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The embedded stack: DynamoDB Local behind its proxy (IAM checks, the conflict model, faults),
 * S3, the Graph API simulator, the state machine synthesized from infra/ on a local Step Functions
 * endpoint (with KMS and EventBridge on the same endpoint), the template's IAM policies enforced,
 * and the HTTP API emulator, all on loopback. Handlers run in this process and reach the local
 * services through the AWS_ENDPOINT_URL_* variables, like any SDK client would.
 */
export async function startLocalStack(opts: LocalStackOptions = {}) {
  if (opts.consoleSignIn === 'oidc' && opts.oidcPort === undefined)
    throw new Error('consoleSignIn "oidc" needs the OpenID provider (oidcPort)');
  const stops: (() => Promise<void>)[] = [];
  const release = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => {});
  };
  let iam: LocalIam | undefined;
  /** Stops everything, then fails if any call was denied: a role lacks what its code uses. */
  const stop = async () => {
    await release();
    iam?.assertNoDenials();
  };
  try {
    const pages = opts.pages ?? [demoPage()];
    let graphApiUrl = opts.graphApiUrl;
    let graph: Awaited<ReturnType<typeof startGraphSimulator>> | undefined;
    if (!graphApiUrl) {
      graph = await startGraphSimulator({
        port: opts.graphSimPort ?? 0,
        latencyMs: opts.graphSimLatencyMs ?? 0,
        pages,
      });
      stops.push(() => graph?.close() ?? Promise.resolve());
      graphApiUrl = graph.baseUrl;
    }

    const synthesized = synthesizeTemplate({
      jwtIssuer: LOCAL_ISSUER,
      jwtAudience: LOCAL_AUDIENCE,
      graphApiUrl,
      retainData: false,
      analyzer: 'local',
      ...opts.context,
    });
    const template = opts.editTemplate ? opts.editTemplate(synthesized) : synthesized;
    const resolver = new TemplateResolver(template);
    const lambdas = new LambdaRuntime(resolver, ROOT);
    iam = LocalIam.fromTemplate(resolver, lambdas.functionIds(), { mode: opts.iam ?? iamModeFromEnv() });

    const dynamo = await startDynamoDbLocal(await freePort());
    stops.push(() => dynamo.stop());
    // Every call to DynamoDB goes through this proxy: the IAM check, the conflict model and faults.
    const dynamoProxy = await startDynamoFaultProxy(
      dynamo.endpoint,
      iam,
      conflictModel(opts, resolver),
      opts.dynamoDbPort ?? 0,
    );
    stops.push(() => dynamoProxy.close());
    await createTablesFromTemplate(localDynamoClient(dynamo.endpoint), resolver);
    const client = localDynamoClient(dynamoProxy.endpoint);

    // S3 (the staging store), with the same IAM checks.
    const s3 = await startLocalS3(
      resolver.resourcesOfType('AWS::S3::Bucket').map(([id]) => resolver.ref(id)),
      iam,
    );
    stops.push(() => s3.close());

    const sfn = new LocalStepFunctions(lambdas, client, iam);
    // EventBridge: the lifecycle events the handlers put, and Step Functions' status changes on
    // the default bus, delivered to the template's rules (the execution mirror) as on AWS.
    const events = new LocalEventBridge(
      rulesFromTemplate(resolver),
      (functionArn, event) => lambdas.invoke(functionArn, event),
      opts.logEvents ? (line) => console.log(line) : undefined,
    );
    sfn.onStatusChange = (detail) =>
      events.emit('default', {
        source: 'aws.states',
        'detail-type': 'Step Functions Execution Status Change',
        resources: [String(detail.executionArn)],
        detail,
      });
    const machines = resolver
      .resourcesOfType('AWS::StepFunctions::StateMachine')
      .map(([logicalId, resource]) => {
        const definition = JSON.parse(resolver.resolve(resource.Properties?.DefinitionString) as string);
        const machine = {
          arn: resolver.ref(logicalId),
          name: resolver.physicalName(logicalId),
          definition,
          roleArn: String(resolver.resolve(resource.Properties?.RoleArn)),
          // As the template configures them, in the API's casing (DescribeStateMachine answers them).
          loggingConfiguration: camelKeys(resolver.resolve(resource.Properties?.LoggingConfiguration)),
          tracingConfiguration: camelKeys(resolver.resolve(resource.Properties?.TracingConfiguration)),
        };
        sfn.register(machine);
        return machine;
      });
    const kms = new LocalKms(
      resolver.resourcesOfType('AWS::KMS::Key').map(([id]) => resolver.getAtt(id, 'Arn')),
    );
    const aws = await serveAwsJson(
      { AWSStepFunctions: sfn, TrentService: kms, AWSEvents: events },
      opts.sfnPort ?? 0,
      { iam },
    );
    stops.push(() => aws.close());
    // From here on, the handlers' calls to these endpoints name their caller (until the drains).
    const untag = iam.tagRequests([dynamoProxy.endpoint, aws.endpoint, s3.endpoint]);
    stops.push(async () => untag());

    // The handlers' AWS configuration, exactly as a Lambda would see it, plus the template's env.
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamoProxy.endpoint,
      AWS_ENDPOINT_URL_SFN: aws.endpoint,
      AWS_ENDPOINT_URL_KMS: aws.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: aws.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      ...lambdas.sharedEnvironment(),
    });

    const env = lambdas.sharedEnvironment();
    for (const page of pages) await connectPage(DEMO_ORG, page);

    // Tokens are checked against the issuer and audience the template's authorizer declares.
    // With the provider, its ID tokens are accepted too (its verifier is set once it runs).
    const { issuer, audience } = routesFromTemplate(resolver);
    const verifiers: Verifier[] = [await localVerifier(DATA_DIR, issuer, audience)];
    let oidc: { issuer: string; clientId: string; scope: string } | undefined;
    const api = await serveHttpApi({
      resolver,
      lambdas,
      verify: anyVerifier(verifiers),
      port: opts.port ?? 3000,
      onResponse: opts.onApiResponse,
      allowOrigin: (origin, port) => isAllowedOrigin(origin, port),
      fallback: (() => {
        // Only for this server's own Host: the local event feed (GET /__local/events), then the
        // web console, if served.
        const feed = events.feed();
        const web = opts.webRoot
          ? consoleFallback(opts.webRoot, {
              dataDir: DATA_DIR,
              oidc: () => (opts.consoleSignIn === 'oidc' ? oidc : undefined),
            })
          : undefined;
        return (req, res) => refuseForeignHost(req, res) || feed(req, res) || (web?.(req, res) ?? false);
      })(),
    });
    stops.push(() => api.close());
    // An execution's console link (shared/sync/execution-view.ts) opens the console's own view of it.
    process.env.EXECUTION_CONSOLE_URL = `${api.url}/#/jobs/{jobId}/executions/{name}`;
    if (opts.oidcPort !== undefined) {
      const provider = await startOidcProvider({
        port: opts.oidcPort,
        redirectUris: [api.url, `${api.url}/`],
      });
      stops.push(() => provider.close());
      oidc = { issuer: provider.issuer, clientId: provider.clientId, scope: provider.scope };
      verifiers.push(oidcVerifier(provider.issuer, provider.clientId));
    }
    // Stopped in reverse: executions settle first, then their status events are delivered.
    stops.push(() => events.drain());
    stops.push(() => sfn.drain(2000));

    return {
      apiUrl: api.url,
      /** The local OpenID provider, when started (`oidcPort`). */
      oidc,
      /** DynamoDB as every client of the stack sees it: the proxy in front of DynamoDB Local. */
      dynamoDbEndpoint: dynamoProxy.endpoint,
      dynamoFaults: opts.dynamoDbFaults ? dynamoProxy : undefined,
      /** The conflict model's counters since the stack started (or the last reset). */
      dynamoConflicts: {
        stats: () => dynamoProxy.conflicts(),
        reset: () => dynamoProxy.model?.resetStats(),
        txHoldMs: dynamoProxy.model?.txHoldMs ?? null,
      },
      sfnEndpoint: aws.endpoint,
      s3Endpoint: s3.endpoint,
      graphApiUrl,
      graph,
      sfn,
      events,
      lambdas,
      iam,
      template,
      machines,
      tables: {
        jobs: env.JOBS_TABLE as string,
        pages: env.PAGES_TABLE as string,
        contacts: env.CONTACTS_TABLE as string,
      },
      dynamo: client,
      stop,
    };
  } catch (error) {
    await release();
    throw error;
  }
}

/** A CloudFormation property (PascalCase keys) in the casing of the AWS API's JSON (camelCase). */
function camelKeys(value: unknown): Record<string, unknown> | undefined {
  const convert = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(convert)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v).map(([k, inner]) => [`${k[0]?.toLowerCase()}${k.slice(1)}`, convert(inner)]),
          )
        : v;
  return value && typeof value === 'object' ? (convert(value) as Record<string, unknown>) : undefined;
}
