import { beforeAll, describe, expect, it } from 'vitest';
import { type Statement, synthesize } from './template.ts';

/**
 * The staging store (infra/staging.ts): list pages with message text wait there for a worker, so
 * the bucket is encrypted under its own rotating key, private, TLS only, emptied by a backstop
 * expiry, and reachable by the three functions that stage, read and discard chunks, and no other.
 */
let t: ReturnType<typeof synthesize>;
let bucketId: string;
let keyId: string;
/** The bucket's resource as the template holds it. */
let bucket: { Properties: Record<string, unknown>; DeletionPolicy?: string };

beforeAll(() => {
  t = synthesize({}, 'StagingTestStack');
  bucketId = t.logicalId(t.stack.staging.bucket);
  keyId = t.logicalId(t.stack.staging.key);
  bucket = t.template.findResources('AWS::S3::Bucket')[bucketId] as typeof bucket;
  expect(bucket, 'the staging bucket').toBeDefined();
});

/** The role of the function built from functions/<name>. */
const roleOf = (name: string): string =>
  t.template.findResources('AWS::Lambda::Function')[t.functionId(name)]?.Properties.Role['Fn::GetAtt'][0];

/** Every IAM statement of the template with the roles it is attached to. */
function statementsWithRoles(): { roles: string[]; statement: Statement }[] {
  const attached = [
    ...Object.values(t.template.findResources('AWS::IAM::Policy')),
    ...Object.values(t.template.findResources('AWS::IAM::ManagedPolicy')),
  ].flatMap((p) =>
    (p.Properties.PolicyDocument.Statement as Statement[]).map((statement) => ({
      roles: ((p.Properties.Roles ?? []) as { Ref: string }[]).map((r) => r.Ref),
      statement,
    })),
  );
  const inline = Object.entries(t.template.findResources('AWS::IAM::Role')).flatMap(([role, r]) =>
    ((r.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).flatMap((p) =>
      p.PolicyDocument.Statement.map((statement) => ({ roles: [role], statement })),
    ),
  );
  return [...attached, ...inline];
}

type Attached = { roles: string[]; statement: Statement };

/** The roles given an Allow of an action of `service` that can reach `resourceId` (by name or by "*"). */
function rolesReaching(service: string, resourceId: string, statements: Attached[] = statementsWithRoles()) {
  const reaches = (resource: unknown) => {
    const text = JSON.stringify(resource);
    return text === '"*"' || text.includes(`"${resourceId}"`);
  };
  const covers = (action: string) => action === '*' || action.startsWith(`${service}:`);
  const roles = statements
    .filter(
      ({ statement: s }) =>
        s.Effect === 'Allow' && [s.Action].flat().some(covers) && [s.Resource].flat().some(reaches),
    )
    .flatMap(({ roles }) => roles);
  return [...new Set(roles)].sort();
}

describe('the staging bucket', () => {
  it('encrypts with SSE-KMS under its own customer-managed key, which rotates', () => {
    expect(bucket.Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          ServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms',
            KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] },
          },
          BucketKeyEnabled: true,
        },
      ],
    });
    const key = t.template.findResources('AWS::KMS::Key')[keyId];
    expect(key?.Properties.EnableKeyRotation).toBe(true);
    // Its own key: not the page token key, nor the alarm topic's.
    expect(keyId).not.toBe(t.logicalId(t.stack.data.pageTokenKey));
    expect(key?.Properties.Description).toMatch(/staged/);
  });

  it('blocks all public access and disables ACLs', () => {
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.OwnershipControls).toEqual({
      Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }],
    });
  });

  it('has a bucket policy that denies every request without TLS, and allows nothing', () => {
    const policies = Object.values(t.template.findResources('AWS::S3::BucketPolicy')).filter(
      (p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: bucketId }),
    );
    expect(policies).toHaveLength(1);
    expect(policies[0]?.Properties.PolicyDocument.Statement).toEqual([
      {
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        Resource: [
          { 'Fn::GetAtt': [bucketId, 'Arn'] },
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
        ],
      },
    ]);
  });

  it('expires what is left under jobs/ after one day, the backstop of the explicit delete', () => {
    expect(bucket.Properties.LifecycleConfiguration).toEqual({
      Rules: [{ Id: 'staged-chunks-backstop', Prefix: 'jobs/', ExpirationInDays: 1, Status: 'Enabled' }],
    });
    // Short-lived copies: nothing of the store is kept when the stack goes.
    expect(bucket.DeletionPolicy).toBe('Delete');
    expect(t.template.findResources('AWS::KMS::Key')[keyId]?.DeletionPolicy).toBe('Delete');
  });

  it('names the bucket in the environment of the functions that use it, and of no other', () => {
    const withBucket = Object.entries(t.template.findResources('AWS::Lambda::Function'))
      .filter(([, f]) => f.Properties.Environment?.Variables?.STAGING_BUCKET !== undefined)
      .map(([id, f]) => {
        expect(f.Properties.Environment.Variables.STAGING_BUCKET).toEqual({ Ref: bucketId });
        return id;
      })
      .sort();
    expect(withBucket).toEqual(
      ['read-conversations', 'process-chunk', 'discard-staging'].map((name) => t.functionId(name)).sort(),
    );
  });

  it('lets no role but those of read-conversations, process-chunk and discard-staging use the bucket', () => {
    expect(rolesReaching('s3', bucketId)).toEqual(
      ['read-conversations', 'process-chunk', 'discard-staging'].map(roleOf).sort(),
    );
    // The check does see a role reaching the bucket through a wildcard, and ignores a Deny.
    const probe = (roles: string[], Effect: string, Action: string, Resource: unknown): Attached => ({
      roles,
      statement: { Effect, Action, Resource },
    });
    expect(
      rolesReaching('s3', bucketId, [
        probe(['AnyResource'], 'Allow', 's3:GetObject', '*'),
        probe(['AnyAction'], 'Allow', '*', { 'Fn::GetAtt': [bucketId, 'Arn'] }),
        probe(['Denied'], 'Deny', 's3:*', '*'),
        probe(['OtherService'], 'Allow', 'sqs:SendMessage', '*'),
      ]),
    ).toEqual(['AnyAction', 'AnyResource']);
  });

  it('lets only the reader encrypt with the staging key, and only the reader and the workers decrypt', () => {
    expect(rolesReaching('kms', keyId)).toEqual(['read-conversations', 'process-chunk'].map(roleOf).sort());
    const onKey = (name: string) =>
      t
        .statementsOf(name)
        .filter((s) => JSON.stringify(s.Resource).includes(`"${keyId}"`))
        .flatMap((s) => [s.Action].flat())
        .sort();
    expect(onKey('read-conversations')).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(onKey('process-chunk')).toEqual(['kms:Decrypt']);
  });
});
