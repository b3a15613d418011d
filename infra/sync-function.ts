import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge, wildcardResource } from './nag.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lockFile = path.join(root, 'package-lock.json');

/** Metadata key naming the handler source of each function; the embedded local stack reads it. */
export const ENTRY_METADATA = 'contact-sync:entry';

/** Powertools' service name and EMF namespace on every function (the dashboard reads the metrics by them). */
export const METRICS_SERVICE = 'contact-sync';
export const METRICS_NAMESPACE = 'ContactSync';

export interface SyncFunctionProps {
  /** Folder under functions/ holding handler.ts. */
  name: string;
  environment?: Record<string, string>;
  /** @default 30 seconds */
  timeout?: Duration;
  /** @default 512 */
  memorySize?: number;
  /** @default one month */
  logRetention?: RetentionDays;
  /** What happens to the function's logs when the stack is deleted. @default RemovalPolicy.DESTROY */
  logRemovalPolicy?: RemovalPolicy;
}

/** The DynamoDB item actions a function can be granted, one by one (see `canUse`). */
export type TableAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'ConditionCheckItem'
  | 'Query';

/**
 * A Lambda with the house defaults: Node.js 24 on ARM64, X-Ray, a log group with retention,
 * source maps, Powertools' service name, and an explicit esbuild bundle (no Docker).
 *
 * Its role starts with nothing but writing its own log group (no AWSLambdaBasicExecutionRole,
 * which may write every log group) and X-Ray; everything else is granted action by action.
 */
export class SyncFunction extends Construct {
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: SyncFunctionProps) {
    super(scope, id);
    const entry = `functions/${props.name}/handler.ts`;
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Contact Sync ${props.name}: only what this function uses`,
    });
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    this.fn = new NodejsFunction(this, 'Function', {
      entry: path.join(root, entry),
      projectRoot: root,
      // A host app's copy (a git dependency) has no lock file of its own: CDK finds the host's.
      ...(existsSync(lockFile) ? { depsLockFilePath: lockFile } : {}),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 512,
      logGroup,
      role,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        sourceMap: true,
        // The runtime ships AWS SDK v3, but we bundle it anyway so the deployed code runs the
        // exact SDK version the tests ran against. Nothing is external.
        externalModules: [],
        // ESM bundles need a real `require` for the CommonJS parts of dependencies.
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      },
    });
    (this.fn.node.defaultChild as CfnFunction).addMetadata(ENTRY_METADATA, entry);
    acknowledge(
      this,
      'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions',
      wildcardResource('*'),
    );
  }

  /** Lets the function run exactly `actions` on `table`, or on one of its indexes (Query). */
  canUse(table: ITable, actions: TableAction[], index?: string): this {
    this.fn.addToRolePolicy(
      new PolicyStatement({
        actions: actions.map((action) => `dynamodb:${action}`),
        resources: [index ? `${table.tableArn}/index/${index}` : table.tableArn],
      }),
    );
    return this;
  }
}
