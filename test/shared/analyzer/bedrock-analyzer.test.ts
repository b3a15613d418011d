import {
  BedrockRuntimeClient,
  ConverseCommand,
  type ConverseCommandOutput,
  ModelNotReadyException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AnalyzerMessage } from '#shared/analyzer/analyzer.ts';
import {
  AnalysisFailedError,
  BedrockAnalyzer,
  MAX_TRANSCRIPT_CHARS,
  NO_TEXT_CONTEXT,
  SYSTEM_PROMPT,
} from '#shared/analyzer/bedrock-analyzer.ts';

const bedrockMock = mockClient(BedrockRuntimeClient);
const MODEL_ID = 'eu.anthropic.claude-haiku-4-5-20251001-v1:0';

const message = (fromCustomer: boolean, text: string, minute: number): AnalyzerMessage => ({
  fromCustomer,
  text,
  createdAt: `2026-01-01T00:${String(minute).padStart(2, '0')}:00+0000`,
});

// Graph returns the newest message first.
const CONVERSATION = [
  message(true, 'Great, I will order one.', 3),
  message(false, 'It is 49 EUR,\nwe ship tomorrow.', 2),
  message(true, '   ', 2),
  message(true, 'Hi, how much is the blue jacket?', 1),
];

const VALID = {
  summary: 'Customer asked the price of the blue jacket and will order one.',
  intent: 'purchase',
  sentiment: 'positive',
  leadScore: 85,
  tags: ['jacket', 'pricing'],
};

const answer = (text: string, stopReason = 'end_turn'): Partial<ConverseCommandOutput> => ({
  output: { message: { role: 'assistant', content: [{ text }] } },
  stopReason: stopReason as ConverseCommandOutput['stopReason'],
});
const throttled = () => new ThrottlingException({ message: 'Too many requests', $metadata: {} });

/** Like the SDK: the call only ends when the abort signal passed to `send` fires. */
const hangUntilAborted = () =>
  bedrockMock.send.callsFake((_command, options?: { abortSignal?: AbortSignal }) => {
    const abortSignal = options?.abortSignal;
    if (!abortSignal) return Promise.reject(new Error('send was called without an abortSignal'));
    return new Promise((_resolve, reject) => {
      abortSignal.addEventListener('abort', () => {
        const error = new Error('Request aborted');
        error.name = 'AbortError';
        reject(error);
      });
    });
  });

const analyzer = (options: Partial<ConstructorParameters<typeof BedrockAnalyzer>[0]> = {}) =>
  new BedrockAnalyzer({ modelId: MODEL_ID, ...options });

