/**
 * Time in the demo data: every timestamp is spread over the year before a FIXED reference date
 * (`REFERENCE_DATE`), never Date.now, and written as Graph writes it.
 */

/** All timestamps lie before this instant (2026-11-01T00:00:00Z). */
export const REFERENCE_DATE = new Date(Date.UTC(2026, 10, 1, 0, 0, 0));
export const REFERENCE_SECONDS = Math.floor(REFERENCE_DATE.getTime() / 1000);
export const YEAR_SECONDS = 365 * 24 * 3600;

/** Formats epoch seconds as a Graph timestamp: `2022-07-12T19:11:07+0000`. */
export function graphTime(epochSeconds: number): string {
  return `${new Date(epochSeconds * 1000).toISOString().slice(0, 19)}+0000`;
}

/** Parses a Graph timestamp back to epoch seconds. */
export function parseGraphTimeSeconds(value: string): number {
  return Math.floor(Date.parse(value.replace(/([+-]\d\d)(\d\d)$/, '$1:$2')) / 1000);
}
