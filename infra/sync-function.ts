import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Metadata key naming the handler source of each function; the embedded local stack reads it. */
export const ENTRY_METADATA = 'contact-sync:entry';

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
}

/**
 * A Lambda with the house defaults: Node.js 22 on ARM64, X-Ray, a log group with retention,
 * source maps, and an explicit esbuild bundle (no Docker).
 */
export class SyncFunction extends Construct {
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: SyncFunctionProps) {
    super(scope, id);
    const entry = `functions/${props.name}/handler.ts`;
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.fn = new NodejsFunction(this, 'Function', {
      entry: path.join(root, entry),
      projectRoot: root,
      depsLockFilePath: path.join(root, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 512,
      logGroup,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
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
  }
}
