/**
 * The HTTP API's routes: for each, its method, path and the function that serves it (the
 * `functions/<name>` folder). Dependency-free, so the web console can bundle it. The API (infra),
 * the OpenAPI document (its operations, keyed by the same names, in ./openapi.ts), the console's
 * client and the tests all take their routes from here.
 */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** The folder under functions/ whose handler serves the route. */
  function: string;
  /** Reachable without a token (the OpenAPI document). */
  public?: true;
}

export const ROUTES = {
  startSync: { method: 'POST', path: '/api/facebook/sync-background', function: 'start-sync' },
  cancelSync: { method: 'POST', path: '/api/facebook/sync-cancel', function: 'cancel-sync' },
  cancelSyncBulk: { method: 'POST', path: '/api/facebook/sync-cancel-bulk', function: 'cancel-sync-bulk' },
  pauseSync: { method: 'POST', path: '/api/facebook/sync-pause', function: 'pause-sync' },
  resumeSync: { method: 'POST', path: '/api/facebook/sync-resume', function: 'resume-sync' },
  retrySync: { method: 'POST', path: '/api/facebook/sync-retry', function: 'retry-sync' },
  syncStatus: { method: 'GET', path: '/api/facebook/sync-status', function: 'sync-status' },
  syncExecution: { method: 'GET', path: '/api/facebook/sync-execution', function: 'sync-execution' },
  syncJobs: { method: 'GET', path: '/api/facebook/sync-jobs', function: 'sync-jobs' },
  listPages: { method: 'GET', path: '/api/facebook/pages', function: 'pages' },
  connectPage: { method: 'POST', path: '/api/facebook/pages', function: 'connect-page' },
  disconnectPage: { method: 'DELETE', path: '/api/facebook/pages/{pageId}', function: 'disconnect-page' },
  replacePageToken: {
    method: 'PUT',
    path: '/api/facebook/pages/{pageId}/token',
    function: 'replace-page-token',
  },
  pageContacts: { method: 'GET', path: '/api/facebook/pages/{pageId}/contacts', function: 'page-contacts' },
  openApi: { method: 'GET', path: '/openapi.json', function: 'openapi', public: true },
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof ROUTES;
/** The functions that serve the API, by folder name. */
export type RouteFunction = (typeof ROUTES)[RouteName]['function'];

/** Every route name, in the table's order. */
export const ROUTE_NAMES = Object.keys(ROUTES) as RouteName[];

/** `METHOD /path`, as API Gateway names a route. */
export const routeKey = (name: RouteName) => `${ROUTES[name].method} ${ROUTES[name].path}`;

/** A route's path template. */
type PathOf<N extends RouteName> = (typeof ROUTES)[N]['path'];
/** The values a path template's `{param}`s take, by name. */
type PathParams<P extends string> = P extends `${string}{${infer Param}}${infer Rest}`
  ? Record<Param, string> & PathParams<Rest>
  : unknown;
type Params = Record<string, string | number | undefined>;

/**
 * The request path of a route: its `{param}`s filled with their URL-encoded values from `params`,
 * the other params as the query string (undefined values are left out).
 */
export function routePath<N extends RouteName>(
  name: N,
  ...[params]: keyof PathParams<PathOf<N>> extends never
    ? [params?: Params]
    : [params: PathParams<PathOf<N>> & Params]
): string {
  const query: Params = { ...params };
  const path = ROUTES[name].path.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = query[key];
    if (value === undefined) throw new Error(`${routeKey(name)}: missing {${key}}`);
    delete query[key];
    return encodeURIComponent(value);
  });
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}
