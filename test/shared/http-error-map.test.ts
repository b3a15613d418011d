import { describe, expect, it } from 'vitest';
import * as domainErrors from '#shared/domain-errors.ts';
import { asHttpError, HTTP_ANSWERS } from '#shared/http-error-map.ts';
import { HttpError } from '#shared/http-errors.ts';

describe('the HTTP answer of each domain error', () => {
  it.each<[domainErrors.DomainError, number, Record<string, unknown>]>([
    [new domainErrors.JobNotFound(), 404, { error: 'Sync job not found' }],
    [new domainErrors.NotJobOwner(), 403, { error: 'Sync job belongs to another organization' }],
    [
      new domainErrors.InvalidTransition('cancel', 'COMPLETED'),
      400,
      { error: 'Cannot cancel job with status: COMPLETED' },
    ],
    [new domainErrors.PageNotConnected(), 404, { error: 'Page not connected' }],
    [new domainErrors.NotPageOwner(), 403, { error: 'Page belongs to another organization' }],
    [new domainErrors.PageAlreadyConnected(), 409, { error: 'Page is already connected' }],
    [
      new domainErrors.PageBusy(),
      409,
      { error: 'The page is busy with a sync that keeps restarting; try again' },
    ],
    [
      new domainErrors.PageLocked('job-1'),
      409,
      { error: 'A sync is already running for this page', activeJobId: 'job-1' },
    ],
    [
      new domainErrors.PageLocked(null),
      409,
      { error: 'A sync is already running for this page', activeJobId: null },
    ],
    [new domainErrors.InvalidCursor(), 400, { error: 'cursor is invalid' }],
    [new domainErrors.SyncNotLaunched('start'), 503, { error: 'The sync could not be started. Try again.' }],
    [new domainErrors.SyncNotLaunched('resume'), 503, { error: 'The sync could not be resumed. Try again.' }],
    [
      new domainErrors.PageSyncRunning('job-1'),
      409,
      {
        error: 'A sync is running for this page: pause or stop it, then replace the token',
        activeJobId: 'job-1',
      },
    ],
    [
      new domainErrors.PageTokenRejected('the access token expired'),
      400,
      {
        error:
          'Facebook rejected the access token (the access token expired): give a valid Page access token.',
      },
    ],
    [
      new domainErrors.PagePermissionMissing('pages_messaging', 200),
      400,
      {
        error:
          'The access token is missing a permission the sync needs (pages_messaging, Graph error 200): grant it and try again.',
      },
    ],
    [
      new domainErrors.TokenOfAnotherPage('100000000000001'),
      400,
      {
        error: "The access token is not a Page access token of page 100000000000001: give that page's token.",
      },
    ],
    [
      new domainErrors.GraphUnavailable(30),
      503,
      {
        error:
          'Facebook is unavailable or throttling, so the token could not be checked; nothing was changed. Try again later.',
      },
    ],
  ])('%s is %i', (error, status, body) => {
    const answer = asHttpError(error);

    expect(answer).toBeInstanceOf(HttpError);
    expect((answer as HttpError).statusCode).toBe(status);
    expect(JSON.parse((answer as HttpError).message)).toEqual(body);
  });

  it('has an answer for every domain error class, and one only', () => {
    const classes = Object.values(domainErrors).filter(
      (value) => typeof value === 'function' && value.prototype instanceof domainErrors.DomainError,
    );

    expect(classes.length).toBeGreaterThan(0);
    for (const errorClass of classes)
      expect(
        HTTP_ANSWERS.filter((entry) => entry.error === errorClass),
        errorClass.name,
      ).toHaveLength(1);
  });

  it('answers GraphUnavailable with Retry-After', () => {
    const answer = asHttpError(new domainErrors.GraphUnavailable(30)) as HttpError & {
      headers?: Record<string, string>;
    };

    expect(answer.headers).toEqual({ 'Retry-After': '30' });
  });

  it('leaves any other error as it is: a 500 for the error handler', () => {
    const other = new Error('internal detail');

    expect(asHttpError(other)).toBe(other);
    expect(asHttpError(new domainErrors.JobNotRunningError('job-1'))).toBeInstanceOf(
      domainErrors.JobNotRunningError,
    );
  });
});
