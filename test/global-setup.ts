import type { TestProject } from 'vitest/node';
import { TemplateResolver } from '../local/cloudformation.ts';
import {
  createTablesFromTemplate,
  keySchemasFromTemplate,
  localDynamoClient,
  startDynamoDbLocal,
} from '../local/dynamodb.ts';
import { ConflictModel, conflictSettingsFromEnv } from '../local/dynamodb-conflicts.ts';
import { startDynamoFaultProxy } from '../local/dynamodb-faults.ts';
import { freePort } from '../local/local-stack.ts';
import { synthesizeTemplate } from '../local/synth.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoDbEndpoint: string;
    tables: {
      JOBS_TABLE: string;
      PAGES_TABLE: string;
      CONTACTS_TABLE: string;
      IDEMPOTENCY_TABLE: string;
      RATE_LIMIT_TABLE: string;
    };
  }
}

/**
 * Starts DynamoDB Local once for the run and creates the tables exactly as infra/ declares them
 * (keys and indexes from the synthesized template). The tests reach it through the proxy with the
 * transaction conflict model (local/dynamodb-conflicts.ts), as the embedded stack's clients do.
 */
export default async function setup(project: TestProject) {
  const dynamo = await startDynamoDbLocal(await freePort());
  const resolver = new TemplateResolver(
    synthesizeTemplate({ jwtIssuer: 'https://issuer.test/', jwtAudience: 'contact-sync', retainData: false }),
  );
  await createTablesFromTemplate(localDynamoClient(dynamo.endpoint), resolver);
  const table = (prefix: string) => {
    const found = resolver.resourcesOfType('AWS::DynamoDB::Table').find(([id]) => id.startsWith(prefix));
    if (!found) throw new Error(`No table ${prefix} in the template`);
    return resolver.ref(found[0]);
  };
  const conflicts = conflictSettingsFromEnv();
  const proxy = await startDynamoFaultProxy(
    dynamo.endpoint,
    undefined,
    conflicts.enabled
      ? new ConflictModel({ keySchemas: keySchemasFromTemplate(resolver), txHoldMs: conflicts.txHoldMs })
      : undefined,
  );
  project.provide('dynamoDbEndpoint', proxy.endpoint);
  project.provide('tables', {
    JOBS_TABLE: table('DataJobs'),
    PAGES_TABLE: table('DataPages'),
    CONTACTS_TABLE: table('DataContacts'),
    IDEMPOTENCY_TABLE: table('DataIdempotency'),
    RATE_LIMIT_TABLE: table('DataRateLimits'),
  });
  return async () => {
    await proxy.close();
    await dynamo.stop();
  };
}
