import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Who may talk to the local stack's servers. They listen on loopback, but a page on any site can
 * still make the browser send requests there (and, by DNS rebinding, read the answers under a
 * name it controls). So local-only answers go only to requests whose `Host` is the server's own
 * loopback name (`127.0.0.1`, `localhost`, `[::1]` at the port it listens on) or a host listed in
 * `ALLOWED_HOSTS` (comma-separated, `host` for any port or `host:port`); the local API grants CORS
 * only to its own origin, the Vite dev server's and those listed in `ALLOWED_ORIGINS`.
 */
const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]'];
export const VITE_DEV_ORIGINS = ['http://localhost:5173', 'http://127.0.0.1:5173'];

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean);

/** Whether a `Host` header names this server (listening on `port`) or a host ALLOWED_HOSTS lets in. */
export function isAllowedHost(
  host: string | undefined,
  port: number,
  allowedHosts: string | undefined = process.env.ALLOWED_HOSTS,
): boolean {
  if (!host) return false;
  const value = host.trim().toLowerCase();
  if (LOOPBACK.some((name) => value === `${name}:${port}`)) return true;
  const bare = value.replace(/:\d+$/, '');
  return list(allowedHosts).some((entry) => entry === value || entry === bare);
}

/** Whether the local API grants CORS to `origin`: its own, the Vite dev server's, or ALLOWED_ORIGINS. */
export function isAllowedOrigin(
  origin: string | undefined,
  port: number,
  allowedOrigins: string | undefined = process.env.ALLOWED_ORIGINS,
): boolean {
  if (!origin) return false;
  const value = origin.trim().toLowerCase().replace(/\/$/, '');
  const own = [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`];
  return [...own, ...VITE_DEV_ORIGINS, ...list(allowedOrigins).map((o) => o.replace(/\/$/, ''))].includes(
    value,
  );
}

/**
 * Answers 403 (and returns true) when the request's `Host` is not the server's own; the port is
 * the one the request arrived on.
 */
export function refuseForeignHost(req: IncomingMessage, res: ServerResponse): boolean {
  const host = req.headers.host;
  if (isAllowedHost(host, req.socket.localPort ?? 0)) return false;
  const name = (host ?? '').replace(/[^\w.:[\]-]/g, '') || '<host>';
  const body = JSON.stringify({
    error: `Host ${JSON.stringify(host ?? '')} is not this local server's own; set ALLOWED_HOSTS=${name} to allow it`,
  });
  res.writeHead(403, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
  return true;
}
