/**
 * Resolves the CloudFormation intrinsics of the synthesized template to local values, so the
 * embedded stack runs exactly what CDK would deploy: the same state machine definition, routes,
 * table schemas and function environments, with ARNs pointing at local services.
 */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown }>;
}

export const localArn = {
  lambda: (logicalId: string) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`,
  stateMachine: (name: string) => `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`,
  table: (name: string) => `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${name}`,
  kmsKey: (logicalId: string) => `arn:aws:kms:${LOCAL_REGION}:${LOCAL_ACCOUNT}:key/${logicalId}`,
  eventBus: (name: string) => `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:event-bus/${name}`,
  role: (name: string) => `arn:aws:iam::${LOCAL_ACCOUNT}:role/${name}`,
  bucket: (name: string) => `arn:aws:s3:::${name}`,
};

/** The name property CloudFormation gives a resource of these types (else it makes one up). */
const NAME_PROPERTY: Record<string, string> = {
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
  'AWS::Events::EventBus': 'Name',
  'AWS::IAM::Role': 'RoleName',
};

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': LOCAL_REGION,
  'AWS::AccountId': LOCAL_ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'ContactSyncLocal',
  'AWS::NoValue': '',
};

export class TemplateResolver {
  constructor(readonly template: CfnTemplate) {}

  /**
   * What `Ref` of a resource means locally: state machines give their ARN, the rest their name
   * (the template's, as for the event bus and named roles and state machines, or the logical id).
   */
  ref(logicalId: string): string {
    if (logicalId in PSEUDO) return PSEUDO[logicalId] as string;
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`Ref to unknown resource ${logicalId}`);
    if (resource.Type === 'AWS::StepFunctions::StateMachine')
      return localArn.stateMachine(this.physicalName(logicalId));
    return this.physicalName(logicalId);
  }

  /** The resource's name: its name property when the template sets one, else its logical id. */
  physicalName(logicalId: string): string {
    const resource = this.template.Resources[logicalId];
    const property = resource && NAME_PROPERTY[resource.Type];
    const name = property ? resource.Properties?.[property] : undefined;
    if (name !== undefined) return String(this.resolve(name));
    // CloudFormation makes bucket names lower case (S3 allows nothing else).
    return resource?.Type === 'AWS::S3::Bucket' ? logicalId.toLowerCase() : logicalId;
  }

  getAtt(logicalId: string, attribute: string): string {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`GetAtt on unknown resource ${logicalId}`);
    if (attribute === 'Arn') {
      if (resource.Type === 'AWS::Lambda::Function') return localArn.lambda(logicalId);
      if (resource.Type === 'AWS::DynamoDB::Table') return localArn.table(this.ref(logicalId));
      if (resource.Type === 'AWS::StepFunctions::StateMachine') return this.ref(logicalId);
      if (resource.Type === 'AWS::KMS::Key') return localArn.kmsKey(logicalId);
      if (resource.Type === 'AWS::Events::EventBus') return localArn.eventBus(this.ref(logicalId));
      if (resource.Type === 'AWS::IAM::Role') return localArn.role(this.ref(logicalId));
      if (resource.Type === 'AWS::S3::Bucket') return localArn.bucket(this.ref(logicalId));
    }
    if (attribute === 'Name') return this.physicalName(logicalId);
    return `${logicalId}.${attribute}`;
  }

  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    if (entries.length === 1) {
      const [fn, arg] = entries[0] as [string, unknown];
      if (fn === 'Ref') return this.ref(arg as string);
      if (fn === 'Fn::GetAtt') {
        const [id, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
        return this.getAtt(id as string, attr as string);
      }
      if (fn === 'Fn::Join') {
        const [sep, parts] = arg as [string, unknown[]];
        return parts.map((p) => String(this.resolve(p))).join(sep);
      }
      if (fn === 'Fn::Select') {
        const [index, list] = arg as [number, unknown];
        return (this.resolve(list) as unknown[])[Number(index)];
      }
      if (fn === 'Fn::Split') {
        const [sep, source] = arg as [string, unknown];
        return String(this.resolve(source)).split(sep);
      }
      if (fn === 'Fn::Sub') {
        const [text, vars] = (Array.isArray(arg) ? arg : [arg, {}]) as [string, Record<string, unknown>];
        return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
          if (name in vars) return String(this.resolve(vars[name]));
          const [id, attr] = name.split('.');
          return attr ? this.getAtt(id as string, attr) : this.ref(name);
        });
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v)]));
  }

  resourcesOfType(type: string): [string, CfnResource][] {
    return Object.entries(this.template.Resources).filter(([, r]) => r.Type === type);
  }

  /** Logical id of the function behind a local Lambda ARN (or a bare logical id). */
  functionIdFromArn(arn: string): string {
    return arn.split(':').at(-1) as string;
  }
}
