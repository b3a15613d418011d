import { CfnOutput, Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { CONTACTS_BY_CREATING_JOB, JOBS_BY_PAGE, PAGES_BY_ORGANIZATION } from '#shared/store/table-keys.ts';
import { Api } from './api.ts';
import { Cognito } from './cognito.ts';
import { Data } from './data.ts';
import { Events } from './events.ts';
import { Monitoring } from './monitoring.ts';
import { SelfIssuer } from './self-issuer.ts';
import { type ContactSyncConfig, type ContactSyncProps, settingsOf } from './stage-settings.ts';
import { Staging } from './staging.ts';
import { SyncFunction } from './sync-function.ts';
import { WebConsole } from './web-console.ts';
import { Workflow } from './workflow.ts';

/**
 * Names the product gives resources (the state machine's): `<stack>` for the construct `Default`
 * right under its stack (the stage stacks), else `<stack>-<construct path>`, so two instances in
 * one stack never collide.
 */
function namePrefixOf(scope: Construct): { namePrefix?: string } {
  const stack = Stack.of(scope);
  const path = scope.node.scopes.slice(scope.node.scopes.indexOf(stack) + 1).map((s) => s.node.id);
  if (path.length === 1 && path[0] === 'Default') return {};
  const prefix = [stack.stackName, ...path].join('-').replace(/[^A-Za-z0-9_-]/g, '-');
  // A state machine's name is at most 80 characters (the prefix, then "-contact-sync").
  return {
    namePrefix:
      prefix.length <= 67 ? prefix : Names.uniqueResourceName(scope, { maxLength: 67, separator: '-' }),
  };
}

/**
 * The whole product, placed in any stack: data, workers + workflow, the HTTP API, events,
 * monitoring and the web console (and, with `jwtIssuer: "cognito"`, its own user pool).
 *
 * Least privilege: each function is granted its exact DynamoDB actions table by table (and index
 * by index), never a table-wide read/write grant; the list next to each function is what its code
 * does (test/infra/least-privilege.test.ts pins them, and the embedded stack enforces them, so a
 * missing grant fails the end-to-end tests).
 */
export class ContactSync extends Construct {
  readonly data: Data;
  readonly workflow: Workflow;
  readonly events: Events;
  readonly staging: Staging;
  readonly api: Api;
  readonly monitoring: Monitoring;
  readonly webConsole?: WebConsole;
  readonly selfIssuer?: SelfIssuer;
  /** With `jwtIssuer: "cognito"`: the user pool, the console's app client and the hosted domain. */
  readonly cognito?: Cognito;
  /** The settings in force: the props with their defaults. */
  readonly config: ContactSyncConfig;
  /** The issuer the API's JWT authorizer trusts, and the audiences it accepts. */
  readonly jwtIssuer: string;
  readonly jwtAudience: string[];

  constructor(scope: Construct, id: string, props: ContactSyncProps) {
    super(scope, id);
    const config = settingsOf(props);
    this.config = config;
    const stack = Stack.of(this);
    const retention = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.data = new Data(this, 'Data', { removalPolicy: retention });
    const { jobs, pages, contacts, rateLimits, idempotency, pageTokenKey } = this.data;
    const env = this.data.environment;
    const logs = { logRetention: config.logRetentionDays, logRemovalPolicy: retention };
    const functions: Record<string, IFunction> = {};
    const fn = (
      id: string,
      name: string,
      environment: Record<string, string>,
      extra: { timeout?: Duration } = {},
    ) => {
      const created = new SyncFunction(this, id, { name, environment, ...logs, ...extra });
      functions[id] = created.fn;
      return created;
    };
    // Lifecycle events: whoever changes a job's status publishes it (shared/events/lifecycle.ts).
    this.events = new Events(this, 'Events');
    const publisherEnv = { ...env, ...this.events.environment };
    // Where the reader stages list pages for the workers (infra/staging.ts).
    this.staging = new Staging(this, 'Staging');
    const workerEnv = {
      ...env,
      ...this.staging.environment,
      GRAPH_API_URL: config.graphApiUrl,
      CHUNK_SIZE: String(config.chunkSize),
      MAX_CHUNKS_PER_SEGMENT: String(config.maxChunksPerSegment),
      PAGE_TOKEN_KEY_ID: pageTokenKey.keyArn,
      RATE_LIMIT_TABLE: rateLimits.tableName,
    };

    // The reader: the page and its token, Graph rate-limit slots, the job's count; stages list pages.
    const read = fn('ReadConversations', 'read-conversations', workerEnv, { timeout: Duration.minutes(5) })
      .canUse(pages, ['GetItem'])
      .canUse(jobs, ['GetItem', 'UpdateItem'])
      // An incremental sync compares the conversations at its watermark with their contacts.
      .canUse(contacts, ['BatchGetItem'])
      .canUse(rateLimits, ['GetItem', 'UpdateItem']);
    pageTokenKey.grantDecrypt(read.fn);
    this.staging.grantStage(read.fn);
    // A reader that finds its job cancelled deletes what it staged (a page read after the stop).
    this.staging.grantDelete(read.fn);
    // The workers read staged chunks (no Graph call, no token). A chunk's contacts commit in
    // batches: one transaction with the job's counters and the page's contact count per batch.
    const processChunk = fn(
      'ProcessChunk',
      'process-chunk',
      {
        ...workerEnv,
        ANALYZER: config.analyzer,
        BEDROCK_MODEL_ID: config.bedrockModelId,
        // The chunks that run at once take turns to commit (shared/sync/commit-batcher.ts).
        COMMIT_SLOTS: String(config.mapConcurrency),
      },
      // A chunk is one list page (up to 50 conversations), analysed 10 at a time.
      { timeout: Duration.minutes(5) },
    )
      .canUse(pages, ['GetItem', 'UpdateItem'])
      // GetItem: a slot waiting for a chunk watches the job's status.
      .canUse(jobs, ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem', 'ConditionCheckItem'])
      .canUse(contacts, ['BatchGetItem', 'PutItem', 'UpdateItem']);
    this.staging.grantRead(processChunk.fn);
    if (config.analyzer === 'bedrock') {
      processChunk.fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['bedrock:InvokeModel'],
          resources: [
            stack.formatArn({
              service: 'bedrock',
              account: '',
              resource: 'foundation-model',
              resourceName: config.bedrockModelId,
            }),
          ],
        }),
      );
    }
    // Finalize and Mark failed: the conditional terminal transition, then the page lock.
    // A COMPLETED sync also leaves its watermarks and failed conversations on the page.
    const finalize = fn('FinalizeSync', 'finalize-sync', publisherEnv)
      .canUse(jobs, ['GetItem', 'UpdateItem', 'Query'])
      .canUse(pages, ['UpdateItem']);
    this.events.grantPublish(finalize.fn);

    this.workflow = new Workflow(this, 'Workflow', {
      jobs,
      read: read.fn,
      processChunk: processChunk.fn,
      finalize: finalize.fn,
      ...namePrefixOf(this),
      mapConcurrency: config.mapConcurrency,
      cancelChecks: config.cancelChecks,
      ...logs,
    });
    const machine = this.workflow.stateMachine;
    const apiEnv = { ...publisherEnv, STATE_MACHINE_ARN: machine.stateMachineArn };

    // Start: job PENDING + page lock in one transaction, then StartExecution.
    const startSync = fn('StartSync', 'start-sync', { ...apiEnv, IDEMPOTENCY_TABLE: idempotency.tableName })
      .canUse(pages, ['GetItem', 'UpdateItem'])
      .canUse(jobs, ['GetItem', 'PutItem', 'UpdateItem'])
      .canUse(idempotency, ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem']);
    machine.grantStartExecution(startSync.fn);
    this.events.grantPublish(startSync.fn);

    // Cancel: the conditional CANCELLED commit, StopExecution, the lock release. With cleanup it
    // also deletes the contacts the job created (each with the job's and the page's counts).
    const cancelSync = fn('CancelSync', 'cancel-sync', apiEnv)
      .canUse(jobs, ['GetItem', 'UpdateItem'])
      .canUse(pages, ['UpdateItem'])
      .canUse(contacts, ['Query'], CONTACTS_BY_CREATING_JOB.indexName)
      .canUse(contacts, ['GetItem', 'DeleteItem']);
    this.workflow.grantStopExecution(cancelSync.fn);
    this.events.grantPublish(cancelSync.fn);

    const cancelSyncBulk = fn('CancelSyncBulk', 'cancel-sync-bulk', apiEnv)
      .canUse(pages, ['GetItem', 'UpdateItem'])
      .canUse(pages, ['Query'], PAGES_BY_ORGANIZATION.indexName)
      .canUse(jobs, ['GetItem', 'UpdateItem'])
      .canUse(jobs, ['Query'], JOBS_BY_PAGE.indexName);
    this.workflow.grantStopExecution(cancelSyncBulk.fn);
    this.events.grantPublish(cancelSyncBulk.fn);

    // Pause holds the page lock (no page write); resume starts the job's next execution; retry
    // starts a new job like start-sync (it takes the lock).
    const pauseSync = fn('PauseSync', 'pause-sync', apiEnv).canUse(jobs, ['GetItem', 'UpdateItem']);
    this.workflow.grantStopExecution(pauseSync.fn);
    this.events.grantPublish(pauseSync.fn);
    const resumeSync = fn('ResumeSync', 'resume-sync', apiEnv).canUse(jobs, ['GetItem', 'UpdateItem']);
    machine.grantStartExecution(resumeSync.fn);
    this.events.grantPublish(resumeSync.fn);
    const retrySync = fn('RetrySync', 'retry-sync', apiEnv)
      .canUse(pages, ['GetItem', 'UpdateItem'])
      .canUse(jobs, ['GetItem', 'PutItem', 'UpdateItem']);
    machine.grantStartExecution(retrySync.fn);
    this.events.grantPublish(retrySync.fn);

    // The job mirrors its execution's real state, from Step Functions' status-change events.
    const mirrorExecution = fn('MirrorExecution', 'mirror-execution', env).canUse(jobs, ['UpdateItem']);
    this.events.mirrorExecutions(machine, mirrorExecution.fn);

    // What a job staged goes when the job ends (the one-day expiry is only the backstop).
    const discardStaging = fn('DiscardStaging', 'discard-staging', this.staging.environment);
    this.staging.grantDelete(discardStaging.fn);
    this.events.onJobEnded('JobEnded', "Deletes an ended job's staged conversations", discardStaging.fn);

    // Reads.
    // A job and its executions' items (one query of its partition); an execution's history, read
    // from this state machine's executions only, its summary cached beside them.
    const readerEnv = { ...env, STATE_MACHINE_ARN: machine.stateMachineArn };
    const syncStatus = fn('SyncStatus', 'sync-status', readerEnv).canUse(jobs, ['GetItem', 'Query']);
    const syncExecution = fn('SyncExecution', 'sync-execution', readerEnv).canUse(jobs, [
      'GetItem',
      'PutItem',
    ]);
    this.workflow.grantReadHistory(syncExecution.fn);
    const syncJobs = fn('SyncJobs', 'sync-jobs', env)
      .canUse(pages, ['GetItem'])
      .canUse(jobs, ['Query'], JOBS_BY_PAGE.indexName);
    const listPages = fn('Pages', 'pages', env)
      .canUse(pages, ['Query'], PAGES_BY_ORGANIZATION.indexName)
      .canUse(jobs, ['GetItem'])
      .canUse(jobs, ['Query'], JOBS_BY_PAGE.indexName);
    const pageContacts = fn('PageContacts', 'page-contacts', env)
      .canUse(pages, ['GetItem'])
      .canUse(contacts, ['Query']);

    // Connect and replace encrypt page tokens (the only functions that may), after checking them with
    // Graph (one /me and one conversation per platform): Graph's URL and the shared rate-limit slots,
    // as the reader has them. Disconnect cancels first.
    const tokenCheckEnv = {
      ...env,
      GRAPH_API_URL: config.graphApiUrl,
      RATE_LIMIT_TABLE: rateLimits.tableName,
      PAGE_TOKEN_KEY_ID: pageTokenKey.keyArn,
    };
    const connectPage = fn('ConnectPage', 'connect-page', tokenCheckEnv)
      .canUse(pages, ['GetItem', 'PutItem'])
      .canUse(jobs, ['GetItem'])
      .canUse(jobs, ['Query'], JOBS_BY_PAGE.indexName)
      .canUse(rateLimits, ['GetItem', 'UpdateItem']);
    pageTokenKey.grant(connectPage.fn, 'kms:Encrypt');
    // Replace: the page (owner, lock) and the lock's job, the same check, then the new ciphertext.
    const replacePageToken = fn('ReplacePageToken', 'replace-page-token', tokenCheckEnv)
      .canUse(pages, ['GetItem', 'UpdateItem'])
      .canUse(jobs, ['GetItem'])
      .canUse(jobs, ['Query'], JOBS_BY_PAGE.indexName)
      .canUse(rateLimits, ['GetItem', 'UpdateItem']);
    pageTokenKey.grant(replacePageToken.fn, 'kms:Encrypt');
    const disconnectPage = fn('DisconnectPage', 'disconnect-page', apiEnv)
      .canUse(pages, ['GetItem', 'UpdateItem', 'DeleteItem'])
      .canUse(jobs, ['GetItem', 'UpdateItem']);
    this.workflow.grantStopExecution(disconnectPage.fn);
    this.events.grantPublish(disconnectPage.fn);

    const openApi = fn('OpenApi', 'openapi', {});

    if (config.webConsole) this.webConsole = new WebConsole(this, 'WebConsole', logs);
    if ((config.jwtIssuer === 'self' || config.jwtIssuer === 'cognito') && !this.webConsole)
      throw new Error(
        `jwtIssuer "${config.jwtIssuer}" signs users in to the web console: keep webConsole on`,
      );
    if (config.jwtIssuer === 'cognito' && this.webConsole)
      this.cognito = new Cognito(this, 'Cognito', {
        consoleUrl: this.webConsole.url,
        removalPolicy: retention,
      });
    if (config.jwtIssuer === 'self' && this.webConsole) {
      this.selfIssuer = new SelfIssuer(this, 'Issuer', {
        site: this.webConsole,
        keyDir: config.issuerKeyDir,
        kid: `contact-sync-${config.stage}`,
      });
    }
    this.jwtIssuer = this.cognito?.issuer ?? this.selfIssuer?.issuer ?? config.jwtIssuer;
    this.jwtAudience = this.cognito ? [this.cognito.client.userPoolClientId] : config.jwtAudience;
    // The deployed console calls the API from its own origin.
    const corsOrigins =
      config.corsOrigins.includes('*') || !this.webConsole
        ? config.corsOrigins
        : [...config.corsOrigins, this.webConsole.url];
    this.api = new Api(this, 'Api', {
      jwtIssuer: this.jwtIssuer,
      jwtAudience: this.jwtAudience,
      corsOrigins,
      rateLimit: config.apiRateLimit,
      burstLimit: config.apiBurstLimit,
      ...logs,
      // The function of each route of the route table (shared/api/routes.ts).
      handlers: {
        'start-sync': startSync.fn,
        'cancel-sync': cancelSync.fn,
        'cancel-sync-bulk': cancelSyncBulk.fn,
        'pause-sync': pauseSync.fn,
        'resume-sync': resumeSync.fn,
        'retry-sync': retrySync.fn,
        'sync-status': syncStatus.fn,
        'sync-execution': syncExecution.fn,
        'sync-jobs': syncJobs.fn,
        pages: listPages.fn,
        'connect-page': connectPage.fn,
        'replace-page-token': replacePageToken.fn,
        'disconnect-page': disconnectPage.fn,
        'page-contacts': pageContacts.fn,
        openapi: openApi.fn,
      },
    });
    // The console signs in with the code flow where it knows its client: Cognito's, or the issuer's.
    const clientId =
      this.cognito?.client.userPoolClientId ??
      (this.selfIssuer ? undefined : (config.consoleClientId ?? config.jwtAudience[0]));
    this.webConsole?.publish(
      this.api.url,
      clientId ? { issuer: this.jwtIssuer, clientId, scope: 'openid email profile' } : undefined,
    );
    // The authorizer reads the issuer's discovery document when it is created.
    if (this.selfIssuer) this.api.httpApi.node.addDependency(this.selfIssuer.deployment);

    this.monitoring = new Monitoring(this, 'Monitoring', {
      stateMachine: machine,
      functions,
      httpApi: this.api.httpApi,
      ...(config.alarmEmail ? { alarmEmail: config.alarmEmail } : {}),
    });

    const console = `https://${stack.region}.console.aws.amazon.com`;
    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, 'StateMachineArn', { value: machine.stateMachineArn });
    new CfnOutput(this, 'ExecutionsConsoleUrl', {
      value: `${console}/states/home?region=${stack.region}#/statemachines/view/${machine.stateMachineArn}`,
      description: 'The sync executions in the AWS console (each is named after its job id)',
    });
    new CfnOutput(this, 'DashboardUrl', {
      value: `${console}/cloudwatch/home?region=${stack.region}#dashboards/dashboard/${this.monitoring.dashboard.dashboardName}`,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.monitoring.topic.topicArn,
      description: 'Subscribe to get the alarms',
    });
    if (this.webConsole) new CfnOutput(this, 'WebConsoleUrl', { value: this.webConsole.url });
    new CfnOutput(this, 'JwtIssuer', { value: this.jwtIssuer });
    new CfnOutput(this, 'JwtAudience', {
      value: this.cognito ? this.cognito.client.userPoolClientId : config.jwtAudience.join(','),
    });
    if (this.cognito) {
      new CfnOutput(this, 'UserPoolId', {
        value: this.cognito.userPool.userPoolId,
        description: 'Where an operator creates users (docs/deploy.md)',
      });
      new CfnOutput(this, 'UserPoolClientId', { value: this.cognito.client.userPoolClientId });
      new CfnOutput(this, 'SignInDomain', { value: this.cognito.domainUrl });
    }
  }

  /** The API's base URL. */
  get apiUrl(): string {
    return this.api.url;
  }

  get stateMachine() {
    return this.workflow.stateMachine;
  }

  get eventBus() {
    return this.events.bus;
  }

  /** The tables a host may read or grant on (jobs, pages, contacts...). */
  get tables() {
    const { jobs, pages, contacts, rateLimits, idempotency } = this.data;
    return { jobs, pages, contacts, rateLimits, idempotency };
  }

  /** The deployed web console's address, if it is on. */
  get consoleUrl(): string | undefined {
    return this.webConsole?.url;
  }
}
