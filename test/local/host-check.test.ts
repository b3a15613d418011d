import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { demoPage } from '../../local/graph-sim/demo-data/generate-page.ts';
import { isAllowedHost, isAllowedOrigin } from '../../local/host-check.ts';
import { e2eStack } from '../e2e/e2e-stack.ts';
import { PATHS } from '../e2e/http-client.ts';

/** A raw request, so that Host and Origin are exactly what the test says. */
function raw(
  url: string,
  opts: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: opts.method ?? 'GET',
        headers: opts.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const corsHeaders = (headers: Record<string, unknown>) =>
  Object.keys(headers).filter((name) => name.startsWith('access-control-'));

describe('host-check', () => {
  it('lets in the loopback names at the server port only', () => {
    for (const host of ['127.0.0.1:3000', 'localhost:3000', '[::1]:3000', 'LOCALHOST:3000'])
      expect(isAllowedHost(host, 3000, ''), host).toBe(true);
    for (const host of ['127.0.0.1:3001', 'localhost', 'evil.example:3000', 'evil.example', undefined, ''])
      expect(isAllowedHost(host, 3000, ''), String(host)).toBe(false);
  });

  it('lets in what ALLOWED_HOSTS names, as host (any port) or host:port', () => {
    expect(isAllowedHost('dev.box:3000', 3000, 'dev.box')).toBe(true);
    expect(isAllowedHost('dev.box:8080', 3000, 'other, dev.box')).toBe(true);
    expect(isAllowedHost('dev.box:3000', 3000, 'dev.box:8080')).toBe(false);
    expect(isAllowedHost('dev.box:8080', 3000, 'dev.box:8080')).toBe(true);
    expect(isAllowedHost('evil.example:3000', 3000, 'dev.box')).toBe(false);
  });

  it('grants CORS to the own origin, the Vite dev server and ALLOWED_ORIGINS only', () => {
    for (const origin of [
      'http://127.0.0.1:3000',
      'http://localhost:3000',
      'http://localhost:5173',
      'http://127.0.0.1:5173',
    ])
      expect(isAllowedOrigin(origin, 3000, ''), origin).toBe(true);
    for (const origin of ['https://evil.example', 'http://localhost:3001', 'null', undefined])
      expect(isAllowedOrigin(origin, 3000, ''), String(origin)).toBe(false);
    expect(isAllowedOrigin('https://dev.box', 3000, 'https://dev.box')).toBe(true);
  });
});

describe('the local stack refuses foreign hosts and origins', () => {
  const e2e = e2eStack({ pages: [demoPage()], user: 'host-check-user', console: true });
  const original = process.env.ALLOWED_HOSTS;
  afterEach(() => {
    if (original === undefined) delete process.env.ALLOWED_HOSTS;
    else process.env.ALLOWED_HOSTS = original;
  });
  const port = () => new URL(e2e.stack.apiUrl).port;

  it('hands config.json to its own Host, without any CORS grant', async () => {
    for (const host of [`127.0.0.1:${port()}`, `localhost:${port()}`]) {
      const answer = await raw(`${e2e.stack.apiUrl}/config.json`, { headers: { host } });
      expect(answer.status, answer.text).toBe(200);
      expect(JSON.parse(answer.text).token).toEqual(expect.any(String));
      expect(corsHeaders(answer.headers)).toEqual([]);
    }
  });

  it('grants no CORS for config.json to a foreign Origin', async () => {
    const answer = await raw(`${e2e.stack.apiUrl}/config.json`, {
      headers: { origin: 'https://evil.example' },
    });
    expect(corsHeaders(answer.headers)).toEqual([]);
    const preflight = await raw(`${e2e.stack.apiUrl}/config.json`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(corsHeaders(preflight.headers)).toEqual([]);
  });

  it('answers a foreign Host 403 on config.json, the console and /__local/events, naming ALLOWED_HOSTS', async () => {
    for (const path of ['/config.json', '/', '/index.html', '/__local/events']) {
      const answer = await raw(`${e2e.stack.apiUrl}${path}`, {
        headers: { host: `evil.example:${port()}`, origin: `http://evil.example:${port()}` },
      });
      expect(answer.status, path).toBe(403);
      expect(answer.text).not.toMatch(/token|eyJ/);
      expect(JSON.parse(answer.text).error).toContain(`ALLOWED_HOSTS=evil.example:${port()}`);
      expect(corsHeaders(answer.headers)).toEqual([]);
    }
  });

  it('serves /__local/events to its own Host without a CORS grant for a foreign Origin', async () => {
    const answer = await raw(`${e2e.stack.apiUrl}/__local/events`, {
      headers: { origin: 'https://evil.example' },
    });
    expect(answer.status, answer.text).toBe(200);
    expect(corsHeaders(answer.headers)).toEqual([]);
  });

  it('lets in a host ALLOWED_HOSTS names', async () => {
    process.env.ALLOWED_HOSTS = 'dev.box';
    const answer = await raw(`${e2e.stack.apiUrl}/config.json`, { headers: { host: `dev.box:${port()}` } });
    expect(answer.status, answer.text).toBe(200);
    expect(JSON.parse(answer.text).token).toEqual(expect.any(String));
    expect(corsHeaders(answer.headers)).toEqual([]);
  });

  it('grants API CORS to its own and the Vite origins, none to a foreign one', async () => {
    const ask = (origin: string, method = 'GET') =>
      raw(`${e2e.stack.apiUrl}${PATHS.pages}`, {
        method,
        headers: {
          origin,
          authorization: `Bearer ${e2e.token}`,
          ...(method === 'OPTIONS' ? { 'access-control-request-method': 'GET' } : {}),
        },
      });
    for (const method of ['GET', 'OPTIONS']) {
      const foreign = await ask('https://evil.example', method);
      expect(corsHeaders(foreign.headers), method).toEqual([]);
      for (const origin of [`http://127.0.0.1:${port()}`, 'http://localhost:5173']) {
        const own = await ask(origin, method);
        expect(own.headers['access-control-allow-origin'], `${method} ${origin}`).toBe(origin);
      }
    }
  });

  it('the Graph simulator and the Step Functions endpoint refuse a foreign Host', async () => {
    for (const url of [e2e.stack.graphApiUrl, e2e.stack.sfnEndpoint]) {
      const foreign = await raw(url, { method: 'POST', headers: { host: 'evil.example' } });
      expect(foreign.status, url).toBe(403);
      expect(JSON.parse(foreign.text).error).toContain('ALLOWED_HOSTS=evil.example');
    }
  });
});
