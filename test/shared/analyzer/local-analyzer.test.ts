import { describe, expect, it } from 'vitest';
import type { AnalyzerMessage } from '#shared/analyzer/analyzer.ts';
import { LocalAnalyzer } from '#shared/analyzer/local-analyzer.ts';
import { AiContext } from '#shared/schemas.ts';

const customer = (text: string, minute = 0): AnalyzerMessage => ({
  fromCustomer: true,
  text,
  createdAt: `2026-01-01T00:${String(minute).padStart(2, '0')}:00.000Z`,
});
const business = (text: string, minute = 0): AnalyzerMessage => ({
  ...customer(text, minute),
  fromCustomer: false,
});

const CONVERSATION = [
  customer('Hi, how much is the blue jacket? Thanks!', 1),
  business('It is 49 EUR, we ship tomorrow.', 2),
  customer('Great, I will order one.', 3),
];

describe('LocalAnalyzer', () => {
  it('gives the same analysis for the same messages, across calls and instances', async () => {
    const first = await new LocalAnalyzer().analyze(CONVERSATION);
    const again = await new LocalAnalyzer().analyze(structuredClone(CONVERSATION));
    const sameInstance = new LocalAnalyzer();

    expect(again).toEqual(first);
    expect(await sameInstance.analyze(CONVERSATION)).toEqual(first);
    expect(await sameInstance.analyze(CONVERSATION)).toEqual(first);
  });

  it('returns an aiContext that the zod schema accepts', async () => {
    const long = Array.from({ length: 40 }, (_, i) =>
      i % 2 ? business('Sure!', i) : customer(`${'a very long message '.repeat(30)}?`, i),
    );

    for (const messages of [CONVERSATION, long, [], [business('Hello, how can we help?')]]) {
      const result = await new LocalAnalyzer().analyze(messages);
      expect(AiContext.safeParse(result).success).toBe(true);
    }
  });

  it.each<[string, string, AiContext['intent']]>([
    ['a refund request', 'The parcel arrived damaged, I want a refund', 'complaint'],
    ['a table reservation', 'Can I book a table for 4 on Friday', 'booking'],
    ['a price question', 'What is the price of the red one', 'purchase'],
    ['a delivery problem', 'My delivery tracking is not working', 'support'],
    ['another question', 'Are you open on Sundays?', 'question'],
    ['small talk', 'Hello there', 'other'],
    ['a complaint that also asks the price', 'Terrible service. What was the price again?', 'complaint'],
  ])('finds the intent of %s', async (_case, text, intent) => {
    const result = await new LocalAnalyzer().analyze([customer(text)]);

    expect(result.intent).toBe(intent);
    expect(result.tags).toContain(intent);
  });

  it('reads only what the customer wrote', async () => {
    const result = await new LocalAnalyzer().analyze([
      customer('Hello there'),
      business('Do you want to book a table? Prices start at 20 EUR.'),
    ]);

    expect(result.intent).toBe('other');
  });

  it.each<[string, AiContext['sentiment']]>([
    ['Thanks, I love it, perfect!', 'positive'],
    ['This is terrible, I am angry and disappointed', 'negative'],
    ['I received the parcel', 'neutral'],
  ])('scores %j as %s', async (text, sentiment) => {
    expect((await new LocalAnalyzer().analyze([customer(text)])).sentiment).toBe(sentiment);
  });

  it('tags long conversations as engaged', async () => {
    const ten = Array.from({ length: 10 }, (_, i) => customer('ok', i));

    expect((await new LocalAnalyzer().analyze(ten)).tags).toContain('engaged');
    expect((await new LocalAnalyzer().analyze(ten.slice(0, 9))).tags).not.toContain('engaged');
  });

  it('rejects with the abort reason when the signal is already aborted', async () => {
    const controller = new AbortController();
    const reason = new Error('job cancelled');
    controller.abort(reason);

    await expect(new LocalAnalyzer().analyze(CONVERSATION, controller.signal)).rejects.toBe(reason);
  });

  it('rejects with the abort reason when the signal aborts during a simulated model call', async () => {
    const controller = new AbortController();
    const reason = new Error('job cancelled');
    // An hour-long call: only the abort can end it within the test timeout.
    const analysis = new LocalAnalyzer(3_600_000).analyze(CONVERSATION, controller.signal);
    controller.abort(reason);

    await expect(analysis).rejects.toBe(reason);
  });
});
