import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { ENTRY_METADATA } from '../infra/sync-function.ts';
import type { TemplateResolver } from './cloudformation.ts';
import { runAs } from './iam/caller-identity.ts';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** The error a Lambda invocation reports: `errorType` becomes the Step Functions error name. */
export class LambdaFunctionError extends Error {
  constructor(
    readonly errorType: string,
    readonly errorMessage: string,
  ) {
    super(errorMessage);
    this.name = errorType;
  }
  /** The `Cause` Step Functions records for a failed Lambda task. */
  get stepFunctionsCause(): string {
    return JSON.stringify({ errorType: this.errorType, errorMessage: this.errorMessage, trace: [] });
  }
}

interface LocalFunction {
  logicalId: string;
  entry: string;
  timeoutMs: number;
  environment: Record<string, string>;
}

/**
 * Runs the template's Lambda functions in this process: each function's handler is found through
 * the entry metadata the SyncFunction construct writes, and its environment comes from the template.
 */
export class LambdaRuntime {
  private readonly functions = new Map<string, LocalFunction>();
  private readonly loaded = new Map<string, Promise<Handler>>();

  /**
   * Test knob: how long an invocation of a function waits before its handler runs, keyed by the
   * function's directory under functions/ (e.g. `finalize-sync`), as a slow cold start would. A
   * harness widens a narrow window with it, so that a cancel can land inside that function.
   */
  readonly invokeDelayMs = new Map<string, number>();

  constructor(
    private readonly resolver: TemplateResolver,
    private readonly root: string,
  ) {
    for (const [logicalId, resource] of resolver.resourcesOfType('AWS::Lambda::Function')) {
      const entry = resource.Metadata?.[ENTRY_METADATA];
      if (typeof entry !== 'string') continue; // CDK's own helper functions (e.g. log retention)
      const props = resolver.resolve(resource.Properties ?? {}) as {
        Timeout?: number;
        Environment?: { Variables?: Record<string, string> };
      };
      this.functions.set(logicalId, {
        logicalId,
        entry,
        timeoutMs: (props.Timeout ?? 3) * 1000,
        environment: props.Environment?.Variables ?? {},
      });
    }
  }

  /**
   * The environment every local function shares. All handlers run in one process, so their
   * variables must agree; a conflict would mean one function sees another's config.
   */
  sharedEnvironment(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const fn of this.functions.values()) {
      for (const [key, value] of Object.entries(fn.environment)) {
        if (key in env && env[key] !== value)
          throw new Error(`Functions disagree on ${key}: ${env[key]} vs ${value}`);
        env[key] = value;
      }
    }
    return env;
  }

  /** The logical ids of the functions this runtime runs. */
  functionIds(): string[] {
    return [...this.functions.keys()];
  }

  has(arnOrId: string): boolean {
    return this.functions.has(this.resolver.functionIdFromArn(arnOrId));
  }

  /** Invokes a function like Lambda does: resolves with its result or rejects with LambdaFunctionError. */
  async invoke(arnOrId: string, event: unknown): Promise<unknown> {
    const fn = this.functions.get(this.resolver.functionIdFromArn(arnOrId));
    if (!fn) throw new LambdaFunctionError('ResourceNotFoundException', `Function not found: ${arnOrId}`);
    const handler = await this.load(fn);
    const deadline = Date.now() + fn.timeoutMs;
    const delay = this.invokeDelayMs.get(path.basename(path.dirname(fn.entry)));
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
    const context = {
      functionName: fn.logicalId,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.resolver.getAtt(fn.logicalId, 'Arn'),
      memoryLimitInMB: '512',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${fn.logicalId}`,
      logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: false,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => {},
      fail: () => {},
      succeed: () => {},
    } as Context;
    try {
      // A round trip through JSON, as over the wire: no shared object references. The AWS calls
      // the handler makes (also after it returns) are checked against its role
      // (iam/caller-identity.ts).
      const result = await runAs(context.invokedFunctionArn, () =>
        handler(JSON.parse(JSON.stringify(event ?? null)), context),
      );
      return result === undefined ? null : JSON.parse(JSON.stringify(result));
    } catch (error) {
      const e = error as Error;
      throw new LambdaFunctionError(e?.name || 'Error', e?.message ?? String(error));
    }
  }

  private load(fn: LocalFunction): Promise<Handler> {
    let handler = this.loaded.get(fn.entry);
    if (!handler) {
      handler = import(pathToFileURL(path.join(this.root, fn.entry)).href).then(
        (mod: { handler?: Handler }) => {
          if (typeof mod.handler !== 'function') throw new Error(`${fn.entry} exports no handler`);
          return mod.handler;
        },
      );
      this.loaded.set(fn.entry, handler);
    }
    return handler;
  }
}
