import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { migrateCommand, migrateConfig } from './migrate.js';

// The stubs `fsm migrate` prints are TypeScript a person pastes and runs: text from the config (function
// names, Python source, module names) must stay a name or a comment, never become code.

/** Every line a stub may have: its head, comment lines without a line break in them, the body, the end. */
const HEAD =
  /^ {2}([A-Za-z_$][\w$]*|"(?:[^"\\\r\n\u2028\u2029]|\\.)*"): \(data: Record<string, unknown>, context: FunctionContext\): [\w |{}:]+ => \{$/;
const COMMENT = /^ {4}\/\/[^\r\n\u2028\u2029]*$/;
const BODY = /^ {4}return (true|data);$/;

function checkStub(stub: string): string {
  const lines = stub.split('\n');
  const head = HEAD.exec(lines[0] ?? '');
  expect(head, lines[0]).not.toBeNull();
  const comments = lines.slice(1, -2);
  for (const line of comments) expect(line, JSON.stringify(line)).toMatch(COMMENT);
  expect(lines.at(-2)).toMatch(BODY);
  expect(lines.at(-1)).toBe('  },');
  const key = (head as RegExpExecArray)[1] as string;
  return key.startsWith('"') ? (JSON.parse(key) as string) : key;
}

const hostileCode = [
  'import os\r    globalThis.pwned = 1; //',
  'import os\u2028globalThis.pwned = 1; //',
  'import os\u2029globalThis.pwned = 1; //',
  'import os\n*/ globalThis.pwned = 1; /*',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template literal is the attack here.
  'import os\r\n`${globalThis.pwned = 1}`',
];

describe('fsm migrate stubs from hostile configs', () => {
  it('a functions: key stays a property name, Python source and module names stay comments', () => {
    const evilKey = 'x: (() => { globalThis.pwned = 1 })(),\n  y';
    const config = {
      name: 'hostile',
      functions: { [evilKey]: { type: 'inline', code: 'import os\nos.system("id")' } },
      networks: [
        {
          name: 'main',
          states: [
            {
              name: 'a',
              is_start: true,
              transforms: [
                ...hostileCode.map((code) => ({ type: 'inline', code })),
                { type: 'custom', module: 'pkg\u2028globalThis.pwned = 1; //', name: 'clean' },
                { type: 'custom', module: 'pkg\rglobalThis.pwned = 1; //', name: 'x\u2028y' },
              ],
              arcs: [{ target: 'b' }],
            },
            { name: 'b', is_end: true },
          ],
        },
      ],
    };
    const report = migrateConfig(config);
    const stubs = report.inline.flatMap((f) => (f.stub === undefined ? [] : [f.stub]));
    expect(stubs).toHaveLength(hostileCode.length + 3);
    const names = stubs.map(checkStub);
    // The functions: entry is registered under its own key, exactly.
    expect(names).toContain(evilKey);
  });
});

describe('fsm migrate --write', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fsm-migrate-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a config file's name cannot add lines to the written YAML", async () => {
    const file = join(dir, 'a\nname: pwned\nx.yaml');
    writeFileSync(
      file,
      '# orders\nname: orders\nstates:\n  - { name: a, is_start: true, arcs: [{ target: b }] }\n  - { name: b, is_end: true }\n',
    );
    const out = join(dir, 'out.yaml');
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await migrateCommand(file, { write: out })).toBe(0);
    } finally {
      write.mockRestore();
    }
    const written = readFileSync(out, 'utf8');
    expect((parse(written) as { name: string }).name).toBe('orders');
    expect(written.split('\n').filter((line) => line.startsWith('name:'))).toEqual(['name: orders']);
  });
});
