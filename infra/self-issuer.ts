import type { JsonWebKey } from 'node:crypto';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { importJWK, SignJWT } from 'jose';
import type { WebConsole } from './web-console.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where a stage's signing key lives on the deployer's machine (git-ignored). */
export const issuerKeyDir = (stage: string) => path.join(root, '.deploy', stage);

export interface IssuerKey {
  kid: string;
  privateJwk: JsonWebKey;
  publicJwk: JsonWebKey;
}

/** The file holding a stage's signing key. */
export const issuerKeyFile = (dir: string) => path.join(dir, 'issuer-key.json');

/** The stage's RS256 signing key, created (mode 600) on first use. */
export function issuerKey(dir: string, kid: string): IssuerKey {
  const file = issuerKeyFile(dir);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as IssuerKey;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = {
    kid,
    privateJwk: privateKey.export({ format: 'jwk' }),
    publicJwk: publicKey.export({ format: 'jwk' }),
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, JSON.stringify(key), { mode: 0o600 });
  return key;
}

/** A token the stage's authorizer accepts: RS256 with the stage's key, `org_id` and `sub` as the API reads them. */
export async function signWithIssuerKey(
  key: IssuerKey,
  claims: { issuer: string; audience: string; org: string; user: string; expiresIn: string },
): Promise<string> {
  return new SignJWT({ org_id: claims.org })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
    .setSubject(claims.user)
    .setIssuer(claims.issuer)
    .setAudience(claims.audience)
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn)
    .sign(await importJWK(key.privateJwk as Parameters<typeof importJWK>[0], 'RS256'));
}

export interface SelfIssuerProps {
  /** The web console's distribution serves the issuer's documents beside the console. */
  site: WebConsole;
  /** Holds issuer-key.json. */
  keyDir: string;
  kid: string;
}

/**
 * A minimal OpenID Connect issuer, for teams without an identity provider (`jwtIssuer: "self"`):
 * the discovery document and the public key set at `<console URL>/.well-known/`, which API
 * Gateway's JWT authorizer reads. The private key never leaves the deployer's machine;
 * `npm run token -- --stage <stage>` signs tokens with it (local/token.ts).
 */
export class SelfIssuer extends Construct {
  /** The `iss` of the tokens, and the authorizer's issuer. */
  readonly issuer: string;
  /** Done once the documents are online: the authorizer reads them when it is created. */
  readonly deployment: BucketDeployment;

  constructor(scope: Construct, id: string, props: SelfIssuerProps) {
    super(scope, id);
    this.issuer = props.site.url;
    const { publicJwk } = issuerKey(props.keyDir, props.kid);
    this.deployment = new BucketDeployment(this, 'Documents', {
      destinationBucket: props.site.bucket,
      destinationKeyPrefix: '.well-known/',
      sources: [
        Source.jsonData('openid-configuration', {
          issuer: this.issuer,
          jwks_uri: `${this.issuer}/.well-known/jwks.json`,
          id_token_signing_alg_values_supported: ['RS256'],
          response_types_supported: ['token'],
          subject_types_supported: ['public'],
        }),
        Source.jsonData('jwks.json', { keys: [{ ...publicJwk, kid: props.kid, alg: 'RS256', use: 'sig' }] }),
      ],
      contentType: 'application/json',
      // The console's own deployment owns the rest of the bucket.
      prune: false,
      logGroup: props.site.deployLogs,
      distribution: props.site.distribution,
      distributionPaths: ['/.well-known/*'],
      retainOnDelete: false,
    });
  }
}
