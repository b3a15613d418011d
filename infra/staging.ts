import { type CfnElement, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge, wildcardResource } from './nag.ts';

/**
 * The staging store (shared/staging/staged-chunks.ts): list pages read from Graph, waiting for a
 * worker. They hold message text, so the bucket is SSE-KMS with its own key, private, TLS only.
 * Objects are deleted explicitly when a job ends; the one-day expiry is only the backstop (S3
 * rounds it to the next midnight UTC and applies it lazily). Short-lived copies: nothing to keep.
 */
export class Staging extends Construct {
  readonly bucket: Bucket;
  readonly key: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: 'Encrypts conversations staged between the sync reader and its workers (Contact Sync)',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      lifecycleRules: [{ id: 'staged-chunks-backstop', prefix: 'jobs/', expiration: Duration.days(1) }],
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(
      this.bucket,
      'Staged chunks live for minutes and are deleted by the workflow; access logs of them would outlive the data',
      'AwsSolutions-S1',
    );
  }

  get environment(): Record<string, string> {
    return { STAGING_BUCKET: this.bucket.bucketName };
  }

  /** The reader: writes chunks and end markers, and looks for them (a missing object is a 404 only with ListBucket). */
  grantStage(fn: IFunction): void {
    this.grant(fn, ['s3:PutObject', 's3:GetObject'], ['kms:GenerateDataKey', 'kms:Decrypt']);
  }

  /** The workers: read chunks and end markers, waiting for them. */
  grantRead(fn: IFunction): void {
    this.grant(fn, ['s3:GetObject'], ['kms:Decrypt']);
  }

  /** Whoever ends a job: deletes all it staged. */
  grantDelete(fn: IFunction): void {
    this.grant(fn, ['s3:DeleteObject'], []);
  }

  private grant(fn: IFunction, objectActions: string[], keyActions: string[]): void {
    fn.addToRolePolicy(
      new PolicyStatement({ actions: objectActions, resources: [this.bucket.arnForObjects('jobs/*')] }),
    );
    const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement);
    acknowledge(
      fn.role ?? fn,
      "Staged objects are named at run time after their job (jobs/<jobId>/...): the grant covers this bucket's jobs/ prefix only",
      wildcardResource(`<${bucketId}.Arn>/jobs/*`),
    );
    fn.addToRolePolicy(
      // Without it a missing object is a 403, not a 404 (a prefix condition would not apply to GetObject).
      new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
    );
    if (keyActions.length > 0)
      fn.addToRolePolicy(new PolicyStatement({ actions: keyActions, resources: [this.key.keyArn] }));
  }
}
