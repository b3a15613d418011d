/** The console's settings now live in console-config.ts; this name stays only until api.ts imports from there. */
export type { ConsoleConfig } from './console-config.ts';
