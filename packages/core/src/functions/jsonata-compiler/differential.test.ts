import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { CompiledJsonata } from './compile.js';
import { BINDINGS, compile, differ, SAMPLE_RECORDS } from './test-support/differential.js';

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

  it('$now() is the evaluation time as ISO text, the same for every call in one evaluation', () => {
    const fn = compile('[$now(), $now()]') as CompiledJsonata;
    const before = Date.now();
    const [a, b] = fn({}, BINDINGS) as [string, string];
    expect(a).toBe(b);
    expect(Date.parse(a)).toBeGreaterThanOrEqual(before);
    expect(a).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});
