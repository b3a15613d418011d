import { AsyncLocalStorage } from 'node:async_hooks';
import dc from 'node:diagnostics_channel';
import { type ClientRequest, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Duplex } from 'node:stream';

/**
 * Who makes a call to a local AWS endpoint. All handlers share this process and their
 * module-scope SDK clients, so each invocation runs in an AsyncLocalStorage context holding its
 * function ARN (`runAs`, LambdaRuntime.invoke), and every HTTP request made in that context to a
 * local AWS endpoint gets an `x-local-caller` header (node:diagnostics_channel
 * `http.client.request.created`, which the SDK's NodeHttpHandler goes through before it writes
 * the headers, and `undici:request:create` for fetch; a Node without the first is refused at
 * start). Local servers check no signatures, so a header added after SigV4 signing is fine.
 * Requests without the header (tests, the demo data) are not enforced.
 */
export const CALLER_HEADER = 'x-local-caller';

const callers = new AsyncLocalStorage<string>();

/** Runs `fn` as `callerArn`: the local AWS requests it makes are checked against that role. */
export function runAs<T>(callerArn: string, fn: () => T): T {
  return callers.run(callerArn, fn);
}

/** The caller a local server was told about, if any. */
export function callerOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers[CALLER_HEADER];
  return typeof value === 'string' && value ? value : undefined;
}

/**
 * Tags the requests the callers make to these endpoints with the caller header. Returns the
 * function that stops tagging.
 */
export function tagCallerRequests(endpoints: string[]): () => void {
  if (!httpRequestsAnnounced())
    throw new Error(
      `IAM enforcement needs the http.client.request.created diagnostics channel (Node >= 22.14), not ${process.version}: use the project's Node (npm scripts, npx), or LOCAL_IAM=off`,
    );
  const hosts = new Set(endpoints.map((e) => new URL(e).host));
  const onHttp = (message: unknown) => {
    const caller = callers.getStore();
    const request = (message as { request: ClientRequest }).request;
    if (caller && hosts.has(String(request.getHeader('host')))) request.setHeader(CALLER_HEADER, caller);
  };
  const onFetch = (message: unknown) => {
    const caller = callers.getStore();
    const request = (message as { request: { origin: string; addHeader(k: string, v: string): void } })
      .request;
    if (caller && hosts.has(new URL(request.origin).host)) request.addHeader(CALLER_HEADER, caller);
  };
  dc.subscribe('http.client.request.created', onHttp);
  dc.subscribe('undici:request:create', onFetch);
  return () => {
    dc.unsubscribe('http.client.request.created', onHttp);
    dc.unsubscribe('undici:request:create', onFetch);
  };
}

/** Whether this Node announces each ClientRequest before its headers are written. */
function httpRequestsAnnounced(): boolean {
  let seen = false;
  const probe = () => {
    seen = true;
  };
  dc.subscribe('http.client.request.created', probe);
  try {
    // Never connects: the socket is a stub, and the request is destroyed at once.
    const probeRequest = httpRequest({
      host: '127.0.0.1',
      createConnection: () => new Duplex({ read() {}, write: (_chunk, _encoding, done) => done() }) as never,
    });
    probeRequest.on('error', () => {});
    probeRequest.destroy();
  } finally {
    dc.unsubscribe('http.client.request.created', probe);
  }
  return seen;
}
