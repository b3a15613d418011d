import type { IncomingMessage } from 'node:http';
import type { SimPlatform } from './demo-data/sim-types.ts';
import { GraphError, invalidParam, unknownPath, unsupportedGet } from './error-responses.ts';
import type { PageEntry, SimState, Target } from './state.ts';
import type { Bucket } from './usage.ts';

/**
 * What a Graph request asks, as Graph reads it: its path (`/{version}/{id}/{edge}`), the page its
 * access token belongs to, the object it names and the rate-limit account it counts against.
 * Each step throws the GraphError Graph answers with.
 */

export const DEFAULT_VERSION = 'v21.0';

const ROUTE_TEMPLATES: Record<Target['kind'], string> = {
  page: '/{page-id}',
  'ig-account': '/{ig-user-id}',
  conversation: '/{conversation-id}',
  user: '/{user-id}',
  message: '/{message-id}',
};

export interface GraphPath {
  /** The version the path names, if any. */
  version: string | undefined;
  versionPrefix: string;
  id: string;
  edge: string | undefined;
  /** The route template the stats count the call under, e.g. `/{id}/conversations` until resolved. */
  pathKey: string;
}

/** The version a Graph path starts with (`/v21.0/...`), if any. */
export const graphVersion = (pathname: string) => /^\/(v\d+\.\d+)(?=\/|$)/.exec(pathname)?.[1];

/** Splits a Graph path into its version, node id and edge. */
export function parseGraphPath(pathname: string): GraphPath {
  const version = graphVersion(pathname);
  const versionPrefix = version ? `/${version}` : '';
  const rest = pathname.slice(versionPrefix.length);
  let segments: string[];
  try {
    segments = rest
      .split('/')
      .filter((s) => s.length > 0)
      .map(decodeURIComponent);
  } catch {
    throw unknownPath(rest);
  }
  const [id, edge] = segments;
  if (id === undefined || segments.length > 2) throw unknownPath(rest || '/');
  return { version, versionPrefix, id, edge, pathKey: edge ? `/{id}/${edge}` : '/{id}' };
}

/**
 * A page's token followed by this suffix is that page's token without the messaging permission:
 * it reads the page (`/me`, `/{page-id}`) but its Conversations API calls answer (#200).
 */
export const NO_MESSAGING_SUFFIX = '.no_messaging';
const withoutNoMessaging = (token: string) =>
  token.endsWith(NO_MESSAGING_SUFFIX) ? token.slice(0, -NO_MESSAGING_SUFFIX.length) : token;

/** The token a request carries (query `access_token`, else the Authorization header). */
function tokenOf(req: IncomingMessage, url: URL): string | undefined {
  const bearer = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
  return url.searchParams.get('access_token') ?? bearer;
}

/** Refuses a Conversations API call (a conversation list, a conversation, a message) of a token without messaging access. */
export function checkMessagingPermission(
  req: IncomingMessage,
  url: URL,
  target: Target,
  edge: string | undefined,
): void {
  const conversationsCall =
    target.kind === 'page'
      ? edge === 'conversations'
      : target.kind === 'conversation' || target.kind === 'message';
  if (conversationsCall && tokenOf(req, url)?.endsWith(NO_MESSAGING_SUFFIX)) {
    throw new GraphError({
      code: 200,
      type: 'OAuthException',
      message: '(#200) Requires pages_messaging permission to manage the object',
    });
  }
}

/** The page whose access token the request carries (query `access_token`, else the Authorization header). */
export function authenticate(state: SimState, req: IncomingMessage, url: URL): PageEntry {
  const token = tokenOf(req, url);
  if (!token) {
    throw new GraphError({
      code: 190,
      subcode: 467,
      message: 'An access token is required to request this resource.',
    });
  }
  const entry = state.pageByToken(token) ?? state.pageByToken(withoutNoMessaging(token));
  if (entry) return entry;
  if (token === 'expired-token') {
    throw new GraphError({
      code: 190,
      subcode: 463,
      message:
        'Error validating access token: Session has expired. The current time is later than the expiry time.',
    });
  }
  throw new GraphError({
    code: 190,
    subcode: 467,
    message: 'Invalid OAuth access token - Cannot parse access token',
  });
}

/** The object `path` names, if the page of the token may read it and it has the edge asked for. */
export function resolveTarget(state: SimState, entry: PageEntry, path: GraphPath): Target {
  const { id, edge } = path;
  const target = id === 'me' ? ({ kind: 'page', entry } as const) : state.resolve(id);
  if (!target || target.entry !== entry) throw unsupportedGet(id);
  const allowedEdge =
    target.kind === 'page' ? 'conversations' : target.kind === 'conversation' ? 'messages' : null;
  if (edge !== undefined && edge !== allowedEdge) throw unknownPath(`/${edge}`);
  return target;
}

/** The route template of a resolved call, e.g. `/{page-id}/conversations`. */
export const routeTemplate = (target: Target, edge: string | undefined) =>
  `${ROUTE_TEMPLATES[target.kind]}${edge ? `/${edge}` : ''}`;

function platformOf(raw: string | null): SimPlatform {
  if (raw === null || raw === '') return 'messenger';
  const value = raw.toLowerCase();
  if (value === 'messenger' || value === 'instagram') return value;
  throw invalidParam(`param platform must be one of {MESSENGER, INSTAGRAM} - got "${raw}"`);
}

/**
 * The platform of a call and the account it counts against: Conversations-API calls count
 * against the Page (Messenger) or the Instagram account, the others against the page, unlimited.
 */
export function rateLimitAccount(
  target: Target,
  edge: string | undefined,
  url: URL,
): { platform: SimPlatform; bucket: Bucket } {
  const page = target.entry.page;
  const limited = (platform: SimPlatform): { platform: SimPlatform; bucket: Bucket } => ({
    platform,
    bucket:
      platform === 'instagram'
        ? { id: page.instagramAccountId ?? page.id, type: 'instagram', limited: true }
        : { id: page.id, type: 'messenger', limited: true },
  });
  const pages = {
    platform: 'messenger' as const,
    bucket: { id: page.id, type: 'pages' as const, limited: false },
  };
  switch (target.kind) {
    case 'page':
      return edge === 'conversations' ? limited(platformOf(url.searchParams.get('platform'))) : pages;
    case 'conversation':
    case 'message':
      return limited(target.conversation.platform);
    default:
      return pages;
  }
}
