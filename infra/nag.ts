import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Accepts cdk-nag findings (AwsSolutions pack, run by `cdk synth` and test/infra/nag.test.ts) on
 * `scope` and everything under it, each for a written reason. Call it where the finding arises,
 * so the reason sits next to the code it excuses.
 */
export function acknowledge(scope: IConstruct, reason: string, ...ruleIds: string[]): void {
  for (const id of ruleIds) Validations.of(scope).acknowledge({ id, reason });
}

/** The id cdk-nag gives a wildcard-resource finding of AwsSolutions-IAM5. */
export const wildcardResource = (resource: string) => `AwsSolutions-IAM5[Resource::${resource}]`;
