import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// docs/extending.md promises that its snippets are taken from code that tests run: check each one still
// appears in the file it names (lines elided with `// … ` comments are skipped).
const repo = join(import.meta.dirname, '..', '..', '..');
const doc = readFileSync(join(repo, 'docs', 'extending.md'), 'utf8');
const snippets = [...doc.matchAll(/<!-- from: (\S+) -->\n```ts\n([\s\S]*?)```/g)].map((m) => ({
  file: m[1] as string,
  code: m[2] as string,
}));

describe('docs/extending.md', () => {
  it('has snippets', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(8);
  });
  for (const [i, snippet] of snippets.entries()) {
    it(`snippet ${i + 1} matches ${snippet.file}`, () => {
      // Whitespace is ignored, so the formatter re-wrapping a line does not break the check; words must match.
      const squash = (text: string) => text.replace(/\s+/g, '').replace(/,([}\])])/g, '$1');
      const source = squash(readFileSync(join(repo, snippet.file), 'utf8'));
      const lines = snippet.code
        .split('\n')
        .filter((l) => l.trim() !== '' && !/^\s*\/\/ .*…$/.test(l) && l.trim() !== '}' && l.trim() !== '];');
      for (const line of lines)
        expect(source, `line not found in ${snippet.file}: ${line}`).toContain(
          squash(line).replace(/,$/, ''),
        );
    });
  }
});
