/**
 * Former home of the error classes, kept only for the modules that still import it: HTTP errors
 * are in shared/http-errors.ts, domain and worker errors in shared/domain-errors.ts, AWS
 * throttling in shared/aws-errors.ts. Import from those; this module goes once nothing imports it.
 */
export { JobNotRunningError, SyncFailedError } from './domain-errors.ts';
export { badRequest, HttpError } from './http-errors.ts';
