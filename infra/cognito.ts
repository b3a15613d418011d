import { Names, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AccountRecovery,
  ClientAttributes,
  FeaturePlan,
  Mfa,
  OAuthScope,
  StringAttribute,
  UserPool,
  type UserPoolClient,
  UserPoolClientIdentityProvider,
  type UserPoolDomain,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { acknowledge } from './nag.ts';

/** The custom attribute that holds a user's organization: its claim in the ID token is `custom:org_id`. */
export const ORG_ATTRIBUTE = 'org_id';

export interface CognitoProps {
  /** The console's URL: where the hosted sign-in returns to, and where sign-out lands. */
  consoleUrl: string;
  /** Keep the user pool when the stack goes (production). */
  removalPolicy: RemovalPolicy;
}

/**
 * A hosted domain prefix unique to this construct's place (stack name, construct path and a hash
 * of them): lower case, and without the words Cognito reserves.
 */
export function domainPrefixOf(scope: Construct): string {
  const prefix = Names.uniqueResourceName(scope, { maxLength: 60, separator: '-' })
    .toLowerCase()
    .replace(/aws|amazon|cognito/g, 'x')
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '');
  return `cs-${prefix}`.slice(0, 63);
}

/**
 * The identity provider built in (`jwtIssuer: "cognito"`): a user pool only an operator adds
 * users to (no self sign-up), the console's app client (authorization code with PKCE, no secret)
 * and a hosted sign-in domain. Each user's organization is the custom attribute `org_id`, which
 * the client reads (the ID token's `custom:org_id`) but may not write: only an operator sets it.
 */
export class Cognito extends Construct {
  readonly userPool: UserPool;
  readonly client: UserPoolClient;
  readonly domain: UserPoolDomain;

  constructor(scope: Construct, id: string, props: CognitoProps) {
    super(scope, id);
    this.userPool = new UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      customAttributes: { [ORG_ATTRIBUTE]: new StringAttribute({ minLen: 1, maxLen: 128, mutable: true }) },
      passwordPolicy: {
        minLength: 12,
        requireUppercase: true,
        requireLowercase: true,
        requireDigits: true,
        requireSymbols: true,
      },
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: FeaturePlan.ESSENTIALS,
      removalPolicy: props.removalPolicy,
    });
    acknowledge(
      this.userPool,
      "Threat protection needs the Plus feature plan (a per-user cost): operators create every user, and MFA is required; it is the team's to turn on",
      'AwsSolutions-COG8',
    );
    const standard = { email: true, emailVerified: true, fullname: true, givenName: true, familyName: true };
    this.client = this.userPool.addClient('ConsoleClient', {
      // A browser app is a public client: code flow with PKCE, nothing secret in it.
      generateSecret: false,
      preventUserExistenceErrors: true,
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
        callbackUrls: [props.consoleUrl],
        logoutUrls: [props.consoleUrl],
      },
      readAttributes: new ClientAttributes()
        .withStandardAttributes(standard)
        .withCustomAttributes(ORG_ATTRIBUTE),
      // The organization is not among them: a user cannot move themselves to another organization.
      writeAttributes: new ClientAttributes().withStandardAttributes({
        fullname: true,
        givenName: true,
        familyName: true,
      }),
    });
    this.domain = this.userPool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: domainPrefixOf(this) },
    });
  }

  /** The `iss` of the pool's tokens, and the authorizer's issuer. */
  get issuer(): string {
    return `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${this.userPool.userPoolId}`;
  }

  /** The hosted sign-in's base URL, e.g. https://<prefix>.auth.<region>.amazoncognito.com */
  get domainUrl(): string {
    return this.domain.baseUrl();
  }
}
