import { describe, expect, it } from 'vitest';
import { sameValues } from './same-values.js';

describe('sameValues', () => {
  it('is true for the same own keys holding identical values, in any order', () => {
    const nested = { deep: 1 };
    expect(sameValues({ a: 1, b: 'x', n: nested }, { n: nested, b: 'x', a: 1 })).toBe(true);
    expect(sameValues({}, {})).toBe(true);
  });

  it('is false for a changed value, a key more or less, or a nested copy', () => {
    expect(sameValues({ a: 1 }, { a: 2 })).toBe(false);
    expect(sameValues({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameValues({ a: 1, b: 2 }, { a: 1 })).toBe(false);
    expect(sameValues({ a: 1, b: undefined }, { a: 1, c: undefined })).toBe(false);
    expect(sameValues({ n: { deep: 1 } }, { n: { deep: 1 } })).toBe(false);
  });

  it('compares only plain records: arrays and primitives only by identity', () => {
    const list = [1];
    expect(sameValues(list, list)).toBe(true);
    expect(sameValues([1], [1])).toBe(false);
    expect(sameValues(1, 1)).toBe(true);
    expect(sameValues(null, {})).toBe(false);
  });

  it('reads own keys only: a "__proto__" key counts; a null-prototype object compares by its keys', () => {
    const hostile = JSON.parse('{"__proto__":{"x":1},"a":1}');
    const twin = JSON.parse('{"__proto__":{"x":1},"a":1}');
    expect(sameValues(hostile, twin)).toBe(false); // two different nested objects
    const shared = Object.getOwnPropertyDescriptor(hostile, '__proto__')?.value;
    expect(sameValues(hostile, JSON.parse('{"a":1}'))).toBe(false);
    const withShared = Object.defineProperty({ a: 1 }, '__proto__', { value: shared, enumerable: true });
    expect(sameValues(hostile, withShared)).toBe(true);
    const bare = Object.create(null) as Record<string, unknown>;
    bare.a = 1;
    expect(sameValues(bare, { a: 1 })).toBe(true);
  });

  it('compares anything but a plain object by identity: a Date, an instance, an object with another prototype', () => {
    expect(sameValues(new Date(0), {})).toBe(false);
    expect(sameValues(new Date(0), new Date(0))).toBe(false);
    const inheriting = Object.create({ inherited: 1 }) as Record<string, unknown>;
    inheriting.a = 1;
    expect(sameValues(inheriting, { a: 1 })).toBe(false);
    expect(sameValues(inheriting, inheriting)).toBe(true);
  });
});
