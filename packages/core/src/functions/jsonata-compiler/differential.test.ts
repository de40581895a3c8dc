import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type AstNode, type CompiledJsonata, compileJsonataAst, type JsonataBindings } from './compile.js';

const REPO = join(import.meta.dirname, '../../../../..');

// ---------------------------------------------------------------------------------------------
// Collector: every `type: expression` JSONata code string in the repository's configs, docs and tests.

type Found = { code: string; file: string };

function walkFiles(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walkFiles(path, out);
    else if (/\.(ya?ml|json|md|ts)$/.test(entry.name)) out.push(path);
  }
}

/** Expression refs in a parsed YAML/JSON value (JSONata is the default language). */
function fromValue(value: unknown, file: string, out: Found[], depth = 0): void {
  if (depth > 64 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) fromValue(item, file, out, depth + 1);
    return;
  }
  const ref = value as Record<string, unknown>;
  if (
    ref.type === 'expression' &&
    typeof ref.code === 'string' &&
    (ref.language ?? 'jsonata') === 'jsonata'
  ) {
    out.push({ code: ref.code, file });
  }
  for (const key of Object.keys(ref)) fromValue(ref[key], file, out, depth + 1);
}

function fromYaml(text: string, file: string, out: Found[]): void {
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length === 0) fromValue(doc.toJS({ maxAliasCount: 100 }), file, out);
  }
}

function unescapeJs(body: string): string {
  return body.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|.)/g, (_m, c: string) => {
    if (c.startsWith('u')) return String.fromCodePoint(Number.parseInt(c.replace(/[u{}]/g, ''), 16));
    return c === 'n' ? '\n' : c === 't' ? '\t' : c;
  });
}