describe('BedrockAnalyzer', () => {
  beforeEach(() => {
    bedrockMock.reset();
  });

  it('sends the model id, temperature 0, the system prompt and the conversation oldest first', async () => {
    bedrockMock.on(ConverseCommand).resolves(answer(JSON.stringify(VALID)));

    const result = await analyzer({ maxTokens: 300 }).analyze(CONVERSATION);

    expect(result).toEqual(VALID);
    expect(bedrockMock).toReceiveCommandTimes(ConverseCommand, 1);
    expect(bedrockMock).toReceiveCommandWith(ConverseCommand, {
      modelId: MODEL_ID,
      system: [{ text: SYSTEM_PROMPT }],
      messages: [
        {
          role: 'user',
          content: [
            {
              text: [
                'Customer: Hi, how much is the blue jacket?',
                'Business: It is 49 EUR, we ship tomorrow.',
                'Customer: Great, I will order one.',
              ].join('\n'),
            },
          ],
        },
      ],
      inferenceConfig: { maxTokens: 300, temperature: 0 },
    });
  });

  it("orders by time, not by position, whatever the timestamps' offsets", async () => {
    bedrockMock.on(ConverseCommand).resolves(answer(JSON.stringify(VALID)));
    const messages = [
      { fromCustomer: false, text: 'second', createdAt: '2026-01-01T00:45:00+0000' },
      { fromCustomer: true, text: 'third', createdAt: '2026-01-01T01:00:00Z' },
      { fromCustomer: true, text: 'first', createdAt: '2026-01-01T01:30:00+0100' },
    ];

    await analyzer().analyze(messages);

    expect(bedrockMock).toReceiveCommandWith(ConverseCommand, {
      messages: [{ role: 'user', content: [{ text: 'Customer: first\nBusiness: second\nCustomer: third' }] }],
    });
  });

  it('asks for one JSON object with the aiContext keys and every enum value', () => {
    expect(SYSTEM_PROMPT).toMatch(/ONE JSON object/);
    for (const word of [
      'summary',
      'intent',
      'sentiment',
      'leadScore',
      'tags',
      ...['purchase', 'support', 'booking', 'complaint', 'question', 'other'],
      ...['positive', 'neutral', 'negative'],
    ]) {
      expect(SYSTEM_PROMPT).toContain(`"${word}"`);
    }
  });

  it('uses 400 max tokens by default', async () => {
    bedrockMock.on(ConverseCommand).resolves(answer(JSON.stringify(VALID)));

    await analyzer().analyze(CONVERSATION);

    expect(bedrockMock).toReceiveCommandWith(ConverseCommand, {
      inferenceConfig: { maxTokens: 400, temperature: 0 },
    });
  });

  it('keeps the most recent messages when the conversation is longer than the cap', async () => {
    bedrockMock.on(ConverseCommand).resolves(answer(JSON.stringify(VALID)));
    const long = Array.from({ length: 60 }, (_, i) =>
      message(i % 2 === 0, `message ${i} ${'x'.repeat(200)}`, i),
    );

    await analyzer().analyze(long.reverse());

    const sent =
      bedrockMock.commandCalls(ConverseCommand)[0]?.args[0].input.messages?.[0]?.content?.[0]?.text;
    expect(sent?.length).toBeLessThanOrEqual(MAX_TRANSCRIPT_CHARS);
    expect(sent).toMatch(/message 59 x+$/);
    expect(sent).not.toContain('message 0 ');
    expect(sent?.split('\n')[0]).toMatch(/^(Customer|Business): message \d+ x+$/);
  });

  it.each([
    ['a ```json fence', `\`\`\`json\n${JSON.stringify(VALID, null, 2)}\n\`\`\``, VALID.summary],
    [
      'prose with braces',
      `Here is the analysis {as asked}:\n${JSON.stringify(VALID)}\nHope it helps!`,
      VALID.summary,
    ],
    ['prose with an unclosed brace', `My take {roughly: ${JSON.stringify(VALID)}`, VALID.summary],
    [
      'nothing, with braces in its strings',
      JSON.stringify({ ...VALID, summary: 'Sizes {S} and "M}"' }),
      'Sizes {S} and "M}"',
    ],
  ])('parses an answer wrapped in %s', async (_case, text, summary) => {
    bedrockMock.on(ConverseCommand).resolves(answer(text));

    const result = await analyzer().analyze(CONVERSATION);

    expect(result).toEqual({ ...VALID, summary });
  });

  it('rounds the score, cuts the summary to 2000 characters and keeps 10 tags', async () => {
    const tags = Array.from({ length: 12 }, (_, i) => `tag${i}`);
    bedrockMock
      .on(ConverseCommand)
      .resolves(answer(JSON.stringify({ ...VALID, summary: 's'.repeat(2500), leadScore: 72.6, tags })));

    const result = await analyzer().analyze(CONVERSATION);

    expect(result).toEqual({ ...VALID, summary: 's'.repeat(2000), leadScore: 73, tags: tags.slice(0, 10) });
  });

  it.each<[string, Partial<ConverseCommandOutput>, RegExp]>([
    ['an unknown intent', answer(JSON.stringify({ ...VALID, intent: 'SECRET-INTENT' })), /intent/],
    ['a lead score of 150', answer(JSON.stringify({ ...VALID, leadScore: 150 })), /leadScore/],
    ['a missing key', answer(JSON.stringify({ ...VALID, sentiment: undefined })), /sentiment/],
    ['text that is not JSON', answer('SECRET-PROSE: the customer wants a jacket.'), /no JSON object/],
    ['a JSON object cut at max tokens', answer('{"summary": "SECRET-CUT', 'max_tokens'), /max_tokens/],
    ['no text at all', { output: { message: { role: 'assistant', content: [] } } }, /without text/],
  ])(
    'throws AnalysisFailedError for %s, without the answer in the message',
    async (_case, output, reason) => {
      bedrockMock.on(ConverseCommand).resolves(output);

      const error = await analyzer()
        .analyze(CONVERSATION)
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(AnalysisFailedError);
      expect((error as Error).message).toMatch(reason);
      expect((error as Error).message).not.toContain('SECRET');
    },
  );

  it('retries throttling with backoff and returns the result of the third attempt', async () => {
    bedrockMock
      .on(ConverseCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(new ServiceUnavailableException({ message: 'busy', $metadata: {} }))
      .resolves(answer(JSON.stringify(VALID)));

    const result = await analyzer().analyze(CONVERSATION);

    expect(result).toEqual(VALID);
    expect(bedrockMock).toReceiveCommandTimes(ConverseCommand, 3);
  });

  it('retries a model that is not ready yet', async () => {
    bedrockMock
      .on(ConverseCommand)
      .rejectsOnce(new ModelNotReadyException({ message: 'warming up', $metadata: {} }))
      .resolves(answer(JSON.stringify(VALID)));

    await expect(analyzer().analyze(CONVERSATION)).resolves.toEqual(VALID);
    expect(bedrockMock).toReceiveCommandTimes(ConverseCommand, 2);
  });

  it('gives up with AnalysisFailedError after 3 throttled attempts', async () => {
    bedrockMock.on(ConverseCommand).rejects(throttled());

    const error = await analyzer()
      .analyze(CONVERSATION)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AnalysisFailedError);
    expect((error as Error).message).toBe('Bedrock call failed: ThrottlingException');
    expect(bedrockMock).toReceiveCommandTimes(ConverseCommand, 3);
  });

  it('does not retry other errors, and keeps only their name', async () => {
    bedrockMock
      .on(ConverseCommand)
      .rejects(new ValidationException({ message: 'SECRET-INPUT is invalid', $metadata: {} }));

    const error = await analyzer()
      .analyze(CONVERSATION)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AnalysisFailedError);
    expect((error as Error).message).toBe('Bedrock call failed: ValidationException');
    expect(bedrockMock).toReceiveCommandTimes(ConverseCommand, 1);
  });

  it('rejects with the reason of an already aborted signal and sends nothing', async () => {
    bedrockMock.on(ConverseCommand).resolves(answer(JSON.stringify(VALID)));
    const reason = new Error('job cancelled');

    await expect(analyzer().analyze(CONVERSATION, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(bedrockMock).toReceiveCommandTimes(ConverseCommand, 0);
  });

  it('rejects with the signal reason when it aborts while Bedrock is answering', async () => {
    hangUntilAborted();
    const controller = new AbortController();
    const reason = new Error('job cancelled');

    const analysis = analyzer().analyze(CONVERSATION, controller.signal);
    await vi.waitFor(() => expect(bedrockMock).toReceiveCommandTimes(ConverseCommand, 1));
    controller.abort(reason);

    await expect(analysis).rejects.toBe(reason);
  });

  it('rejects with the signal reason when it aborts during a throttling backoff', async () => {
    // The longest backoff (200 ms), so the abort below lands while the analyzer waits.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.999);
    const controller = new AbortController();
    const reason = new Error('job cancelled');
    bedrockMock.on(ConverseCommand).callsFake(() => {
      setTimeout(() => controller.abort(reason), 0);
      throw throttled();
    });

    await expect(analyzer().analyze(CONVERSATION, controller.signal)).rejects.toBe(reason);
    expect(bedrockMock).toReceiveCommandTimes(ConverseCommand, 1);
    random.mockRestore();
  });

  it('throws AnalysisFailedError when Bedrock does not answer within the timeout', async () => {
    hangUntilAborted();

    const error = await analyzer({ timeoutMs: 30 })
      .analyze(CONVERSATION, new AbortController().signal)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AnalysisFailedError);
    expect((error as Error).message).toBe('analysis timed out after 30 ms');
  });

  it.each([
    ['no messages', []],
    ['only empty texts', [message(true, '', 1), message(false, ' \n ', 2)]],
  ])('returns the no-text context without calling Bedrock for %s', async (_case, messages) => {
    bedrockMock.on(ConverseCommand).resolves(answer(JSON.stringify(VALID)));

    const result = await analyzer().analyze(messages);

    expect(result).toEqual(NO_TEXT_CONTEXT);
    expect(result.intent).toBe('other');
    expect(bedrockMock).toReceiveCommandTimes(ConverseCommand, 0);
  });
});
