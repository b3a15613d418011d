import { afterAll, afterEach, beforeEach, vi } from 'vitest';

/**
 * What the handlers' Powertools Logger and Metrics (shared/observability.ts) write, for the tests
 * of logs and metrics. test/setup.ts silences both for the rest of the suite. A test file that
 * looks at them turns them on before any import loads that module (Logger and Metrics read the
 * variables once, and every invocation goes back to the initial log level):
 *   await vi.hoisted(async () => (await import('#test/shared/output.ts')).turnOutputOn());
 * then calls `captureOutput()` at its top level.
 */
export function turnOutputOn(extra: Record<string, string> = {}): void {
  Object.assign(process.env, {
    POWERTOOLS_LOG_LEVEL: 'DEBUG',
    POWERTOOLS_METRICS_DISABLED: 'false',
    ...extra,
  });
}
export interface EmfMetric {
  name: string;
  unit: string;
  /** One entry per value added in the invocation. */
  values: number[];
}

/**
 * Captures stdout and stderr (where Powertools writes, one JSON document a line) for every test of
 * the file.
 */
export function captureOutput() {
  let written: string[] = [];
  const tap = (chunk: unknown) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '');
    return true;
  };
  beforeEach(() => {
    written = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(tap);
    vi.spyOn(process.stderr, 'write').mockImplementation(tap);
  });
  afterEach(() => {
    vi.mocked(process.stdout.write).mockRestore();
    vi.mocked(process.stderr.write).mockRestore();
  });
  // As test/setup.ts has them, should another file run in this process.
  afterAll(() => {
    Object.assign(process.env, { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' });
  });

  const documents = () =>
    written
      .join('')
      .split('\n')
      .flatMap((line) => {
        try {
          const parsed: unknown = JSON.parse(line);
          return typeof parsed === 'object' && parsed !== null ? [parsed as Record<string, unknown>] : [];
        } catch {
          return [];
        }
      });

  return {
    /** Everything written, as text: to look for what must never be there. */
    text: () => written.join(''),
    /** The log lines (not the EMF documents). */
    logs: () => documents().filter((d) => !('_aws' in d)),
    /** Every metric of every EMF document, in the order written (ColdStart aside). */
    metrics: (): EmfMetric[] =>
      documents().flatMap((d) => {
        const aws = d._aws as
          | { CloudWatchMetrics: { Metrics: { Name: string; Unit: string }[] }[] }
          | undefined;
        return (aws?.CloudWatchMetrics[0]?.Metrics ?? [])
          .filter((m) => m.Name !== 'ColdStart')
          .map((m) => ({ name: m.Name, unit: m.Unit, values: [d[m.Name]].flat() as number[] }));
      }),
    /** The EMF documents themselves, to check their dimensions and metadata. */
    emf: () => documents().filter((d) => '_aws' in d),
  };
}

/** The total of metric `name` over everything captured (0 if it was never emitted). */
export function total(metrics: EmfMetric[], name: string): number {
  return metrics
    .filter((m) => m.name === name)
    .reduce((sum, m) => sum + m.values.reduce((a, b) => a + b, 0), 0);
}
