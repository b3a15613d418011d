/** Kept for importers that have not moved to graph-responses.ts yet. */
export * from './graph-responses.ts';
