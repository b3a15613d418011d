/**
 * The tables' key attributes, sort-key values and prefixes, and index names: infra/data.ts builds
 * the tables from these (its comment describes each table and its access patterns), and the
 * repositories read and write by them. Dependency-free.
 */

/** The platforms a page's conversations come from, in the order a sync reads them. */
export const PLATFORMS = ['messenger', 'instagram'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** A table's or an index's key attributes (all strings). */
export interface KeyAttributes {
  partitionKey: string;
  sortKey?: string;
}

export const JOBS_KEYS = { partitionKey: 'jobId', sortKey: 'sk' } as const;
/** A page's jobs, by creation time. */
export const JOBS_BY_PAGE = { indexName: 'byPage', partitionKey: 'pageId', sortKey: 'createdAt' } as const;

export const PAGES_KEYS = { partitionKey: 'pageId' } as const;
/** An organization's pages. */
export const PAGES_BY_ORGANIZATION = { indexName: 'byOrganization', partitionKey: 'organizationId' } as const;

export const CONTACTS_KEYS = { partitionKey: 'pageId', sortKey: 'contactKey' } as const;
/** The contacts a job created. */
export const CONTACTS_BY_CREATING_JOB = {
  indexName: 'byCreatingJob',
  partitionKey: 'createdByJobId',
  sortKey: 'contactKey',
} as const;

/** Powertools' idempotency records. */
export const IDEMPOTENCY_KEYS = { partitionKey: 'id', timeToLive: 'expiration' } as const;
/** The Graph API rate-limit slots, one item per page and platform. */
export const RATE_LIMITS_KEYS = { partitionKey: 'bucket', timeToLive: 'expiresAt' } as const;

/** Sort key of the job item itself in the jobs table (the markers share its partition). */
export const JOB_SK = 'JOB';
/** Sort-key prefix of a job's failed-conversation markers. */
export const FAILED_PREFIX = 'FAILED#';
/** Sort-key prefix of a job's chunk markers. */
export const CHUNK_PREFIX = 'CHUNK#';

/** Sort-key prefix of a job's execution items, one per Step Functions execution, by name. */
export const EXECUTION_PREFIX = 'EXEC#';
/** Sort-key prefix of the cached history summaries of a job's executions, by execution name. */
export const HISTORY_PREFIX = 'HISTORY#';

/** The jobs table key of a job item. */
export const jobKey = (jobId: string) => ({ jobId, sk: JOB_SK });
/** The jobs table key of the item of one of the job's executions. */
export const executionKey = (jobId: string, name: string) => ({ jobId, sk: `${EXECUTION_PREFIX}${name}` });
/** The jobs table key of an execution's cached history summary. */
export const historyKey = (jobId: string, name: string) => ({ jobId, sk: `${HISTORY_PREFIX}${name}` });

/** Sort key of the marker of a conversation a job counted as failed. */
export const failedMarkerSk = (platform: Platform, conversationId: string) =>
  `${FAILED_PREFIX}${platform}#${conversationId}`;

/** One contact per (organization, page, platform, participant): the contacts table's sort key. */
export const contactKey = (organizationId: string, platform: Platform, participantId: string) =>
  `${organizationId}#${platform}#${participantId}`;

/** A contact key of the organization whose prefix is `prefix` (`<organizationId>#`). */
export const isContactKeyOf = (prefix: string, key: string) =>
  key.startsWith(prefix) && new RegExp(`^[^#]+#(${PLATFORMS.join('|')})#.{1,128}$`).test(key);
