import { describe, expect, it } from 'vitest';
import type { CompiledJsonata } from './compile.js';
import { BINDINGS, compile } from './test-support/differential.js';

function compiled(code: string): CompiledJsonata {
  const fn = compile(code);
  if (typeof fn !== 'function') throw new Error(`"${code}" did not compile: ${fn.declined}`);
  return fn;
}

// A record parsed from JSON may carry an own "__proto__" key; JSONata's own merge and object constructor
// assign keys into `{}`, which for that key swaps the result's prototype.
const hostile = JSON.parse('{"id": 1, "__proto__": {"admin": true}}') as Record<string, unknown>;

describe('compiled object results are plain objects whose keys are data', () => {
  it('$merge keeps an own "__proto__" key as data and the prototype untouched', () => {
    const out = compiled('$merge([$, { "amount": 2 }])')(hostile, BINDINGS) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect((out as { admin?: unknown }).admin).toBeUndefined();
    expect(Object.keys(out)).toEqual(['id', '__proto__', 'amount']);
    expect(Object.keys(Object.prototype)).toEqual([]);
  });

  it('an object constructor with a "__proto__" key defines it as data', () => {
    const out = compiled('{ "__proto__": { "admin": true }, "b": id }')(hostile, BINDINGS) as Record<
      string,
      unknown
    >;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect((out as { admin?: unknown }).admin).toBeUndefined();
    expect(out.b).toBe(1);
  });

  it('$merge and constructors give ordinary objects (Object.prototype), as JSON.parse does', () => {
    const merged = compiled('$merge([{ "a": 1 }, { "b": 2 }])')({}, BINDINGS);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(merged).toEqual({ a: 1, b: 2 });
  });
});
