import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { issuerKeyDir } from './self-issuer.ts';

/** Everything that may differ between a team's stages (dev, prod...). */
export interface ContactSyncConfig {
  /** The stage this deployment is: picks `stages.<stage>` from cdk.json. @default 'dev' */
  stage: string;
  /**
   * The identity provider's issuer URL, `self` for the product's own (infra/self-issuer.ts) or
   * `cognito` for a user pool it creates (infra/cognito.ts).
   */
  jwtIssuer: string;
  /** The tokens' accepted `aud` values; required but with `cognito` (its app client is the audience). */
  jwtAudience: string[];
  /** With an issuer URL: the console's OIDC client id. @default the first `jwtAudience` */
  consoleClientId?: string;
  /** The Graph API base URL: `https://graph.facebook.com/<graphApiVersion>` unless set (local simulator). */
  graphApiUrl: string;
  mapConcurrency: number;
  chunkSize: number;
  /** Chunks per execution before the workflow continues in a new one (continue-as-new). */
  maxChunksPerSegment: number;
  /** `bedrock` (production) or `local` (the deterministic embedded analyzer). */
  analyzer: 'bedrock' | 'local';
  bedrockModelId: string;
  /** Browser origins allowed to call the API; the deployed web console's origin is added to a list. */
  corsOrigins: string[];
  /** The API's steady request rate (per second) and burst, beyond which it answers 429. */
  apiRateLimit: number;
  apiBurstLimit: number;
  /** Days every log group keeps its logs. */
  logRetentionDays: number;
  /** Keep tables, the key and logs when the stack is deleted (production). */
  retainData: boolean;
  /** Deploy the web console (S3 + CloudFront). */
  webConsole: boolean;
  /** An address that gets the alarms by email (confirm the subscription AWS sends). */
  alarmEmail?: string;
  /** With `jwtIssuer: self`: where the stage's signing key is kept on this machine. @default .deploy/<stage> */
  issuerKeyDir: string;
  /** The per-chunk cancel checks; `false` only for the benchmark's cost measurement. */
  cancelChecks: boolean;
}

/** The stack of a stage (`cdk deploy` names it so unless `-c stackName=` says otherwise). */
export const stackNameOf = (stage: string) => `ContactSync-${stage}`;

const DEFAULTS = {
  stage: 'dev',
  graphApiVersion: 'v21.0',
  mapConcurrency: 4,
  chunkSize: 50,
  maxChunksPerSegment: 200,
  analyzer: 'bedrock',
  bedrockModelId: 'anthropic.claude-3-haiku-20240307-v1:0',
  corsOrigins: '*',
  logRetentionDays: 30,
  apiRateLimit: 50,
  apiBurstLimit: 100,
  retainData: true,
  webConsole: true,
  cancelChecks: true,
} as const;

/**
 * Reads the stage config, failing on a bad value. Each key comes from, in order of precedence:
 * a context value of that name (`cdk deploy -c chunkSize=25`), the stage's entry in the
 * `stages` context (cdk.json), then the defaults above.
 */
