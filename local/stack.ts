import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, localVerifier } from './auth.ts';
import { serveAwsJson } from './aws-json-server.ts';
import { TemplateResolver } from './cloudformation.ts';
import { createTablesFromTemplate, localDynamoClient, startDynamoDbLocal } from './dynamodb.ts';
import { startDynamoFaultProxy } from './dynamodb-faults.ts';
import { LocalEventBridge, rulesFromTemplate } from './events.ts';
import { demoPage, type SimPage } from './graph-sim/seed.ts';
import { startGraphSimulator } from './graph-sim/server.ts';
import { routesFromTemplate, serveHttpApi } from './http-api.ts';
import { LocalKms } from './kms.ts';
import { LambdaRuntime } from './lambda-runtime.ts';
import { connectPage, DEMO_ORG } from './seed.ts';
import { LocalStepFunctions } from './sfn-server.ts';
import { synthesizeTemplate } from './synth.ts';
import { consoleFallback } from './web-console.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DATA_DIR = path.join(ROOT, '.local-data');

export interface LocalStackOptions {
  /** HTTP API port; 0 picks a free one. @default 3000 */
  port?: number;
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
  /** Put a fault-injecting proxy between the handlers and DynamoDB Local (`stack.dynamoFaults`). */
  dynamoDbFaults?: boolean;
  /** Sees every HTTP API answer (status and body). */
  onApiResponse?: (status: number, body: string) => void;
  /** Serve the built web console from this folder at `/`, with a dev-token `/config.json`. */
  webRoot?: string;
  /** Log each EventBridge event (lifecycle and execution status changes) in one line. @default false */
  logEvents?: boolean;
}

export type LocalStack = Awaited<ReturnType<typeof startLocalStack>>;

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
 * The embedded stack: DynamoDB Local, the Graph API simulator, the state machine synthesized from
 * infra/ on a local Step Functions endpoint, and the HTTP API emulator, all on loopback. Handlers
 * run in this process and reach the local services through AWS_ENDPOINT_URL_DYNAMODB and
 * AWS_ENDPOINT_URL_SFN, like any SDK client would.
 */
export async function startLocalStack(opts: LocalStackOptions = {}) {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => {});
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

    const dynamo = await startDynamoDbLocal(opts.dynamoDbPort || (await freePort()));
    stops.push(() => dynamo.stop());
    const dynamoFaults = opts.dynamoDbFaults ? await startDynamoFaultProxy(dynamo.endpoint) : undefined;
    if (dynamoFaults) stops.push(() => dynamoFaults.close());

    const template = synthesizeTemplate({
      jwtIssuer: LOCAL_ISSUER,
      jwtAudience: LOCAL_AUDIENCE,
      graphApiUrl,
      retainData: false,
      analyzer: 'local',
      ...opts.context,
    });
    const resolver = new TemplateResolver(template);
    const client = localDynamoClient(dynamo.endpoint);
    await createTablesFromTemplate(client, resolver);

    const lambdas = new LambdaRuntime(resolver, ROOT);
    const sfn = new LocalStepFunctions(lambdas, client);
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
        const machine = { arn: resolver.ref(logicalId), name: logicalId, definition };
        sfn.register(machine);
        return machine;
      });
    const kms = new LocalKms(
      resolver.resourcesOfType('AWS::KMS::Key').map(([id]) => resolver.getAtt(id, 'Arn')),
    );
    const aws = await serveAwsJson(
      { AWSStepFunctions: sfn, TrentService: kms, AWSEvents: events },
      opts.sfnPort ?? 0,
    );
    stops.push(() => aws.close());

    // The handlers' AWS configuration, exactly as a Lambda would see it, plus the template's env.
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamoFaults?.endpoint ?? dynamo.endpoint,
      AWS_ENDPOINT_URL_SFN: aws.endpoint,
      AWS_ENDPOINT_URL_KMS: aws.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: aws.endpoint,
      ...lambdas.sharedEnvironment(),
    });

    const env = lambdas.sharedEnvironment();
    for (const page of pages) await connectPage(DEMO_ORG, page);

    // Tokens are checked against the issuer and audience the template's authorizer declares.
    const { issuer, audience } = routesFromTemplate(resolver);
    const api = await serveHttpApi({
      resolver,
      lambdas,
      verify: await localVerifier(DATA_DIR, issuer, audience),
      port: opts.port ?? 3000,
      onResponse: opts.onApiResponse,
      fallback: (() => {
        // The local event feed (GET /__local/events), then the web console, if served.
        const feed = events.feed();
        const web = opts.webRoot ? consoleFallback(opts.webRoot, { dataDir: DATA_DIR }) : undefined;
        return (req, res) => feed(req, res) || (web?.(req, res) ?? false);
      })(),
    });
    stops.push(() => api.close());
    // Stopped in reverse: executions settle first, then their status events are delivered.
    stops.push(() => events.drain());
    stops.push(() => sfn.drain(2000));

    return {
      apiUrl: api.url,
      dynamoDbEndpoint: dynamo.endpoint,
      dynamoFaults,
      sfnEndpoint: aws.endpoint,
      graphApiUrl,
      graph,
      sfn,
      events,
      lambdas,
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
    await stop();
    throw error;
  }
}
