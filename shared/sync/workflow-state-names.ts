/**
 * Names of states of the sync workflow that code outside the workflow definition reads back from an
 * execution's history (the execution summary). The definition (infra/workflow/workers.ts) names its
 * states with these, so a rename there cannot silently break what the summary counts. No imports:
 * both the CDK app and the Lambda bundles take this module.
 */

/** The Succeed state a worker slot ends at when its cancel check finds the job no longer running. */
export const WORKER_STOPPED_BY_CHECK = 'Stop this worker: job no longer running';

/** The Task (a Lambda invoke) that processes one staged chunk: one exited visit per chunk processed. */
export const PROCESS_CHUNK = 'Process a staged chunk';

/**
 * The Succeed state an execution ends at when one of its checks finds the job no longer running
 * (cancelled or paused): the execution succeeds, but it stopped the sync.
 */
export const EXECUTION_STOPPED_BY_CHECK = 'Stop: job is no longer running';
