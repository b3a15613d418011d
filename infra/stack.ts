import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { Api } from './api.ts';
import { Data } from './data.ts';
import { Events } from './events.ts';
import { SyncFunction } from './sync-function.ts';
import { Workflow } from './workflow.ts';

export interface ContactSyncConfig {
  jwtIssuer: string;
  jwtAudience: string[];
  graphApiUrl: string;
  mapConcurrency: number;
  chunkSize: number;
  /** Chunks per execution before the workflow continues in a new one (continue-as-new). */
  maxChunksPerSegment: number;
  /** `bedrock` (production) or `local` (the deterministic embedded analyzer). */
  analyzer: 'bedrock' | 'local';
  bedrockModelId: string;
  corsOrigins: string[];
  /** Keep tables when the stack is deleted (production). */
  retainData: boolean;
  /** The per-chunk cancel checks; `false` only for the benchmark's cost measurement. */
  cancelChecks: boolean;
}

/** Reads the stage config from CDK context (cdk.json or --context), failing on a bad value. */
export function configFromContext(scope: Construct): ContactSyncConfig {
  const get = (key: string) => scope.node.tryGetContext(key);
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : String(v).split(','));
  const int = (key: string, fallback: number) => {
    const raw = get(key);
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`Context ${key} must be a positive integer`);
    return value;
  };
  const issuer = get('jwtIssuer');
  const audience = get('jwtAudience');
  if (!issuer || !audience) throw new Error('Context jwtIssuer and jwtAudience are required (see cdk.json)');
  return {
    jwtIssuer: String(issuer),
    jwtAudience: list(audience),
    graphApiUrl: String(get('graphApiUrl') ?? 'https://graph.facebook.com/v21.0'),
    mapConcurrency: int('mapConcurrency', 4),
    chunkSize: int('chunkSize', 50),
    maxChunksPerSegment: int('maxChunksPerSegment', 200),
    analyzer: get('analyzer') === 'local' ? 'local' : 'bedrock',
    bedrockModelId: String(get('bedrockModelId') ?? 'anthropic.claude-3-haiku-20240307-v1:0'),
    corsOrigins: list(get('corsOrigins') ?? '*'),
    retainData: String(get('retainData') ?? 'true') !== 'false',
    cancelChecks: String(get('cancelChecks') ?? 'true') !== 'false',
  };
}

/** The whole product: data, workers + workflow, and the HTTP API, each granted only what it uses. */
export class ContactSyncStack extends Stack {
  readonly data: Data;
  readonly workflow: Workflow;
  readonly events: Events;
  readonly api: Api;

