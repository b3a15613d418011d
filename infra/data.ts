import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  CONTACTS_BY_CREATING_JOB,
  CONTACTS_KEYS,
  IDEMPOTENCY_KEYS,
  JOBS_BY_PAGE,
  JOBS_KEYS,
  type KeyAttributes,
  PAGES_BY_ORGANIZATION,
  PAGES_KEYS,
  RATE_LIMITS_KEYS,
} from '#shared/store/table-keys.ts';

export interface DataProps {
  /** @default RemovalPolicy.RETAIN: production data outlives the stack */
  removalPolicy?: RemovalPolicy;
}

/**
 * Three tables, one per entity, so each function can be granted exactly the one it uses.
 *
 * Jobs      pk jobId, sk sk
 *   sk = "JOB"                          the sync job (status, counters, phase, executionArn...)
 *   sk = "FAILED#<platform>#<convId>"   marker: this conversation was counted in failedContacts once
 *   GSI byPage (pageId, createdAt)      job history of a page, newest first (markers have no pageId)
 *   Access: get job by id (status, cancel, the state machine's cancel checks: one getItem);
 *           conditional status transitions; counter increments inside contact transactions.
 *
 * Pages     pk pageId
 *   organizationId, pageName, instagramAccountId, accessToken (secret), contactCount,
 *   activeJobId (the page lock: set by a conditional write at start, removed at any terminal status)
 *   GSI byOrganization (organizationId)  list an organization's connected pages
 *
 * Contacts  pk pageId, sk contactKey = "<organizationId>#<platform>#<participantId>"
 *   One contact per (organization, page, platform, participant): a page can change hands, and
 *   the contacts an organization kept stay its own. lastSyncJobId makes each job count it once.
 *   Access: upsert in a transaction with the job counter; list an organization's contacts of a
 *   page (begins_with on the organization prefix, paginated).
 *   createdByJobId: the job that created the contact (later updates keep it).
 *   GSI byCreatingJob (createdByJobId, contactKey), keys + lastSyncJobId: the contacts a job
 *   created, which a cancel with cleanup deletes (conditionally: unless another job wrote them since).
 *
 * Idempotency  pk id (Powertools idempotency records), TTL on `expiration`
 *   A start retried with the same Idempotency-Key returns the first answer instead of a 409.
 *
 * RateLimits  pk bucket = "<pageId>#<platform>", s0..sN (epoch ms a slot is free again), TTL on `expiresAt`
 *   The Graph API budget (2 calls/s per Page) shared by every worker: a call takes a free slot
 *   with one conditional write and frees it a second after its answer (shared/graph/rate-limiter.ts).
 *
 * Page tokens are encrypted with `pageTokenKey` (KMS) before they reach the pages table. The key
 * and index names come from shared/store/table-keys.ts, which the repositories use too.
 */
export class Data extends Construct {
  readonly jobs: Table;
  readonly pages: Table;
  readonly contacts: Table;
  readonly idempotency: Table;
  readonly rateLimits: Table;
  readonly pageTokenKey: Key;

  constructor(scope: Construct, id: string, props: DataProps = {}) {
    super(scope, id);
    const common = {
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    };
    this.jobs = new Table(this, 'Jobs', { ...common, ...keySchema(JOBS_KEYS) });
    this.jobs.addGlobalSecondaryIndex({
      indexName: JOBS_BY_PAGE.indexName,
      ...keySchema(JOBS_BY_PAGE),
      projectionType: ProjectionType.ALL,
    });
    this.pages = new Table(this, 'Pages', { ...common, ...keySchema(PAGES_KEYS) });
    this.pages.addGlobalSecondaryIndex({
      indexName: PAGES_BY_ORGANIZATION.indexName,
      ...keySchema(PAGES_BY_ORGANIZATION),
      // The token stays out of the index.
      projectionType: ProjectionType.INCLUDE,
      nonKeyAttributes: ['pageName', 'instagramAccountId', 'contactCount', 'activeJobId', 'connectedAt'],
    });
    this.contacts = new Table(this, 'Contacts', { ...common, ...keySchema(CONTACTS_KEYS) });
    this.contacts.addGlobalSecondaryIndex({
      indexName: CONTACTS_BY_CREATING_JOB.indexName,
      ...keySchema(CONTACTS_BY_CREATING_JOB),
      projectionType: ProjectionType.INCLUDE,
      nonKeyAttributes: ['lastSyncJobId'],
    });
    // Short-lived request records and counters of the last seconds: nothing to keep.
    this.idempotency = new Table(this, 'Idempotency', {
      ...common,
      ...keySchema(IDEMPOTENCY_KEYS),
      timeToLiveAttribute: IDEMPOTENCY_KEYS.timeToLive,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.rateLimits = new Table(this, 'RateLimits', {
      ...common,
      ...keySchema(RATE_LIMITS_KEYS),
      timeToLiveAttribute: RATE_LIMITS_KEYS.timeToLive,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.pageTokenKey = new Key(this, 'PageTokenKey', {
      description: 'Encrypts Facebook Page access tokens at rest (Contact Sync)',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  /** The table-name environment every function gets (names only; access is granted per function). */
  get environment(): Record<string, string> {
    return {
      JOBS_TABLE: this.jobs.tableName,
      PAGES_TABLE: this.pages.tableName,
      CONTACTS_TABLE: this.contacts.tableName,
    };
  }
}

/** A table's or an index's string key attributes, as CDK takes them. */
function keySchema({ partitionKey, sortKey }: KeyAttributes) {
  return {
    partitionKey: { name: partitionKey, type: AttributeType.STRING },
    ...(sortKey ? { sortKey: { name: sortKey, type: AttributeType.STRING } } : {}),
  };
}