/** TS sources: `type: 'expression'` objects with a quoted `code:` nearby, and YAML in template strings. */
function fromTs(text: string, file: string, out: Found[]): void {
  const marker = /type:\s*(['"])expression\1/g;
  for (let m = marker.exec(text); m !== null; m = marker.exec(text)) {
    const window = text.slice(Math.max(0, m.index - 300), m.index + 300);
    if (/language:\s*['"]cel['"]/.test(window)) continue;
    const code =
      /code:\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/s.exec(text.slice(m.index, m.index + 300)) ??
      /code:\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/s.exec(text.slice(Math.max(0, m.index - 300), m.index));
    if (code?.[2] !== undefined && !(code[1] === '`' && code[2].includes('${'))) {
      out.push({ code: unescapeJs(code[2]), file });
    }
  }
  for (const block of text.matchAll(/`([^`]*type:\s*expression[^`]*)`/g)) {
    if (!block[1]?.includes('${')) fromYaml(block[1] ?? '', file, out);
  }
}

function collectExpressions(): Found[] {
  const files: string[] = [];
  for (const dir of ['examples', 'apps', 'docs', 'packages', 'bench']) walkFiles(join(REPO, dir), files);
  const out: Found[] = [];
  for (const path of files) {
    const text = readFileSync(path, 'utf8');
    if (!text.includes('expression')) continue;
    const file = relative(REPO, path);
    try {
      if (path.endsWith('.json')) fromValue(JSON.parse(text), file, out);
      else if (/\.ya?ml$/.test(path)) fromYaml(text, file, out);
      else if (path.endsWith('.md')) {
        for (const block of text.matchAll(/```(?:ya?ml|json)\n([\s\S]*?)```/g))
          fromYaml(block[1] ?? '', file, out);
      } else fromTs(text, file, out);
    } catch (error) {
      // A file that is not valid YAML/JSON (fixtures of error tests) has no expressions to check.
      if (!(error instanceof SyntaxError || (error as { name?: string }).name === 'YAMLParseError'))
        throw error;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Comparison: what users see, including arrays' sequence flags, undefined, -0 and errors.

function view(value: unknown, depth = 0): unknown {
  if (depth > 50) return '<deep>';
  if (Array.isArray(value)) {
    return {
      array: value.map((item) => view(item, depth + 1)),
      flags: Object.keys(value).filter((k) => !/^\d+$/.test(k)),
    };
  }
  if (value !== null && typeof value === 'object') {
    const plain: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      Object.defineProperty(plain, key, {
        value: view((value as Record<string, unknown>)[key], depth + 1),
        enumerable: true,
      });
    }
    return plain;
  }
  return value;
}

type Outcome = { value: unknown } | { error: { code: unknown; message: unknown } };

const errorOf = (error: unknown) => ({
  code: (error as { code?: unknown }).code,
  message: (error as { message?: unknown }).message,
});

async function interpreted(code: string, data: unknown, bindings: JsonataBindings): Promise<Outcome> {
  try {
    return { value: view(await jsonata(code).evaluate(data, bindings as Record<string, unknown>)) };
  } catch (error) {
    return { error: errorOf(error) };
  }
}

function compiledOutcome(fn: CompiledJsonata, data: unknown, bindings: JsonataBindings): Outcome {
  try {
    return { value: view(fn(data, bindings)) };
  } catch (error) {
    return { error: errorOf(error) };
  }
}

function compile(code: string): CompiledJsonata | { declined: string } {
  return compileJsonataAst(jsonata(code).ast() as AstNode);
}

const BINDINGS: JsonataBindings = {
  params: { limit: 3, rate: 0.2, name: 'p', list: [1, 2] },
  state: 'route',
  context: { state: 'route', network: 'main', executionId: 'e-1', variables: { seen: 2 } },
};

const SAMPLE_RECORDS: unknown[] = [
  { order_id: 'A-0001', customer: 'c1', amount: 12.345, region: 'EU', tax: 2.47, total: 1500.5 },
  { order_id: 'B-0002', customer: 'c2', amount: 100, region: 'US', tax: 7, total: 107 },
  { order_id: 'C-0003', customer: 'c3', amount: 0.125, region: 'APAC' },
  { amount: '12', region: 5, total: null, status: 'active', score: 0.5, n: 3 },
  {
    items: [
      { price: 1.5, qty: 2 },
      { price: 2.5, qty: 1 },
    ],
    tags: ['a', 'b'],
    nested: { a: { b: 1 } },
  },
  { items: [{ price: 1 }], tags: [], name: 'Zoë', email: 'Z@X.ORG ', value: -2.5 },
  {},
  [{ a: 1 }, { a: 2 }],
  'text',
  42,
];

// The README's ETL (apps/etl-demo/etl.yaml): these must compile, not fall back.
const ETL_EXPRESSIONS = [
  '$merge([$, { "amount": $round(amount, 2) }])',
  'total > 1000',
  'region = "US"',
  '$merge([$, { "channel": "review" }])',
  '$merge([$, { "tax": $round(amount * (region = "EU" ? 0.2 : region = "APAC" ? 0.1 : 0.07), 2) }])',
  '$merge([$, { "total": $round(amount + tax, 2) }])',
];

// Constructs configs use, edge cases of sequences, type rules and rounding; some must fall back.
const HAND_LIST = [
  ...ETL_EXPRESSIONS,
  '$',
  '$$',
  '$.amount',
  '$$.amount',
  'nested.a.b',
  'items.price',
  'items.price * 2',
  'items[0]',
  'tags',
  'items.qty',
  '$sum(items.price)',
  '$count(items)',
  '$max(items.price)',
  '$min(tags)',
  '$sum(amount)',
  '$count(nope)',
  '$round(amount)',
  '$round(0.125, 2)',
  '$round(2.5)',
  '$round(-0.5)',
  '$round(amount, -1)',
  '$string(amount)',
  '$string()',
  '$string(items)',
  '$number("12")',
  '$number(amount)',
  '$number("x")',
  '$exists(amount)',
  '$exists(nope)',
  '$lowercase(region)',
  '$uppercase(name)',
  '$substring(order_id, 2)',
  '$substring(order_id, -2, 1)',
  '$contains(order_id, "A")',
  '$contains(email, "@")',
  '$lookup($, "region")',
  '$lookup(items, "price")',
  '$boolean(tags)',
  '$not(amount)',
  '$length(name)',
  '$trim(email)',
  '$merge([$, {"total": amount * 2}])',
  '$merge([{"a": 1}, {"a": 2}])',
  'amount > $params.limit',
  '$params.rate * amount',
  '$state',
  '$context.state',
  '$context.variables.seen + 1',
  '"id-" & order_id',
  'amount & region',
  'items & ""',
  'region in ["EU", "US"]',
  'region in "EU"',
  '-amount',
  '-region',
  'amount > "1"',
  'amount + region',
  'nope + 1',
  'amount = 12.345 and region = "EU"',
  'amount or nope',
  'tags and items',
  'total > 1000 ? "high" : total > 100 ? "mid" : "low"',
  'nope ? 1',
  '{"a": amount, "b": [region, tax]}',
  '{region: amount}',
  '{"k": nope}',
  '[amount, [tax], items.price]',
  '[]',
  '{}',
  '(amount; region)',
  'amount % 3',
  'amount / 0',
  'status = "active" and score >= 0.5',
  '$now()',
  'items.q.r',
  '$.items.price',
  '$$.items.price',
  '{"k": a, "j": $}',
  '$string($)',
  '$merge($)',
  '$merge([$, items])',
  '$round(amount, nope)',
  '$substring(region)',
];

// Constructs the compiler leaves to the interpreter (the whole expression).
const DECLINED = [
  'items[price > 1].qty',
  '$map(tags, function($t) { $uppercase($t) })',
  '$x := 1',
  'items.{"p": price}',
  '$contains(order_id, /A/)',
  '$contains(order_id)',
  'items.price[]',
  '$context',
  '$context.logger',
  '$context.signal.aborted',
  '$unknownFunction(1)',
  '$round',
  '[1..3]',
  'items^(price)',
  '**.price',
  'items.*',
  '$now("[Y]")',
  'amount ~> $round(1)',
  '$params(1)',
];

/**
 * `sameError: 'code'` compares error codes and messages; 'thrown' only that both threw: when several
 * items of an array or object constructor fail, the interpreter reports whichever of its parallel
 * async evaluations fails first, an order of its scheduling that the compiler does not model.
 */
async function differ(
  code: string,
  records: readonly unknown[],
  sameError: 'code' | 'thrown' = 'code',
): Promise<string[]> {
  const compiled = compile(code);
  if (typeof compiled !== 'function') return [];
  const problems: string[] = [];
  for (const record of records) {
    let expected = await interpreted(code, record, BINDINGS);
    let actual = compiledOutcome(compiled, record, BINDINGS);
    if (sameError === 'thrown' && 'error' in expected && 'error' in actual)
      expected = actual = { value: 'threw' };
    try {
      expect(actual).toStrictEqual(expected);
    } catch {
      problems.push(
        `${code} on ${JSON.stringify(record)}: ${JSON.stringify(actual)} ≠ ${JSON.stringify(expected)}`,
      );
    }
  }
  return problems;
}

describe('JSONata compiler ≡ interpreter', () => {
  it('compiles every expression of the README ETL', () => {
    for (const code of ETL_EXPRESSIONS) expect(typeof compile(code), code).toBe('function');
  });

  it('declines what it does not cover instead of guessing', () => {
    for (const code of DECLINED) expect(typeof compile(code), code).toBe('object');
  });

  it('every expression found in examples/, apps/, docs/ and the tests gives the interpreter’s result', async () => {
    const found = collectExpressions();
    expect(found.some((f) => f.file.startsWith('apps/etl-demo/'))).toBe(true);
    expect(found.some((f) => f.file.startsWith('examples/'))).toBe(true);
    const codes = new Set<string>();
    for (const { code } of found) {
      try {
        jsonata(code);
        codes.add(code);
      } catch {
        // Deliberate syntax errors in tests are the loader's business, not the compiler's.
      }
    }
    expect(codes.size).toBeGreaterThan(10);
    const problems: string[] = [];
    let compiledCount = 0;
    for (const code of codes) {
      if (typeof compile(code) === 'function') compiledCount++;
      problems.push(...(await differ(code, SAMPLE_RECORDS)));
    }
    expect(problems).toEqual([]);
    // Most config expressions are plain enough to compile.
    expect(compiledCount / codes.size).toBeGreaterThan(0.7);
  });

  it('the hand list gives the interpreter’s results (values, undefined and errors)', async () => {
    const problems: string[] = [];
    for (const code of [...HAND_LIST, ...DECLINED]) {
      if (code === '$now()') continue;
      problems.push(...(await differ(code, SAMPLE_RECORDS)));
    }
    expect(problems).toEqual([]);
  });

  it('$round gives the interpreter’s result for any number and precision (half to even, no -0)', async () => {
    const fn = compile('$round(x, p)') as CompiledJsonata;
    const one = compile('$round(x)') as CompiledJsonata;
    const precision = fc.integer({ min: -3, max: 17 });
    const halfway = fc
      .tuple(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.integer({ min: 0, max: 6 }))
      .map(([k, p]) => (k + 0.5) / 10 ** p);
    const number = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      halfway,
      fc.integer().map((i) => i / 1000),
    );
    await fc.assert(
      fc.asyncProperty(number, precision, async (x, p) => {
        const data = { x, p };
        expect(compiledOutcome(fn, data, BINDINGS)).toStrictEqual(
          await interpreted('$round(x, p)', data, BINDINGS),
        );
        expect(compiledOutcome(one, data, BINDINGS)).toStrictEqual(
          await interpreted('$round(x)', data, BINDINGS),
        );
      }),
      { numRuns: 3000 },
    );
  });

  it('$now() is the evaluation time as ISO text, the same for every call in one evaluation', () => {
    const fn = compile('[$now(), $now()]') as CompiledJsonata;
    const before = Date.now();
    const [a, b] = fn({}, BINDINGS) as [string, string];
    expect(a).toBe(b);
    expect(Date.parse(a)).toBeGreaterThanOrEqual(before);
    expect(a).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('generated expressions over generated records give the interpreter’s results', async () => {
    const field = fc.constantFrom('a', 'b', 'n', 's', 'o', 'items', 'o.x', 'items.p', 'items.q.r', 'nope');
    const scalar = fc.oneof(
      fc.integer({ min: -20, max: 20 }),
      fc.constantFrom(0.5, 1.5, 2.5, -0.5, 0.125, 1e21, -0, 3.25),
      fc.constantFrom('', 'x', 'Ab ', '10', 'ü'),
      fc.boolean(),
      fc.constant(null),
    );
    const value = fc.oneof(
      { weight: 4, arbitrary: scalar },
      fc.array(scalar, { maxLength: 3 }),
      fc.array(fc.record({ p: scalar, q: fc.record({ r: scalar }) }, { requiredKeys: [] }), { maxLength: 3 }),
      fc.record({ x: scalar }, { requiredKeys: [] }),
    );
    const record = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record(
          { a: value, b: value, n: value, s: value, o: value, items: value },
          { requiredKeys: [] },
        ),
      },
      fc.array(fc.record({ a: scalar, p: scalar }), { maxLength: 3 }),
    );
    const literal = fc.oneof(
      fc.integer({ min: -5, max: 100 }).map(String),
      fc.constantFrom('2.5', '0.125', '"x"', '""', '"10"', 'true', 'false', 'null', '1e3'),
    );
    const functions = [
      ['round', 2],
      ['round', 1],
      ['string', 1],
      ['number', 1],
      ['exists', 1],
      ['lowercase', 1],
      ['uppercase', 1],
      ['substring', 2],
      ['substring', 3],
      ['sum', 1],
      ['count', 1],
      ['max', 1],
      ['min', 1],
      ['boolean', 1],
      ['not', 1],
      ['length', 1],
      ['trim', 1],
      ['merge', 1],
      ['lookup', 2],
      ['string', 0],
    ] as const;
    const grammar = (constructors: boolean) =>
      fc.letrec<{ expr: string }>((tie) => ({
        expr: fc.oneof(
          { depthSize: 'small', withCrossShrink: true },
          field,
          literal,
          fc.constantFrom('$', '$$', '$$.a', '$params.limit', '$state', '$context.state'),
          fc
            .tuple(
              tie('expr'),
              fc.constantFrom(
                '+',
                '-',
                '*',
                '/',
                '%',
                '=',
                '!=',
                '<',
                '<=',
                '>',
                '>=',
                'and',
                'or',
                '&',
                'in',
              ),
              tie('expr'),
            )
            .map(([l, op, r]) => `(${l} ${op} ${r})`),
          tie('expr').map((e) => `-(${e})`),
          fc.tuple(tie('expr'), tie('expr'), tie('expr')).map(([c, t, e]) => `(${c} ? ${t} : ${e})`),
          fc.array(tie('expr'), { maxLength: constructors ? 3 : 1 }).map((items) => `[${items.join(', ')}]`),
          fc
            .array(fc.tuple(fc.constantFrom('"k"', '"a"', 's', '"n"'), tie('expr')), {
              maxLength: constructors ? 2 : 1,
            })
            .map((pairs) => `{${pairs.map(([k, v]) => `${k}: ${v}`).join(', ')}}`),
          fc
            .tuple(fc.constantFrom(...functions), fc.array(tie('expr'), { minLength: 3, maxLength: 3 }))
            .map(([[name, arity], args]) =>
              name === 'merge'
                ? `$merge([${args.slice(0, constructors ? 2 : 1).join(', ')}])`
                : `$${name}(${args.slice(0, arity).join(', ')})`,
            ),
          tie('expr').map((e) => `$contains($string(${e}), "1")`),
        ),
      })).expr;
    // With constructors of several items, any error must be an error on both sides...
    await fc.assert(
      fc.asyncProperty(
        grammar(true),
        fc.array(record, { minLength: 1, maxLength: 3 }),
        async (code, records) => {
          expect(typeof compile(code)).toBe('function');
          expect(await differ(code, records, 'thrown')).toEqual([]);
        },
      ),
      { numRuns: 1000 },
    );
    // ...and where only one evaluation order exists, the very same error (code and message).
    await fc.assert(
      fc.asyncProperty(
        grammar(false),
        fc.array(record, { minLength: 1, maxLength: 3 }),
        async (code, records) => {
          expect(typeof compile(code)).toBe('function');
          expect(await differ(code, records, 'code')).toEqual([]);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
