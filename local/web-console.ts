/** Kept for importers outside local/: the console's build and server live in console-server.ts. */
export * from './console-server.ts';
