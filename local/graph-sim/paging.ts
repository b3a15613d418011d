/**
 * Cursor paging of the simulator's lists. Cursors are opaque to clients and bound to one list (a
 * cursor of another list, or a malformed one, is error 100).
 *
 * - Position cursors, base64url of `sim1:<scope-hash>:<index>`: the message edges, and the
 *   conversation list in `listCursors: 'offset'` mode.
 * - Key cursors, base64url of `sim2:<scope-hash>:<updated-seconds>:<conversation-id>`: the conversation
 *   list by default. The list is ordered by `updated_time` (newest first), then by id; `after=K`
 *   answers the conversations ordered after the key K, whatever has moved since the cursor was made.
 */

import { hash32 } from '../prng.ts';
import { invalidParam, messageDeleted } from './error-responses.ts';

export interface Window {
  start: number;
  end: number;
}

export interface Paging {
  cursors?: { before: string; after: string };
  next?: string;
  previous?: string;
}

/** Where a conversation sits in a list ordered newest first: its `updated_time` in seconds, and its id. */
export interface ListKey {
  seconds: number;
  id: string;
}

const scopeHash = (scope: string) => hash32(scope).toString(16).padStart(8, '0');
const invalidCursor = (param: string) => invalidParam(`The parameter ${param} is not a valid cursor`);

function cursorText(raw: string, param: string): string {
  if (!/^[A-Za-z0-9_-]{1,400}={0,2}$/.test(raw)) throw invalidCursor(param);
  return Buffer.from(raw, 'base64url').toString('utf8');
}

export function encodeCursor(scope: string, index: number): string {
  return Buffer.from(`sim1:${scopeHash(scope)}:${index}`).toString('base64url');
}

function decodeCursor(raw: string, scope: string, total: number, param: string): number {
  const match = /^sim1:([0-9a-f]{8}):(\d{1,9})$/.exec(cursorText(raw, param));
  if (!match?.[2] || match[1] !== scopeHash(scope)) throw invalidCursor(param);
  const index = Number(match[2]);
  if (index >= total) throw invalidCursor(param);
  return index;
}

export function encodeKeyCursor(scope: string, key: ListKey): string {
  return Buffer.from(`sim2:${scopeHash(scope)}:${key.seconds}:${key.id}`).toString('base64url');
}

function decodeKeyCursor(raw: string, scope: string, param: string): ListKey {
  const match = /^sim2:([0-9a-f]{8}):(\d{1,12}):([A-Za-z0-9_-]{1,200})$/.exec(cursorText(raw, param));
  if (!match?.[2] || !match[3] || match[1] !== scopeHash(scope)) throw invalidCursor(param);
  return { seconds: Number(match[2]), id: match[3] };
}

/** The list order: newest first, then by id. Negative when `a` comes before `b`. */
export function compareKeys(a: ListKey, b: ListKey): number {
  if (a.seconds !== b.seconds) return b.seconds - a.seconds;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The first index in [0, total) where `test` holds (`test` is false, then true, along the list). */
function firstWhere(total: number, test: (index: number) => boolean): number {
  let low = 0;
  let high = total;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (test(mid)) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** A window of a list by position cursors; `cap` is how far the list may be read (error past it). */
export function listWindow(
  total: number,
  limit: number,
  after: string | null,
  before: string | null,
  scope: string,
  cap = Number.POSITIVE_INFINITY,
): Window {
  let start: number;
  let end: number;
  if (after !== null) {
    start = decodeCursor(after, scope, total, 'after') + 1;
    end = start + limit;
  } else if (before !== null) {
    end = decodeCursor(before, scope, total, 'before');
    start = Math.max(0, end - limit);
  } else {
    start = 0;
    end = limit;
  }
  if (start >= cap && start < total) throw messageDeleted();
  return { start, end: Math.max(start, Math.min(end, total, cap)) };
}

/** A window of a list ordered by `compareKeys`, by key cursors. */
export function keyWindow(
  total: number,
  keyAt: (index: number) => ListKey,
  limit: number,
  after: string | null,
  before: string | null,
  scope: string,
): Window {
  if (after !== null) {
    const key = decodeKeyCursor(after, scope, 'after');
    const start = firstWhere(total, (i) => compareKeys(keyAt(i), key) > 0);
    return { start, end: Math.min(total, start + limit) };
  }
  if (before !== null) {
    const key = decodeKeyCursor(before, scope, 'before');
    const end = firstWhere(total, (i) => compareKeys(keyAt(i), key) >= 0);
    return { start: Math.max(0, end - limit), end };
  }
  return { start: 0, end: Math.min(total, limit) };
}

/** `paging` of a window (none when it is empty); `cursorAt` makes the cursor of an item. */
export function buildPaging(
  window: Window,
  total: number,
  cursorAt: (index: number) => string,
  link: (param: 'after' | 'before', cursor: string) => string,
): Paging | undefined {
  if (window.end <= window.start) return undefined;
  const before = cursorAt(window.start);
  const after = cursorAt(window.end - 1);
  const paging: Paging = { cursors: { before, after } };
  if (window.start > 0) paging.previous = link('before', before);
  if (window.end < total) paging.next = link('after', after);
  return paging;
}

export function parseLimit(raw: string | null | undefined, fallback: number, max: number): number {
  if (raw === null || raw === undefined || raw.trim() === '') return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw invalidParam(`Param limit must be an integer, got "${raw}"`);
  return Math.min(max, Math.max(1, Number(raw.trim())));
}
