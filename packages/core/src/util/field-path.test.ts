import { describe, expect, it } from 'vitest';
import { DataError } from '../errors/errors.js';
import { cloneData, MAX_DATA_DEPTH, serializeData } from './clone.js';
import { deleteField, getField, setField } from './field-path.js';
import { checkConfigFieldPath, forbiddenSegment, isForbiddenKey } from './safe-keys.js';

const FORBIDDEN = ['__proto__', 'constructor', 'prototype'];

function nested(depth: number): unknown {
  let value: unknown = { leaf: true };
  for (let i = 0; i < depth; i++) value = { next: value };
  return value;
}

describe('field paths are own-key only', () => {
  it('getField never returns inherited members', () => {
    const record = { a: { b: 1 } };
    for (const key of [...FORBIDDEN, 'toString', 'valueOf', 'hasOwnProperty']) {
      expect(getField(record, key)).toBeUndefined();
      expect(getField(record, `a.${key}`)).toBeUndefined();
      expect(getField(record, `${key}.prototype`)).toBeUndefined();
    }
    expect(getField(record, 'a.b')).toBe(1);
  });

  it('getField reads an own "__proto__" key of parsed JSON as data', () => {
    const record = JSON.parse('{"__proto__": {"x": 1}}') as unknown;
    expect(getField(record, '__proto__.x')).toBe(1);
  });

  it('setField refuses every forbidden segment with DATA_INVALID and leaves prototypes alone', () => {
    for (const key of FORBIDDEN) {
      for (const path of [key, `${key}.polluted`, `a.${key}.polluted`, `constructor.${key}.polluted`]) {
        const record: Record<string, unknown> = { a: {} };
        expect(() => setField(record, path, 999)).toThrow(DataError);
        try {
          setField(record, path, 999);
        } catch (error) {
          expect((error as DataError).code).toBe('DATA_INVALID');
          expect((error as DataError).message).toContain(path);
        }
        expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
      }
    }
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('setField creates an own object where only an inherited member of that name exists', () => {
    const record: Record<string, unknown> = {};
    setField(record, 'toString.x', 1);
    expect(record.toString).toEqual({ x: 1 });
    expect(Object.prototype.toString).toBeTypeOf('function');
  });

  it('deleteField removes own properties only', () => {
    const record = { a: { b: 1 } };
    deleteField(record, 'a.b');
    deleteField(record, 'a.hasOwnProperty');
    deleteField(record, 'toString');
    expect(record).toEqual({ a: {} });
    expect(Object.prototype.hasOwnProperty).toBeTypeOf('function');
  });

  it('forbidden keys and config paths', () => {
    expect(FORBIDDEN.every(isForbiddenKey)).toBe(true);
    expect(isForbiddenKey('proto')).toBe(false);
    expect(forbiddenSegment('a.prototype.b')).toBe('prototype');
    expect(forbiddenSegment('my_prototype.b')).toBeUndefined();
    expect(checkConfigFieldPath('x.__proto__', 'params.fields[0]')).toEqual({
      path: 'params.fields[0]',
      message: expect.stringContaining('"__proto__"'),
    });
    expect(checkConfigFieldPath('x.y', 'params.fields[0]')).toBeUndefined();
  });
});

describe('cloneData', () => {
  it('copies own keys only and keeps a "__proto__" key as an inert own property', () => {
    const record = JSON.parse('{"__proto__": {"amount": 999}, "a": [1, {"b": 2}]}') as Record<
      string,
      unknown
    >;
    const copy = cloneData(record);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.hasOwn(copy, '__proto__')).toBe(true);
    expect(copy.amount).toBeUndefined();
    expect(JSON.stringify(copy)).toBe(JSON.stringify(record));
    expect(Object.keys(Object.prototype)).toEqual([]);

    const inheriting = Object.create({ inherited: 1 }) as Record<string, unknown>;
    const withInherited = { child: Object.assign(Object.create(null), { own: 1 }) as unknown };
    expect(cloneData(withInherited)).toEqual({ child: { own: 1 } });
    // A class-like object is shared, not walked (it is not record data).
    expect(cloneData(inheriting)).toBe(inheriting);
  });

  it('refuses data nested deeper than MAX_DATA_DEPTH with DATA_INVALID, and a cycle', () => {
    expect(() => cloneData(nested(MAX_DATA_DEPTH - 1))).not.toThrow();
    expect(() => cloneData(nested(100_000))).toThrow(DataError);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => cloneData(cycle)).toThrow(/nested deeper than 1000/);
    let deepArray: unknown = [];
    for (let i = 0; i < 100_000; i++) deepArray = [deepArray];
    expect(() => cloneData(deepArray)).toThrow(DataError);
  });

  it('serializeData turns an unserializable record into DATA_INVALID', () => {
    expect(() => serializeData(nested(100_000))).toThrow(DataError);
    expect(() => serializeData({ n: 1n })).toThrow(DataError);
    const parsed = serializeData(JSON.parse('{"__proto__": {"amount": 1}}') as Record<string, unknown>);
    expect(parsed.amount).toBeUndefined();
    expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
  });
});
