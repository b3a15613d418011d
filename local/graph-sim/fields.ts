/**
 * Parser for the Graph API `fields` parameter: comma lists, nested `{...}` selections and
 * modifiers such as `.limit(20)`, e.g.
 * `id,updated_time,participants,messages.limit(20){id,from,to{id},attachments{image_data{url}}}`.
 * Modifiers may come before or after the braces (`messages{id}.limit(5)`).
 */

export interface FieldSpec {
  name: string;
  /** `.limit(20)` → `{ limit: '20' }`. */
  modifiers: Record<string, string>;
  /** Nested selection; undefined when the field had no braces. */
  children?: FieldSpec[];
}

export class FieldSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'FieldSyntaxError';
  }
}

const NAME = /[A-Za-z0-9_]/;

/** Parses a `fields` value; throws FieldSyntaxError on malformed input. Duplicate names: the last wins. */
export function parseFields(input: string): FieldSpec[] {
  let pos = 0;

  const fail = (expected: string): never => {
    const found = pos < input.length ? `"${input[pos]}"` : 'end of string';
    throw new FieldSyntaxError(
      `Syntax error "Expected ${expected} instead of ${found}." at character ${pos}: ${input}`,
      pos,
    );
  };
  const skipSpaces = () => {
    while (pos < input.length && /\s/.test(input[pos] ?? '')) pos++;
  };
  const readName = (): string => {
    skipSpaces();
    const start = pos;
    while (pos < input.length && NAME.test(input[pos] ?? '')) pos++;
    if (pos === start) fail('field name');
    return input.slice(start, pos);
  };
  const readModifiers = (modifiers: Record<string, string>) => {
    skipSpaces();
    while (input[pos] === '.') {
      pos++;
      const name = readName();
      skipSpaces();
      if (input[pos] !== '(') fail('"("');
      pos++;
      const start = pos;
      while (pos < input.length && input[pos] !== ')') pos++;
      if (input[pos] !== ')') fail('")"');
      modifiers[name] = input.slice(start, pos).trim();
      pos++;
      skipSpaces();
    }
  };
  const readList = (nested: boolean): FieldSpec[] => {
    const byName = new Map<string, FieldSpec>();
    for (;;) {
      const name = readName();
      const spec: FieldSpec = { name, modifiers: {} };
      readModifiers(spec.modifiers);
      if (input[pos] === '{') {
        pos++;
        spec.children = readList(true);
        if (input[pos] !== '}') fail('"}"');
        pos++;
        readModifiers(spec.modifiers);
      }
      byName.delete(name);
      byName.set(name, spec);
      skipSpaces();
      if (input[pos] === ',') {
        pos++;
        continue;
      }
      if (nested ? input[pos] === '}' : pos >= input.length) return [...byName.values()];
      fail(nested ? '"," or "}"' : '"," or end of string');
    }
  };

  return readList(false);
}

/** Writes a selection back as a `fields` value (used to build `next` URLs of nested edges). */
export function serializeFields(specs: readonly FieldSpec[]): string {
  return specs
    .map((spec) => {
      const modifiers = Object.entries(spec.modifiers)
        .map(([name, value]) => `.${name}(${value})`)
        .join('');
      const children = spec.children ? `{${serializeFields(spec.children)}}` : '';
      return `${spec.name}${modifiers}${children}`;
    })
    .join(',');
}
