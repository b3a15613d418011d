import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { MiddlewareObj } from '@middy/core';

/**
 * Logs and metrics of every handler (Powertools Logger and Metrics, EMF): one module-scope Logger
 * and Metrics, and the middlewares shared/http.ts and shared/worker.ts put outermost on every
 * handler.
 *
 * In Lambda the defaults are INFO logs and metrics on. Outside Lambda (no AWS_LAMBDA_FUNCTION_NAME:
 * the embedded local stack, where every handler shares one console, and the tests) they are quiet:
 * warnings and errors only, no EMF. The standard variables override both: POWERTOOLS_LOG_LEVEL
 * (or LOG_LEVEL), POWERTOOLS_METRICS_DISABLED, POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE.
 *
 * Never log an event, a page item or an error object wholesale: they can carry a page token or
 * message text. Log ids, counts, and an error's name and message (errorFields).
 */
const inLambda = Boolean(process.env.AWS_LAMBDA_FUNCTION_NAME);
// Powertools reads this itself, for the cold-start metric's own instance too.
if (!inLambda) process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
const SERVICE = process.env.POWERTOOLS_SERVICE_NAME || 'contact-sync';
const logLevelFromEnv = Boolean(process.env.POWERTOOLS_LOG_LEVEL || process.env.LOG_LEVEL);

export const logger = new Logger({
  serviceName: SERVICE,
  // A level given here would win over the variables, so it is given only when they are unset.
  ...(logLevelFromEnv ? {} : { logLevel: inLambda ? 'INFO' : 'WARN' }),
});

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || 'ContactSync',
  serviceName: SERVICE,
  logger: {
    debug: (...content) => logger.debug(content.join(' ')),
    info: (...content) => logger.info(content.join(' ')),
    // Most routes emit no metric: Powertools' warning about that, on every such call, is debug here.
    warn: (...content) => {
      const message = content.join(' ');
      if (message.startsWith('No application metrics to publish')) logger.debug(message);
      else logger.warn(message);
    },
    error: (...content) => logger.error(content.join(' ')),
  },
});

export { MetricUnit };

/** The metrics this service emits (namespace ContactSync, dimension `service` only). */
export type MetricName =
  | 'ContactsSynced'
  | 'ContactsFailed'
  | 'SyncsStarted'
  | 'SyncsCancelled'
  | 'SyncsPaused'
  | 'SyncsResumed'
  | 'SyncsCompleted'
  | 'SyncsFailed'
  | 'CancelLatency';

/** Adds one to `name` (a Count), flushed with the invocation's other metrics. */
export function countOne(name: MetricName): void {
  metrics.addMetric(name, MetricUnit.Count, 1);
}

/**
 * The middlewares every handler runs outermost: the Lambda context on every log line, keys
 * appended during an invocation (correlate) removed after it, metrics flushed after it, with a
 * cold-start metric. The event itself is never logged, whatever POWERTOOLS_LOGGER_LOG_EVENT says.
 */
export function observabilityMiddlewares<E, R>(): MiddlewareObj<E, R>[] {
  return [
    injectLambdaContext(logger, { resetKeys: true, logEvent: false }) as MiddlewareObj<E, R>,
    logMetrics(metrics, { captureColdStartMetric: true }) as MiddlewareObj<E, R>,
  ];
}

/**
 * Puts the job and page an invocation works on, once known, on every later log line of the
 * invocation. Takes any object and keeps only its string `jobId` and `pageId`.
 */
export function correlate(source: unknown): void {
  if (typeof source !== 'object' || source === null) return;
  const { jobId, pageId } = source as { jobId?: unknown; pageId?: unknown };
  logger.appendKeys({
    ...(typeof jobId === 'string' ? { jobId } : {}),
    ...(typeof pageId === 'string' ? { pageId } : {}),
  });
}

/** What is logged of an error: its name and message, never the object (its fields or cause could carry a token). */
export function errorFields(error: unknown): { name: string; message: string } {
  const e = error as { name?: unknown; message?: unknown } | null | undefined;
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(error),
  };
}