  constructor(scope: Construct, id: string, config: ContactSyncConfig, props?: StackProps) {
    super(scope, id, props);
    this.data = new Data(this, 'Data', {
      removalPolicy: config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const { jobs, pages, contacts } = this.data;
    const env = this.data.environment;
    // Lifecycle events: whoever changes a job's status publishes it (shared/events/lifecycle.ts).
    this.events = new Events(this, 'Events');
    const publisherEnv = { ...env, ...this.events.environment };
    const workerEnv = {
      ...env,
      GRAPH_API_URL: config.graphApiUrl,
      CHUNK_SIZE: String(config.chunkSize),
      MAX_CHUNKS_PER_SEGMENT: String(config.maxChunksPerSegment),
      PAGE_TOKEN_KEY_ID: this.data.pageTokenKey.keyArn,
      RATE_LIMIT_TABLE: this.data.rateLimits.tableName,
    };

    const discover = new SyncFunction(this, 'DiscoverConversations', {
      name: 'discover-conversations',
      environment: workerEnv,
    }).fn;
    const processChunk = new SyncFunction(this, 'ProcessChunk', {
      name: 'process-chunk',
      environment: { ...workerEnv, ANALYZER: config.analyzer, BEDROCK_MODEL_ID: config.bedrockModelId },
      // A chunk is up to 100 conversations, analysed a few at a time.
      timeout: Duration.minutes(5),
    }).fn;
    if (config.analyzer === 'bedrock') {
      processChunk.addToRolePolicy(
        new PolicyStatement({
          actions: ['bedrock:InvokeModel'],
          resources: [
            this.formatArn({
              service: 'bedrock',
              account: '',
              resource: 'foundation-model',
              resourceName: config.bedrockModelId,
            }),
          ],
        }),
      );
    }
    const finalize = new SyncFunction(this, 'FinalizeSync', {
      name: 'finalize-sync',
      environment: publisherEnv,
    }).fn;
    this.events.grantPublish(finalize);
    jobs.grantReadWriteData(discover);
    pages.grantReadData(discover);
    jobs.grantReadWriteData(processChunk);
    pages.grantReadWriteData(processChunk);
    contacts.grantReadWriteData(processChunk);
    this.data.rateLimits.grantReadWriteData(discover);
    this.data.rateLimits.grantReadWriteData(processChunk);
    this.data.pageTokenKey.grantDecrypt(discover);
    this.data.pageTokenKey.grantDecrypt(processChunk);
    jobs.grantReadWriteData(finalize);
    pages.grantReadWriteData(finalize);

    this.workflow = new Workflow(this, 'Workflow', {
      jobs,
      discover,
      processChunk,
      finalize,
      mapConcurrency: config.mapConcurrency,
      cancelChecks: config.cancelChecks,
    });
    const machine = this.workflow.stateMachine;
    const apiEnv = { ...publisherEnv, STATE_MACHINE_ARN: machine.stateMachineArn };
    const fn = (id: string, name: string, environment: Record<string, string> = env) =>
      new SyncFunction(this, id, { name, environment }).fn;

    const startSync = fn('StartSync', 'start-sync', {
      ...apiEnv,
      IDEMPOTENCY_TABLE: this.data.idempotency.tableName,
    });
    jobs.grantReadWriteData(startSync);
    pages.grantReadWriteData(startSync);
    this.data.idempotency.grantReadWriteData(startSync);
    machine.grantStartExecution(startSync);
    this.events.grantPublish(startSync);

    const cancelSync = fn('CancelSync', 'cancel-sync', apiEnv);
    jobs.grantReadWriteData(cancelSync);
    pages.grantReadWriteData(cancelSync);
    machine.grantExecution(cancelSync, 'states:StopExecution');
    this.events.grantPublish(cancelSync);
    // Cancel with cleanup deletes the contacts the job created.
    contacts.grantReadWriteData(cancelSync);

    const cancelSyncBulk = fn('CancelSyncBulk', 'cancel-sync-bulk', apiEnv);
    jobs.grantReadWriteData(cancelSyncBulk);
    pages.grantReadWriteData(cancelSyncBulk);
    machine.grantExecution(cancelSyncBulk, 'states:StopExecution');
    this.events.grantPublish(cancelSyncBulk);

    // Pause holds the page lock (no page write); resume starts the job's next execution; retry
    // starts a new job like start-sync (it takes the lock).
    const pauseSync = fn('PauseSync', 'pause-sync', apiEnv);
    jobs.grantReadWriteData(pauseSync);
    machine.grantExecution(pauseSync, 'states:StopExecution');
    this.events.grantPublish(pauseSync);
    const resumeSync = fn('ResumeSync', 'resume-sync', apiEnv);
    jobs.grantReadWriteData(resumeSync);
    machine.grantStartExecution(resumeSync);
    this.events.grantPublish(resumeSync);
    const retrySync = fn('RetrySync', 'retry-sync', apiEnv);
    jobs.grantReadWriteData(retrySync);
    pages.grantReadWriteData(retrySync);
    machine.grantStartExecution(retrySync);
    this.events.grantPublish(retrySync);

    // The job mirrors its execution's real state, from Step Functions' status-change events.
    const mirrorExecution = fn('MirrorExecution', 'mirror-execution');
    jobs.grant(mirrorExecution, 'dynamodb:UpdateItem');
    this.events.mirrorExecutions(machine, mirrorExecution);

    const syncStatus = fn('SyncStatus', 'sync-status');
    jobs.grantReadData(syncStatus);

    const syncJobs = fn('SyncJobs', 'sync-jobs');
    jobs.grantReadData(syncJobs);
    pages.grantReadData(syncJobs);

    const listPages = fn('Pages', 'pages');
    jobs.grantReadData(listPages);
    pages.grantReadData(listPages);

    const connectPage = fn('ConnectPage', 'connect-page', {
      ...env,
      PAGE_TOKEN_KEY_ID: this.data.pageTokenKey.keyArn,
    });
    pages.grantReadWriteData(connectPage);
    jobs.grantReadData(connectPage);
    this.data.pageTokenKey.grantEncrypt(connectPage);

    // Disconnecting cancels an active sync first, so it holds the cancel function's rights.
    const disconnectPage = fn('DisconnectPage', 'disconnect-page', apiEnv);
    pages.grantReadWriteData(disconnectPage);
    jobs.grantReadWriteData(disconnectPage);
    machine.grantExecution(disconnectPage, 'states:StopExecution');
    this.events.grantPublish(disconnectPage);

    const pageContacts = fn('PageContacts', 'page-contacts');
    pages.grantReadData(pageContacts);
    contacts.grantReadData(pageContacts);

    const openApi = fn('OpenApi', 'openapi', {});

    this.api = new Api(this, 'Api', {
      jwtIssuer: config.jwtIssuer,
      jwtAudience: config.jwtAudience,
      corsOrigins: config.corsOrigins,
      routes: [
        { method: HttpMethod.POST, path: '/api/facebook/sync-background', handler: startSync },
        { method: HttpMethod.POST, path: '/api/facebook/sync-cancel', handler: cancelSync },
        { method: HttpMethod.POST, path: '/api/facebook/sync-cancel-bulk', handler: cancelSyncBulk },
        { method: HttpMethod.POST, path: '/api/facebook/sync-pause', handler: pauseSync },
        { method: HttpMethod.POST, path: '/api/facebook/sync-resume', handler: resumeSync },
        { method: HttpMethod.POST, path: '/api/facebook/sync-retry', handler: retrySync },
        { method: HttpMethod.GET, path: '/api/facebook/sync-status', handler: syncStatus },
        { method: HttpMethod.GET, path: '/api/facebook/sync-jobs', handler: syncJobs },
        { method: HttpMethod.GET, path: '/api/facebook/pages', handler: listPages },
        { method: HttpMethod.POST, path: '/api/facebook/pages', handler: connectPage },
        { method: HttpMethod.DELETE, path: '/api/facebook/pages/{pageId}', handler: disconnectPage },
        { method: HttpMethod.GET, path: '/api/facebook/pages/{pageId}/contacts', handler: pageContacts },
        { method: HttpMethod.GET, path: '/openapi.json', handler: openApi, public: true },
      ],
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.httpApi.apiEndpoint });
    new CfnOutput(this, 'StateMachineArn', { value: machine.stateMachineArn });
  }
}
