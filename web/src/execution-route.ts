import { useCallback, useEffect, useState } from 'react';

/**
 * The execution view's address in the URL's hash: `#/jobs/<jobId>` (the job, its latest execution
 * open) or `#/jobs/<jobId>/executions/<name>` (that execution open), which is where the local
 * stack's `consoleUrl` of an execution points.
 */
export interface ExecutionRoute {
  jobId: string;
  /** The execution to open; null for the latest. */
  name: string | null;
}

const decode = (part: string) => {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
};

/** The route a hash names, or null when it names none. */
export function parseExecutionHash(hash: string): ExecutionRoute | null {
  const match = /^#\/jobs\/([^/]+)(?:\/executions\/([^/]+))?\/?$/.exec(hash);
  if (!match?.[1]) return null;
  const jobId = decode(match[1]);
  const name = match[2] === undefined ? null : decode(match[2]);
  if (!jobId || name === '') return null;
  return { jobId, name: name ?? null };
}

/** The hash of a route. */
export const executionHash = ({ jobId, name }: ExecutionRoute) =>
  `#/jobs/${encodeURIComponent(jobId)}${name ? `/executions/${encodeURIComponent(name)}` : ''}`;

/**
 * The route the address names, kept in step with it: `open` adds it to the history (Back closes
 * the view), `close` clears the hash without adding an entry.
 */
export function useExecutionRoute() {
  const [route, setRoute] = useState(() => parseExecutionHash(window.location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseExecutionHash(window.location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const open = useCallback((jobId: string) => {
    const next = { jobId, name: null };
    window.location.hash = executionHash(next);
    setRoute(next);
  }, []);
  const close = useCallback(() => {
    const { pathname, search, hash } = window.location;
    if (hash) window.history.replaceState(window.history.state, '', `${pathname}${search}`);
    setRoute(null);
  }, []);
  return { route, open, close };
}
