/** Kept for importers outside local/: the demo organization lives in demo-org.ts. */
export { DEMO_ORG } from './demo-org.ts';
