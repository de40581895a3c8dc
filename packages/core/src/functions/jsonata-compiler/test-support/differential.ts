import jsonata from 'jsonata';
import { expect } from 'vitest';
import { type AstNode, type CompiledJsonata, compileJsonataAst, type JsonataBindings } from '../compile.js';

// ---------------------------------------------------------------------------------------------
// Comparison of compiled and interpreted JSONata: what users see, including arrays' sequence
// flags, undefined, -0 and errors.

export function view(value: unknown, depth = 0): unknown {
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

export async function interpreted(code: string, data: unknown, bindings: JsonataBindings): Promise<Outcome> {
  try {
    return { value: view(await jsonata(code).evaluate(data, bindings as Record<string, unknown>)) };
  } catch (error) {
    return { error: errorOf(error) };
  }
}

export function compiledOutcome(fn: CompiledJsonata, data: unknown, bindings: JsonataBindings): Outcome {
  try {
    return { value: view(fn(data, bindings)) };
  } catch (error) {
    return { error: errorOf(error) };
  }
}

export function compile(code: string): CompiledJsonata | { declined: string } {
  return compileJsonataAst(jsonata(code).ast() as AstNode);
}

export const BINDINGS: JsonataBindings = {
  params: { limit: 3, rate: 0.2, name: 'p', list: [1, 2] },
  state: 'route',
  context: { state: 'route', network: 'main', executionId: 'e-1', variables: { seen: 2 } },
};

export const SAMPLE_RECORDS: unknown[] = [
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

/**
 * `sameError: 'code'` compares error codes and messages; 'thrown' only that both threw: when several
 * items of an array or object constructor fail, the interpreter reports whichever of its parallel
 * async evaluations fails first, an order of its scheduling that the compiler does not model.
 */
export async function differ(
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