export function configFromContext(scope: Construct): ContactSyncConfig {
  const stage = String(scope.node.tryGetContext('stage') ?? DEFAULTS.stage);
  const stages = (scope.node.tryGetContext('stages') ?? {}) as Record<string, Record<string, unknown>>;
  if (stage !== DEFAULTS.stage && !stages[stage])
    throw new Error(`Context stages.${stage} is not defined (see cdk.json)`);
  const perStage = stages[stage] ?? {};
  const get = (key: string): unknown =>
    scope.node.tryGetContext(key) ?? perStage[key] ?? (DEFAULTS as Record<string, unknown>)[key];
  const list = (v: unknown) =>
    Array.isArray(v)
      ? v.map(String)
      : String(v)
          .split(',')
          .map((s) => s.trim());
  const flag = (key: string) => String(get(key)) !== 'false';
  const int = (key: string) => {
    const value = Number(get(key));
    if (!Number.isInteger(value) || value < 1) throw new Error(`Context ${key} must be a positive integer`);
    return value;
  };
  const issuer = get('jwtIssuer');
  const audience = get('jwtAudience');
  if (!issuer || (!audience && issuer !== 'cognito'))
    throw new Error(`Context jwtIssuer and jwtAudience are required for stage ${stage}`);
  const version = String(get('graphApiVersion'));
  if (!/^v\d+\.\d+$/.test(version)) throw new Error('Context graphApiVersion must look like v21.0');
  const logRetentionDays = int('logRetentionDays');
  if (!Object.values(RetentionDays).includes(logRetentionDays))
    throw new Error(
      `Context logRetentionDays must be one CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 365...)`,
    );
  const alarmEmail = get('alarmEmail');
  const consoleClientId = get('consoleClientId');
  return {
    stage,
    jwtIssuer: String(issuer),
    jwtAudience: audience ? list(audience) : [],
    ...(consoleClientId ? { consoleClientId: String(consoleClientId) } : {}),
    graphApiUrl: String(get('graphApiUrl') ?? `https://graph.facebook.com/${version}`),
    mapConcurrency: int('mapConcurrency'),
    chunkSize: int('chunkSize'),
    maxChunksPerSegment: int('maxChunksPerSegment'),
    analyzer: get('analyzer') === 'local' ? 'local' : 'bedrock',
    bedrockModelId: String(get('bedrockModelId')),
    corsOrigins: list(get('corsOrigins')),
    logRetentionDays,
    apiRateLimit: int('apiRateLimit'),
    apiBurstLimit: int('apiBurstLimit'),
    retainData: flag('retainData'),
    webConsole: flag('webConsole'),
    ...(alarmEmail ? { alarmEmail: String(alarmEmail) } : {}),
    cancelChecks: flag('cancelChecks'),
    issuerKeyDir: String(get('issuerKeyDir') ?? issuerKeyDir(stage)),
  };
}

/** What a host passes to `new ContactSync(...)`: the issuer, and any stage setting to override. */
export type ContactSyncProps = Partial<Omit<ContactSyncConfig, 'jwtIssuer'>> & {
  /** An issuer URL, `self` or `cognito`. */
  jwtIssuer: string;
};

/** The construct's props with the defaults filled in, failing on a missing or bad value. */
export function settingsOf(props: ContactSyncProps): ContactSyncConfig {
  const stage = props.stage ?? DEFAULTS.stage;
  const jwtAudience = props.jwtIssuer === 'cognito' ? [] : (props.jwtAudience ?? []);
  if (!props.jwtIssuer)
    throw new Error('ContactSync: jwtIssuer is required (an issuer URL, "self" or "cognito")');
  if (props.jwtIssuer !== 'cognito' && jwtAudience.length === 0)
    throw new Error(`ContactSync: jwtAudience is required with jwtIssuer "${props.jwtIssuer}"`);
  const logRetentionDays = props.logRetentionDays ?? DEFAULTS.logRetentionDays;
  if (!Object.values(RetentionDays).includes(logRetentionDays))
    throw new Error(
      `ContactSync: logRetentionDays must be one CloudWatch Logs accepts (1, 3, 5, 7, 14, 30...)`,
    );
  return {
    ...props,
    stage,
    jwtIssuer: props.jwtIssuer,
    jwtAudience,
    graphApiUrl: props.graphApiUrl ?? `https://graph.facebook.com/${DEFAULTS.graphApiVersion}`,
    mapConcurrency: props.mapConcurrency ?? DEFAULTS.mapConcurrency,
    chunkSize: props.chunkSize ?? DEFAULTS.chunkSize,
    maxChunksPerSegment: props.maxChunksPerSegment ?? DEFAULTS.maxChunksPerSegment,
    analyzer: props.analyzer ?? DEFAULTS.analyzer,
    bedrockModelId: props.bedrockModelId ?? DEFAULTS.bedrockModelId,
    corsOrigins: props.corsOrigins ?? [DEFAULTS.corsOrigins],
    apiRateLimit: props.apiRateLimit ?? DEFAULTS.apiRateLimit,
    apiBurstLimit: props.apiBurstLimit ?? DEFAULTS.apiBurstLimit,
    logRetentionDays,
    retainData: props.retainData ?? DEFAULTS.retainData,
    webConsole: props.webConsole ?? DEFAULTS.webConsole,
    cancelChecks: props.cancelChecks ?? DEFAULTS.cancelChecks,
    issuerKeyDir: props.issuerKeyDir ?? issuerKeyDir(stage),
  };
}
