import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerImage, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  PriceClass,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { acknowledge, wildcardResource } from './nag.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const webDir = path.join(root, 'web');
/** Vite's command line: this repository's, or a host app's when the construct is its dependency. */
const viteBin = () =>
  path.join(path.dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin/vite.js');

/** How the console signs users in: the authorization code flow with PKCE against this issuer. */
export interface ConsoleOidc {
  issuer: string;
  clientId: string;
  scope: string;
}

/**
 * The web console (web/) as a static site: a private S3 bucket behind CloudFront (origin access
 * control), HTTPS only, with security headers. The API's URL reaches the page through
 * `config.json` beside index.html, written at deploy time; no token is ever in it (users paste
 * their own).
 */
export class WebConsole extends Construct {
  readonly distribution: Distribution;
  readonly bucket: Bucket;
  /** The log group of CDK's upload function, shared by every deployment into the bucket. */
  readonly deployLogs: LogGroup;

  constructor(
    scope: Construct,
    id: string,
    props: { logRetention: RetentionDays; logRemovalPolicy: RemovalPolicy },
  ) {
    super(scope, id);
    // Build output only: nothing to keep when the stack goes (the deployment empties it first).
    this.bucket = new Bucket(this, 'Site', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(
      this.bucket,
      'Private build output read only by CloudFront; who reads the console is not worth an access-log bucket',
      'AwsSolutions-S1',
    );
    this.deployLogs = new LogGroup(this, 'DeployLogs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    const origin = S3BucketOrigin.withOriginAccessControl(this.bucket);
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Contact Sync web console',
      defaultRootObject: 'index.html',
      priceClass: PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: ResponseHeadersPolicy.SECURITY_HEADERS,
      },
      additionalBehaviors: {
        // Read at every start: a redeploy to a new API URL must show at once.
        '/config.json': {
          origin,
          viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          cachePolicy: CachePolicy.CACHING_DISABLED,
          responseHeadersPolicy: ResponseHeadersPolicy.SECURITY_HEADERS,
        },
      },
    });
    acknowledge(
      this.distribution,
      'A static console of public assets: the data is behind the API and its JWT authorizer',
      'AwsSolutions-CFR1', // geo restriction
      'AwsSolutions-CFR2', // WAF
      'AwsSolutions-CFR3', // access logging
    );
    acknowledge(
      this.distribution,
      "The default *.cloudfront.net certificate, which fixes the TLS policy; a custom domain and certificate are the team's to add",
      'AwsSolutions-CFR4',
    );
  }

  /** `https://<id>.cloudfront.net`: the console's address, and the origin the API must allow. */
  get url(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }

  /**
   * Uploads the console built from web/ (Vite, at synth time, no Docker) and its config.json:
   * `{ apiUrl, oidc?: { issuer, clientId, scope } }`, `oidc` where the console signs users in itself.
   */
  publish(apiUrl: string, oidc?: ConsoleOidc): BucketDeployment {
    const deployment = new BucketDeployment(this, 'Deploy', {
      destinationBucket: this.bucket,
      sources: [
        Source.asset(webDir, {
          exclude: ['dist', 'node_modules', '.*'],
          bundling: {
            // Never used: the local build below always runs (Node and Vite are dev dependencies).
            image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24'),
            local: {
              tryBundle(outputDir: string) {
                execFileSync(process.execPath, [viteBin(), 'build', webDir, '--outDir', outputDir], {
                  cwd: root,
                  stdio: ['ignore', 'ignore', 'inherit'],
                });
                return true;
              },
            },
          },
        }),
        Source.jsonData('config.json', oidc ? { apiUrl, oidc } : { apiUrl }),
      ],
      // The self-hosted issuer's documents (infra/self-issuer.ts) are not the console's to prune.
      exclude: ['.well-known/*'],
      logGroup: this.deployLogs,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      retainOnDelete: false,
    });
    const handler = Stack.of(this).node.children.find((child) =>
      child.node.id.startsWith('Custom::CDKBucketDeployment'),
    );
    if (handler)
      acknowledge(
        handler,
        "CDK's own BucketDeployment handler, which runs only at deploy time: its runtime, managed policy and grants on the asset and site buckets are CDK's",
        'AwsSolutions-L1',
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        ...['GetObject*', 'GetBucket*', 'List*', 'DeleteObject*', 'Abort*'].map(
          (action) => `AwsSolutions-IAM5[Action::s3:${action}]`,
        ),
        wildcardResource('arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*'),
        wildcardResource(
          `<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnBucket)}.Arn>/*`,
        ),
        wildcardResource('*'),
      );
    return deployment;
  }
}
