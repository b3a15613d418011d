import { describe, expect, it } from 'vitest';
import {
  capacityUnits,
  conversationsPerExecution,
  costPer1000,
  median,
  PRICES,
  percentile,
} from '../../bench/stats.ts';

describe('percentile', () => {
  it.each([
    [50, 5],
    [99, 10],
    [100, 10],
    [0, 1],
    [10, 1],
    [11, 2],
  ])('takes the nearest rank for p%d of 1..10', (p, expected) => {
    expect(percentile([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], p)).toBe(expected);
  });

  it('is NaN without samples and refuses p outside 0..100', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(/0\.\.100/);
  });
});

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe('capacityUnits', () => {
  it('counts a single-item answer as the operation kind says', () => {
    expect(capacityUnits({ TableName: 't', CapacityUnits: 1 }, 'read')).toEqual({ read: 1, write: 0 });
    expect(capacityUnits({ TableName: 't', CapacityUnits: 2 }, 'write')).toEqual({ read: 0, write: 2 });
  });

  it('adds up a transaction answer across tables, using the split when there is one', () => {
    const consumed = [
      { TableName: 'contacts', CapacityUnits: 2, WriteCapacityUnits: 2 },
      { TableName: 'jobs', CapacityUnits: 4, ReadCapacityUnits: 1, WriteCapacityUnits: 3 },
    ];
    expect(capacityUnits(consumed, 'write')).toEqual({ read: 1, write: 5 });
    expect(capacityUnits(undefined, 'write')).toEqual({ read: 0, write: 0 });
  });
});

describe('costPer1000', () => {
  it('prices each service per 1,000 conversations and keeps Bedrock on its own line', () => {
    const cost = costPer1000({
      conversations: 2000,
      stateTransitions: 200,
      lambdaInvocations: 40,
      lambdaGbSeconds: 100,
      readUnits: 4000,
      writeUnits: 16_000,
      bedrockInputTokens: 1_000_000,
      bedrockOutputTokens: 100_000,
    });
    expect(cost.stepFunctionsUsd).toBeCloseTo(100 * PRICES.stepFunctionsPerTransition, 12);
    expect(cost.lambdaUsd).toBeCloseTo(50 * PRICES.lambdaArmPerGbSecond + 20 * PRICES.lambdaPerRequest, 12);
    expect(cost.dynamoDbUsd).toBeCloseTo(
      8000 * PRICES.dynamoPerWriteUnit + 2000 * PRICES.dynamoPerReadUnit,
      12,
    );
    expect(cost.totalUsd).toBeCloseTo(cost.stepFunctionsUsd + cost.lambdaUsd + cost.dynamoDbUsd, 12);
    expect(cost.bedrockUsd).toBeCloseTo(
      500_000 * PRICES.bedrockPerInputToken + 50_000 * PRICES.bedrockPerOutputToken,
      12,
    );
  });

  it('refuses a sync without conversations', () => {
    expect(() => costPer1000({ conversations: 0 } as never)).toThrow(/conversations/);
  });
});

describe('conversationsPerExecution', () => {
  it('fits whole chunks under the event limit', () => {
    expect(
      conversationsPerExecution({ eventLimit: 25_000, fixedEvents: 40, eventsPerChunk: 14, chunkSize: 50 }),
    ).toBe(Math.floor(24_960 / 14) * 50);
    expect(
      conversationsPerExecution({ eventLimit: 10, fixedEvents: 40, eventsPerChunk: 14, chunkSize: 50 }),
    ).toBe(0);
  });
});
