import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import type { Verifier } from './auth.ts';
import type { TemplateResolver } from './cloudformation.ts';
import type { LambdaRuntime } from './lambda-runtime.ts';

interface Route {
  method: string;
  pattern: RegExp;
  params: string[];
  routeKey: string;
  functionArn: string;
  jwt: boolean;
}

interface CorsConfiguration {
  AllowOrigins: string[];
  AllowMethods: string[];
  AllowHeaders: string[];
  ExposeHeaders?: string[];
  MaxAge?: number;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

const MAX_REQUEST_BYTES = 10 * 1024 * 1024; // API Gateway's payload limit

/** Routes, integrations and the JWT authorizer exactly as the template declares them. */
export function routesFromTemplate(resolver: TemplateResolver): {
  routes: Route[];
  issuer: string;
  audience: string[];
} {
  const integrations = new Map(
    resolver
      .resourcesOfType('AWS::ApiGatewayV2::Integration')
      .map(([id, r]) => [id, resolver.resolve(r.Properties) as Record<string, string>]),
  );
  const authorizers = resolver
    .resourcesOfType('AWS::ApiGatewayV2::Authorizer')
    .map(
      ([, r]) =>
        resolver.resolve(r.Properties) as { JwtConfiguration: { Issuer: string; Audience: string[] } },
    );
  const jwt = authorizers[0]?.JwtConfiguration;
  if (!jwt) throw new Error('The template has no JWT authorizer');
  const routes = resolver.resourcesOfType('AWS::ApiGatewayV2::Route').map(([, r]) => {
    const p = resolver.resolve(r.Properties) as {
      RouteKey: string;
      Target: string;
      AuthorizationType?: string;
    };
    const [method, path] = p.RouteKey.split(' ') as [string, string];
    const integration = integrations.get(p.Target.replace(/^integrations\//, ''));
    if (!integration) throw new Error(`Route ${p.RouteKey} has no integration`);
    const params: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/\{([^}+]+)(\+?)\}/g, (_, name: string, greedy: string) => {
        params.push(name);
        return greedy ? '(.+)' : '([^/]+)';
      })}$`,
    );
    return {
      method,
      pattern,
      params,
      routeKey: p.RouteKey,
      functionArn: integration.IntegrationUri as string,
      jwt: p.AuthorizationType === 'JWT',
    };
  });
  return { routes, issuer: jwt.Issuer, audience: jwt.Audience };
}

/**
 * An API Gateway HTTP API (payload v2) emulator: verifies the bearer token as the JWT authorizer
 * does, builds the v2 event with the verified claims, and invokes the route's function.
 * Gateway-level errors use the contract's `{ "error": ... }` shape.
 */
export async function serveHttpApi(opts: {
  resolver: TemplateResolver;
  lambdas: LambdaRuntime;
  verify: Verifier;
  port: number;
  host?: string;
  /**
   * Decides CORS instead of the template's AllowOrigins (the local stack grants only its own
   * origins, where a dev stage says `*`); gets the Origin and the port the request came in on.
   */
  allowOrigin?: (origin: string, port: number) => boolean;
  /** Serves anything the API does not route (for example the web console). */
  fallback?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Sees every answer's status and body as sent (e.g. for a harness that scans for secrets). */
  onResponse?: (status: number, body: string) => void;
}) {
  const { routes } = routesFromTemplate(opts.resolver);
  const [, api] = opts.resolver.resourcesOfType('AWS::ApiGatewayV2::Api')[0] ?? [];
  const cors = (opts.resolver.resolve(api?.Properties ?? {}) as { CorsConfiguration?: CorsConfiguration })
    .CorsConfiguration;
  const server = createServer((req, res) => {
    if (opts.onResponse) tapResponse(res, opts.onResponse);
    handle(req, res).catch((error) => {
      console.error('HTTP API emulator error', error);
      if (!res.headersSent) send(res, 500, { error: 'Internal Server Error' });
    });
  });
  // Requests Node refuses before routing (headers too large, bad framing) still get `{ error }`.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return void socket.destroy();
    const [status, reason] =
      error.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : [400, 'Bad Request'];
    const body = JSON.stringify({ error: reason });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    // CORS as the template's CorsConfiguration says: API Gateway answers preflights itself.
    const origin = req.headers.origin;
    const allowOrigin =
      origin &&
      cors &&
      (opts.allowOrigin
        ? opts.allowOrigin(origin, req.socket.localPort ?? 0) && origin
        : cors.AllowOrigins.includes('*')
          ? '*'
          : cors.AllowOrigins.includes(origin) && origin);
    if (allowOrigin) {
      res.setHeader('access-control-allow-origin', allowOrigin);
      res.setHeader('vary', 'origin');
      if (cors.ExposeHeaders?.length && method !== 'OPTIONS')
        res.setHeader('access-control-expose-headers', cors.ExposeHeaders.join(','));
    }
    if (method === 'OPTIONS' && cors) {
      if (allowOrigin) {
        res.setHeader('access-control-allow-methods', cors.AllowMethods.join(','));
        res.setHeader('access-control-allow-headers', cors.AllowHeaders.join(','));
        if (cors.MaxAge) res.setHeader('access-control-max-age', String(cors.MaxAge));
      }
      res.writeHead(204);
      return void res.end();
    }
    const candidates = routes.filter((r) => r.pattern.test(url.pathname));
    const route = candidates.find((r) => r.method === method || r.method === 'ANY');
    if (!route) {
      // What the fallback serves (the console, its config.json with a token, the local feeds) is
      // for the page served from here, never granted to another origin.
      for (const name of res.getHeaderNames()) if (name.startsWith('access-control-')) res.removeHeader(name);
      if (opts.fallback?.(req, res)) return;
      return send(res, candidates.length ? 405 : 404, {
        error: candidates.length ? 'Method Not Allowed' : 'Not Found',
      });
    }

    const body = await readBody(req);
    if (body === null) return send(res, 413, { error: 'Request Entity Too Large' });

    let claims: Record<string, string> = {};
    if (route.jwt) {
      const match = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
      try {
        if (!match) throw new Error('missing bearer token');
        const payload = await opts.verify(match[1] as string);
        // API Gateway hands claims to the function as strings.
        claims = Object.fromEntries(
          Object.entries(payload).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
        );
      } catch {
        return send(res, 401, { error: 'Unauthorized' });
      }
    }

    const values = route.pattern.exec(url.pathname)?.slice(1) ?? [];
    const event = buildEvent(
      req,
      url,
      route,
      body,
      claims,
      Object.fromEntries(route.params.map((p, i) => [p, safeDecode(values[i] ?? '')])),
    );
    let result: unknown;
    try {
      result = await opts.lambdas.invoke(route.functionArn, event);
    } catch (error) {
      console.error(`Function for ${route.routeKey} failed:`, (error as Error).message);
      return send(res, 500, { error: 'Internal Server Error' });
    }
    respond(res, result);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function buildEvent(
  req: IncomingMessage,
  url: URL,
  route: Route,
  body: Buffer,
  claims: Record<string, string>,
  pathParameters: Record<string, string>,
): APIGatewayProxyEventV2WithJWTAuthorizer {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[key.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = key in query ? `${query[key]},${value}` : value;
  const contentType = headers['content-type'] ?? '';
  const textual = body.length === 0 || /json|text|xml|urlencoded|javascript/i.test(contentType);
  const now = new Date();
  return {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    cookies: headers.cookie?.split(';').map((c) => c.trim()),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: Object.keys(pathParameters).length ? pathParameters : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: { principalId: '', integrationLatency: 0, jwt: { claims, scopes: [] } },
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: route.routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length ? (textual ? body.toString('utf8') : body.toString('base64')) : undefined,
    isBase64Encoded: body.length > 0 && !textual,
  } as APIGatewayProxyEventV2WithJWTAuthorizer;
}

/** Maps a v2 result as API Gateway does: a structured result, or any other value as a 200 JSON body. */
function respond(res: ServerResponse, result: unknown): void {
  const structured = result && typeof result === 'object' && 'statusCode' in result;
  if (!structured) {
    send(res, 200, result);
    return;
  }
  const r = result as {
    statusCode: number;
    headers?: Record<string, string>;
    body?: string;
    isBase64Encoded?: boolean;
  };
  res.writeHead(r.statusCode, r.headers);
  res.end(r.body === undefined ? undefined : r.isBase64Encoded ? Buffer.from(r.body, 'base64') : r.body);
}

/** Calls `observe` with the status and body of the answer, which this server sends with one `end`. */
function tapResponse(res: ServerResponse, observe: (status: number, body: string) => void): void {
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((...args: unknown[]) => {
    const [chunk] = args;
    const body = typeof chunk === 'string' || Buffer.isBuffer(chunk) ? chunk.toString() : '';
    observe(res.statusCode, body);
    return end(...args);
  }) as ServerResponse['end'];
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}
