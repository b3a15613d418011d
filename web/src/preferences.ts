/**
 * What the console keeps in localStorage (shared by the tabs of one browser):
 * - per user (the token's `sub`): whether Stop Sync asks "Are you sure?" first (off by default);
 * - per job: the page's contact count when the sync started, so every tab can show the gain
 *   ("492 contacts (was 347, gained 145)"); the 50 newest are kept.
 */
export interface Preferences {
  confirmStop: boolean;
}

const DEFAULTS: Preferences = { confirmStop: false };
const BASELINES = 'contact-sync:baselines';
const MAX_BASELINES = 50;

function read<T>(key: string): T | null {
  try {
    const raw = localStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

const prefsKey = (user: string) => `contact-sync:preferences:${user}`;

export function loadPreferences(user: string): Preferences {
  return { ...DEFAULTS, ...read<Partial<Preferences>>(prefsKey(user)) };
}

export function savePreferences(user: string, prefs: Preferences): void {
  localStorage.setItem(prefsKey(user), JSON.stringify(prefs));
}

type Baselines = Record<string, { count: number; at: number }>;

export function baselineOf(jobId: string): number | null {
  return read<Baselines>(BASELINES)?.[jobId]?.count ?? null;
}

export function rememberBaseline(jobId: string, count: number): void {
  const all = read<Baselines>(BASELINES) ?? {};
  if (all[jobId]) return;
  all[jobId] = { count, at: Date.now() };
  const newest = Object.entries(all)
    .sort(([, a], [, b]) => b.at - a.at)
    .slice(0, MAX_BASELINES);
  localStorage.setItem(BASELINES, JSON.stringify(Object.fromEntries(newest)));
}
