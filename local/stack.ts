/** Kept for importers outside local/: the embedded stack lives in local-stack.ts. */
export * from './local-stack.ts';
