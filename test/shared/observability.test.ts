import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { lambdaContext } from '../functions/event.ts';
import { captureOutput } from './output.ts';

/**
 * shared/observability.ts: the defaults it picks (quiet outside Lambda, where the local stack runs
 * every handler in one process; INFO and EMF in Lambda), the variables that override them, and
 * what a wrapped handler never logs. Each case loads the module afresh, as a cold start would.
 */
const output = captureOutput();

async function load(env: Record<string, string | undefined>) {
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  vi.resetModules();
  return import('#shared/observability.ts');
}
const QUIET_BY_DEFAULT = {
  POWERTOOLS_LOG_LEVEL: undefined,
  LOG_LEVEL: undefined,
  POWERTOOLS_METRICS_DISABLED: undefined,
};

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('observability defaults', () => {
  it('logs warnings and errors only, and emits no EMF, outside Lambda', async () => {
    const { logger, metrics, countOne } = await load({
      ...QUIET_BY_DEFAULT,
      AWS_LAMBDA_FUNCTION_NAME: undefined,
    });

    logger.info('not shown');
    logger.warn('shown');
    countOne('SyncsStarted');
    metrics.publishStoredMetrics();

    expect(logger.getLevelName()).toBe('WARN');
    expect(output.logs()).toEqual([expect.objectContaining({ level: 'WARN', message: 'shown' })]);
    expect(output.emf()).toEqual([]);
  });

  it('logs INFO and emits EMF in namespace ContactSync with the service dimension in Lambda', async () => {
    const { logger, metrics, countOne } = await load({ ...QUIET_BY_DEFAULT, AWS_LAMBDA_FUNCTION_NAME: 'fn' });

    countOne('SyncsCompleted');
    metrics.publishStoredMetrics();

    expect(logger.getLevelName()).toBe('INFO');
    expect(output.emf()).toEqual([
      expect.objectContaining({
        service: 'contact-sync',
        SyncsCompleted: 1,
        _aws: expect.objectContaining({
          CloudWatchMetrics: [
            {
              Namespace: 'ContactSync',
              Dimensions: [['service']],
              Metrics: [{ Name: 'SyncsCompleted', Unit: 'Count' }],
            },
          ],
        }),
      }),
    ]);
  });

  it('follows POWERTOOLS_LOG_LEVEL and POWERTOOLS_METRICS_DISABLED when they are set', async () => {
    const { logger, metrics, countOne } = await load({
      AWS_LAMBDA_FUNCTION_NAME: 'fn',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });

    countOne('SyncsCompleted');
    metrics.publishStoredMetrics();

    expect(logger.getLevelName()).toBe('ERROR');
    expect(output.emf()).toEqual([]);
  });
});

describe('a wrapped handler', () => {
  const SECRET = 'EAAGsecretThatMustNotBeLogged123';

  it('never logs its event, even with POWERTOOLS_LOGGER_LOG_EVENT, nor the fields of an error', async () => {
    await load({ POWERTOOLS_LOG_LEVEL: 'DEBUG', POWERTOOLS_LOGGER_LOG_EVENT: 'true' });
    const { workerHandler } = await import('#shared/worker.ts');
    const handler = workerHandler(z.object({ jobId: z.string(), accessToken: z.string() }), async () => {
      throw Object.assign(new Error('Graph refused the call'), {
        name: 'GraphApiError',
        request: { token: SECRET },
      });
    });

    await expect(handler({ jobId: 'job-1', accessToken: SECRET }, lambdaContext)).rejects.toThrow();

    expect(output.logs()).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'Step failed',
        jobId: 'job-1',
        error: { name: 'GraphApiError', message: 'Graph refused the call' },
      }),
    );
    expect(output.text()).not.toContain(SECRET);
  });

  it('counts a cold start once per module load, with the function name', async () => {
    // Lambda sets the initialization type; Powertools counts a cold start only for 'on-demand'.
    await load({ POWERTOOLS_METRICS_DISABLED: 'false', AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand' });
    const { workerHandler } = await import('#shared/worker.ts');
    const handler = workerHandler(z.object({}), async () => 'ok');

    await handler({}, lambdaContext);
    await handler({}, lambdaContext);

    const coldStarts = output.emf().filter((d) => 'ColdStart' in d);
    expect(coldStarts).toEqual([expect.objectContaining({ ColdStart: 1, function_name: 'test' })]);
  });
});
