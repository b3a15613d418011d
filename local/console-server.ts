import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { signLocalToken } from './auth.ts';
import { DEMO_ORG } from './demo-org.ts';

/**
 * The web console on the local stack: `web/` built with Vite into `web/dist` (only when its sources
 * changed), served at `/` by the HTTP API emulator's fallback, with a `/config.json` that hands the
 * page the API's base URL (same origin) and a freshly signed dev token for `demo-org` (or, with
 * OIDC sign-in switched on, the local OpenID provider's issuer, client id and scope). A deployed
 * console gets its config.json (or VITE_API_URL at build time) from its own hosting instead.
 */
export const WEB_DIR = path.resolve(import.meta.dirname, '..', 'web');
export const WEB_DIST = path.join(WEB_DIR, 'dist');
const STAMP = '.source-hash';
// In node_modules (ignored by git), not in web/dist, which a build empties.
const LOCK = path.resolve(WEB_DIR, '..', 'node_modules', '.cache', 'contact-sync-web-build.lock');

/** A hash of everything the bundle is made from: web/ (less its output) and the lockfile. */
function sourceHash(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const full = path.join(dir, entry.name);
      if (full === WEB_DIST || entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      if (entry.isDirectory()) walk(full);
      else hash.update(path.relative(WEB_DIR, full)).update('\0').update(readFileSync(full)).update('\0');
    }
  };
  walk(WEB_DIR);
  hash.update(readFileSync(path.resolve(WEB_DIR, '..', 'package-lock.json')));
  return hash.digest('hex');
}

const isFresh = (hash: string) => {
  const stamp = path.join(WEB_DIST, STAMP);
  return existsSync(stamp) && readFileSync(stamp, 'utf8') === hash;
};

/**
 * Builds the console into web/dist unless it is already built from the same sources. Processes
 * that start at once (`npm start` and a test) take turns through a lock file; a lock older than
 * two minutes is taken to be left over from a killed build.
 */
export async function ensureConsoleBuilt(log: (line: string) => void = () => {}): Promise<string> {
  const hash = sourceHash();
  if (isFresh(hash)) return WEB_DIST;
  const deadline = Date.now() + 180_000;
  mkdirSync(path.dirname(LOCK), { recursive: true });
  for (;;) {
    try {
      writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const heldSince = statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
      if (Date.now() - heldSince > 120_000) rmSync(LOCK, { force: true });
      if (Date.now() > deadline) throw new Error(`web console build lock ${LOCK} is held`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    if (isFresh(hash)) return WEB_DIST;
    log('Building the web console (web/ -> web/dist)...');
    const { build } = await import('vite');
    await build({ configFile: path.join(WEB_DIR, 'vite.config.ts'), logLevel: 'warn' });
    writeFileSync(path.join(WEB_DIST, STAMP), hash);
    return WEB_DIST;
  } finally {
    rmSync(LOCK, { force: true });
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

/**
 * A fallback for serveHttpApi: GET/HEAD of `/config.json` and of the files in `webRoot`, with
 * index.html for `/`. Anything else (or a path that leaves webRoot) is left to the API's 404.
 */
export function consoleFallback(
  webRoot: string,
  opts: {
    dataDir: string;
    org?: string;
    user?: string;
    /** When it names a provider, config.json hands the console that instead of a dev token. */
    oidc?: () => { issuer: string; clientId: string; scope: string } | undefined;
  },
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const root = path.resolve(webRoot);
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    const headers = {
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    };
    if (pathname === '/config.json') {
      const oidc = opts.oidc?.();
      if (oidc) {
        res.writeHead(200, { ...headers, 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ apiUrl: '', oidc }));
        return true;
      }
      void signLocalToken(opts.dataDir, {
        org: opts.org ?? DEMO_ORG,
        user: opts.user ?? 'console-user',
      }).then(
        (token) => {
          const body = JSON.stringify({ apiUrl: '', token, tokenSource: 'local-dev' });
          res.writeHead(200, { ...headers, 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        () => {
          res.writeHead(500, { ...headers, 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'Internal Server Error' }));
        },
      );
      return true;
    }
    let relative: string;
    try {
      relative = decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
    } catch {
      return false;
    }
    const file = path.resolve(root, `.${relative}`);
    if (!file.startsWith(`${root}${path.sep}`) || path.basename(file).startsWith('.')) return false;
    const stat = statSync(file, { throwIfNoEntry: false });
    if (!stat?.isFile()) return false;
    res.writeHead(200, {
      ...headers,
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'content-length': stat.size,
      // Hashed asset names can be cached for good; index.html must always be re-read.
      'cache-control': relative.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
    return true;
  };
}
