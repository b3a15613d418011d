import { describe, expect, it } from 'vitest';
import { isAllowed, type PolicyStatement } from '../../../local/iam/policy-evaluation.ts';
import { allow, request } from './function-roles.ts';

const ARN = 'arn:aws:dynamodb:us-east-1:000000000000';

describe('policy matching', () => {
  it.each([
    ['dynamodb:*', `${ARN}:table/Jobs`, 'dynamodb:PutItem', `${ARN}:table/Jobs`, true],
    ['xray:Put*', '*', 'xray:PutTraceSegments', 'arn:aws:xray:us-east-1:000000000000:anything', true],
    ['xray:Put*', '*', 'xray:GetSamplingRules', '*', false],
    ['DynamoDB:getitem', `${ARN}:table/Jobs`, 'dynamodb:GetItem', `${ARN}:table/Jobs`, true],
    ['dynamodb:Query', `${ARN}:table/Jobs/index/*`, 'dynamodb:Query', `${ARN}:table/Jobs/index/byPage`, true],
    ['dynamodb:Query', `${ARN}:table/Jobs`, 'dynamodb:Query', `${ARN}:table/Jobs/index/byPage`, false],
    ['dynamodb:Query', `${ARN}:table/Jobs/index/*`, 'dynamodb:Query', `${ARN}:table/Jobs`, false],
    ['dynamodb:GetItem', `${ARN}:table/Jobs`, 'dynamodb:GetItem', `${ARN}:table/JobsArchive`, false],
    [
      'states:StopExecution',
      'arn:aws:states:us-east-1:000000000000:execution:Sync:*',
      'states:StopExecution',
      'arn:aws:states:us-east-1:000000000000:execution:Sync:job-1',
      true,
    ],
    [
      'states:StopExecution',
      'arn:aws:states:us-east-1:000000000000:execution:Sync:*',
      'states:StopExecution',
      'arn:aws:states:us-east-1:000000000000:execution:Other:job-1',
      false,
    ],
    [
      'lambda:InvokeFunction',
      'arn:aws:lambda:*:*:function:Worker?',
      'lambda:InvokeFunction',
      'arn:aws:lambda:us-east-1:1:function:Worker2',
      true,
    ],
  ])('%s on %s: %s on %s is allowed = %s', (action, resource, wanted, on, expected) => {
    expect(isAllowed([allow(action, resource)], request(wanted, on))).toBe(expected);
  });

  it('allows nothing without a statement, and an explicit Deny wins over an Allow', () => {
    const get = request('dynamodb:GetItem', `${ARN}:table/Jobs`);
    expect(isAllowed([], get)).toBe(false);
    const deny: PolicyStatement = { Effect: 'Deny', Action: 'dynamodb:Get*', Resource: '*' };
    expect(isAllowed([allow('dynamodb:*', '*'), deny], get)).toBe(false);
    expect(
      isAllowed([allow('dynamodb:*', '*'), deny], request('dynamodb:PutItem', `${ARN}:table/Jobs`)),
    ).toBe(true);
  });

  it('reads NotAction and NotResource as everything but', () => {
    const statement: PolicyStatement = {
      Effect: 'Allow',
      NotAction: 'dynamodb:Delete*',
      NotResource: `${ARN}:table/Secret`,
    };
    expect(isAllowed([statement], request('dynamodb:GetItem', `${ARN}:table/Jobs`))).toBe(true);
    expect(isAllowed([statement], request('dynamodb:DeleteItem', `${ARN}:table/Jobs`))).toBe(false);
    expect(isAllowed([statement], request('dynamodb:GetItem', `${ARN}:table/Secret`))).toBe(false);
  });

  it('evaluates a region condition, and applies a statement whose condition it cannot evaluate', () => {
    const inRegion = (region: string): PolicyStatement => ({
      ...allow('dynamodb:GetItem', '*'),
      Condition: { StringEquals: { 'aws:RequestedRegion': region } },
    });
    const get = request('dynamodb:GetItem', `${ARN}:table/Jobs`);
    expect(isAllowed([inRegion('us-east-1')], get)).toBe(true);
    expect(isAllowed([inRegion('eu-west-1')], get)).toBe(false);
    const leadingKeys = {
      ...allow('dynamodb:GetItem', '*'),
      Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['x'] } },
    };
    expect(isAllowed([leadingKeys], get)).toBe(true);
  });
});
