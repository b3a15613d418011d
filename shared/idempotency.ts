import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyKeyError,
  IdempotencyValidationError,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware';
import type { MiddlewareObj } from '@middy/core';
import { requiredEnv } from './config.ts';
import type { HttpEvent, HttpResult } from './http.ts';
import { HttpError } from './http-errors.ts';

/**
 * `Idempotency-Key` support (Powertools idempotency): a retried request with the same key, from
 * the same organization and user, gets the first successful answer again instead of running twice.
 * Without the header a request is not idempotent. Errors are not remembered, so a retry of a
 * failed request runs again. Records expire after a day.
 */
export function idempotencyKeyMiddlewares(): MiddlewareObj<HttpEvent, HttpResult>[] {
  const config = new IdempotencyConfig({
    // null (no key, so no idempotency) when the header is absent.
    eventKeyJmesPath:
      'headers."idempotency-key" && [requestContext.authorizer.jwt.claims.org_id, requestContext.authorizer.jwt.claims.sub, headers."idempotency-key"]',
    payloadValidationJmesPath: 'body',
    throwOnNoIdempotencyKey: false,
    expiresAfterSeconds: 24 * 60 * 60,
  });
  const persistenceStore = new DynamoDBPersistenceLayer({ tableName: requiredEnv('IDEMPOTENCY_TABLE') });

  /** Turns Powertools' errors into answers a client can act on. */
  const mapErrors: MiddlewareObj<HttpEvent, HttpResult> = {
    onError: async (request) => {
      const error = request.error;
      if (error instanceof IdempotencyAlreadyInProgressError) {
        request.error = new HttpError(409, 'A request with this Idempotency-Key is still in progress');
      } else if (error instanceof IdempotencyValidationError) {
        request.error = new HttpError(422, 'This Idempotency-Key was already used with a different request');
      } else if (error instanceof IdempotencyKeyError) {
        request.error = new HttpError(400, 'Idempotency-Key is invalid');
      }
    },
  };
  return [
    mapErrors,
    makeHandlerIdempotent({ persistenceStore, config }) as MiddlewareObj<HttpEvent, HttpResult>,
  ];
}
