import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { correlate, errorFields, logger, observabilityMiddlewares } from './observability.ts';

/**
 * Wraps the core of a workflow or event worker (the callers are Step Functions and EventBridge, not
 * clients): the input is parsed with `schema`, its jobId and pageId go on every log line, and a
 * failure is logged (name and message only) before it is rethrown for the caller's retry or Catch.
 */
export function workerHandler<S extends z.ZodType, R>(schema: S, core: (input: z.infer<S>) => Promise<R>) {
  return middy<unknown, R, Error, Context>(async (event: unknown) => {
    const input = schema.parse(event);
    correlate(input);
    return core(input);
  })
    .use(observabilityMiddlewares())
    .use(logFailure);
}

// Registered after the observability middlewares, so it runs before their onError clears the keys.
const logFailure: MiddlewareObj<unknown, unknown> = {
  onError: async (request) => {
    logger.error('Step failed', { error: errorFields(request.error) });
  },
};
