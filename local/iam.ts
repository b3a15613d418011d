/** Kept for importers outside local/ (the test setup); local/iam/ holds the IAM modules. */
export { assertNoDenialsAnywhere } from './iam/local-iam.ts';
