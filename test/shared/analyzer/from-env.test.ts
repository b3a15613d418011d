import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AnalysisFailedError, BedrockAnalyzer } from '#shared/analyzer/bedrock-analyzer.ts';
import { analyzerFromEnv } from '#shared/analyzer/from-env.ts';
import { LocalAnalyzer } from '#shared/analyzer/local-analyzer.ts';

const bedrockMock = mockClient(BedrockRuntimeClient);
const MESSAGES = [
  { fromCustomer: true, text: 'How much is the blue jacket?', createdAt: '2026-01-01T00:00:00Z' },
];

describe('analyzerFromEnv', () => {
  beforeEach(() => {
    bedrockMock.reset();
    vi.stubEnv('ANALYZER', undefined);
    vi.stubEnv('ANALYZER_LATENCY_MS', undefined);
    vi.stubEnv('ANALYZER_TIMEOUT_MS', undefined);
    vi.stubEnv('BEDROCK_MODEL_ID', undefined);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each([
    ['unset', undefined],
    ['local', 'local'],
  ])('returns the local analyzer when ANALYZER is %s', async (_case, value) => {
    vi.stubEnv('ANALYZER', value);

    const analyzer = analyzerFromEnv();

    expect(analyzer).toBeInstanceOf(LocalAnalyzer);
    await expect(analyzer.analyze(MESSAGES)).resolves.toMatchObject({ intent: 'purchase' });
    expect(bedrockMock).toReceiveCommandTimes(ConverseCommand, 0);
  });

  it('gives the local analyzer the simulated latency of ANALYZER_LATENCY_MS', async () => {
    vi.stubEnv('ANALYZER_LATENCY_MS', '60000');
    const reason = new Error('stop waiting');
    const controller = new AbortController();

    const analysis = analyzerFromEnv().analyze(MESSAGES, controller.signal);
    controller.abort(reason);

    // Without the latency the analysis would resolve before noticing the abort.
    await expect(analysis).rejects.toBe(reason);
  });

  it('returns the Bedrock analyzer for BEDROCK_MODEL_ID and ANALYZER_TIMEOUT_MS when ANALYZER=bedrock', async () => {
    vi.stubEnv('ANALYZER', 'bedrock');
    vi.stubEnv('BEDROCK_MODEL_ID', 'amazon.nova-lite-v1:0');
    vi.stubEnv('ANALYZER_TIMEOUT_MS', '25');
    bedrockMock.send.callsFake(
      (_command, options?: { abortSignal?: AbortSignal }) =>
        new Promise((_resolve, reject) => {
          options?.abortSignal?.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    );

    const analyzer = analyzerFromEnv();
    const error = await analyzer.analyze(MESSAGES).catch((e: unknown) => e);

    expect(analyzer).toBeInstanceOf(BedrockAnalyzer);
    expect(bedrockMock).toReceiveCommandWith(ConverseCommand, { modelId: 'amazon.nova-lite-v1:0' });
    expect(error).toBeInstanceOf(AnalysisFailedError);
    expect((error as Error).message).toBe('analysis timed out after 25 ms');
  });

  it('fails fast when ANALYZER=bedrock has no BEDROCK_MODEL_ID', () => {
    vi.stubEnv('ANALYZER', 'bedrock');

    expect(() => analyzerFromEnv()).toThrow('Missing required environment variable BEDROCK_MODEL_ID');
  });

  it('throws a clear error for an unknown ANALYZER', () => {
    vi.stubEnv('ANALYZER', 'openai');

    expect(() => analyzerFromEnv()).toThrow('Unknown ANALYZER "openai": expected "local" or "bedrock"');
  });
});
