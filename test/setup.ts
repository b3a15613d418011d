import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeAll, inject, vi } from 'vitest';
import { assertNoDenialsAnywhere } from '../local/iam/local-iam.ts';

/**
 * The Lambda environment for every test file: region, dummy credentials, table names, and the
 * endpoint of the run's DynamoDB Local (unit tests mock the client and never reach it).
 */
Object.assign(process.env, {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoDbEndpoint'),
  STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:ContactSyncTest',
  PAGE_TOKEN_KEY_ID: 'arn:aws:kms:us-east-1:000000000000:key/test-key',
  // Powertools (shared/observability.ts) writes straight to stdout/stderr: no log lines and no EMF
  // in the test output. The tests of the logs and metrics turn them on (test/shared/output.ts).
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  ...tablesExceptRateLimits(),
});

/** Unit tests keep the Graph limiter in-process; the DynamoDB limiter's own test opts in. */
function tablesExceptRateLimits() {
  const { RATE_LIMIT_TABLE: _shared, ...tables } = inject('tables');
  return tables;
}

beforeAll(() => {
  // Handlers log expected failures; keep the test output readable.
  vi.spyOn(console, 'error').mockImplementation(() => {});
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});

// A call that a role of the template does not allow fails the file that made it, even when the
// caller swallowed the AccessDeniedException and the stack's stop() was never reached.
afterAll(() => assertNoDenialsAnywhere());
