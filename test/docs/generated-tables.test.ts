import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { missingLinks, ROOT, renderDocs } from '../../bench/render-docs.ts';

/**
 * The docs' figures are rendered from the results files (bench/render-docs.ts). A number edited
 * by hand in a generated region, or new results committed without rendering the docs again, fails
 * here: run `npx tsx bench/render-docs.ts` and commit the docs with the results.
 */
describe('docs', () => {
  it('every generated region equals its rendering from the results files', () => {
    for (const [file, rendered] of renderDocs(ROOT)) {
      expect(readFileSync(path.join(ROOT, file), 'utf8'), `${file}: run npx tsx bench/render-docs.ts`).toBe(
        rendered,
      );
    }
  });

  it('README.md is at most 15,000 bytes', () => {
    expect(statSync(path.join(ROOT, 'README.md')).size).toBeLessThanOrEqual(15_000);
  });

  it('README.md and docs/*.md link only to files that exist', () => {
    const docs = readdirSync(path.join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`);
    for (const file of ['README.md', ...docs]) expect(missingLinks(ROOT, file), file).toEqual([]);
  });
});
