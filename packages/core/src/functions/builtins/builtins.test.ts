import { describe, expect, it } from 'vitest';
import { testContext } from '../test-support/context.js';
import { ConfigError } from '../../errors/errors.js';
import { createFunctionResolver } from '../resolver.js';
import type { FunctionContext } from '../types.js';

const ctx = testContext;
const resolver = createFunctionResolver();
const run = async (name: string, params: Record<string, unknown>, data: unknown, c: FunctionContext = ctx) =>
  (await resolver.resolve({ type: 'builtin', name, params }, 'transform', 'f')).call(data, c);

describe('builtin validators', () => {
  it('required_fields reports each missing field (dotted paths)', async () => {
    expect(await run('required_fields', { fields: ['id', 'a.b'] }, { id: 1, a: { b: 2 } })).toBe(true);
    expect(await run('RequiredFieldsValidator', { fields: ['id', 'a.b'] }, { a: {} })).toEqual({
      valid: false,
      errors: [
        { path: '/id', message: 'is required' },
        { path: '/a/b', message: 'is required' },
      ],
    });
  });

  it('schema validates with JSON Schema', async () => {
    const schema = { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] };
    expect(await run('schema', { schema }, { n: 1 })).toBe(true);
    expect(await run('SchemaValidator', { schema }, { n: 'x' })).toMatchObject({
      valid: false,
      errors: [{ path: '/n' }],
    });
  });

  it('range, pattern, type_check, length, not_empty', async () => {
    expect(await run('range', { field: 'n', min: 0, max: 10 }, { n: 5 })).toBe(true);
    expect(await run('range', { field: 'n', min: 0, max: 10 }, { n: 11 })).toMatchObject({ valid: false });
    expect(await run('pattern', { field: 'e', pattern: '^.+@.+$' }, { e: 'a@b' })).toBe(true);
    expect(await run('pattern', { field: 'e', pattern: '^.+@.+$' }, { e: 'ab' })).toMatchObject({
      valid: false,
    });
    expect(await run('type_check', { fields: ['a', 'b'], type: 'integer' }, { a: 1, b: 1.5 })).toMatchObject({
      errors: [{ path: '/b', message: 'must be integer, got number' }],
    });
    expect(await run('length', { field: 's', min: 2, max: 3 }, { s: 'abcd' })).toMatchObject({
      valid: false,
    });
    expect(await run('not_empty', { fields: ['list'] }, { list: [] })).toMatchObject({ valid: false });
  });

  it('friendly_schema checks required, type, min, max, pattern, enum', async () => {
    const schema = {
      name: { required: true, type: 'string', min: 2 },
      age: { type: 'integer', min: 0, max: 150 },
      tier: { enum: ['gold', 'silver'] },
    };
    expect(await run('friendly_schema', { schema }, { name: 'Al', age: 3, tier: 'gold' })).toBe(true);
    const bad = (await run('friendly_schema', { schema }, { age: 200, tier: 'bronze' })) as {
      errors: unknown[];
    };
    expect(bad.errors).toEqual([
      { path: '/name', message: 'is required' },
      { path: '/age', message: 'must be at most 150' },
      { path: '/tier', message: 'must be one of ["gold","silver"]' },
    ]);
  });
});

describe('builtin transforms never mutate their input', () => {
  const input = () => ({ a: { b: 1 }, name: ' Ann ', n: '42', keep: true });

  it('rename_fields / field_mapping', async () => {
    const data = input();
    expect(await run('field_mapping', { mapping: { 'a.b': 'x.y', name: 'who' } }, data)).toEqual({
      a: {},
      x: { y: 1 },
      who: ' Ann ',
      n: '42',
      keep: true,
    });
    expect(data).toEqual(input());
  });

  it('select_fields, drop_fields, set_defaults, set_fields', async () => {
    const data = input();
    expect(await run('select_fields', { fields: ['a.b', 'keep'] }, data)).toEqual({
      a: { b: 1 },
      keep: true,
    });
    expect(await run('drop_fields', { fields: ['a', 'n'] }, data)).toEqual({ name: ' Ann ', keep: true });
    expect(await run('set_defaults', { defaults: { keep: false, extra: 1 } }, data)).toMatchObject({
      keep: true,
      extra: 1,
    });
    expect(await run('set_fields', { values: { 'a.c': 2 } }, data)).toMatchObject({ a: { b: 1, c: 2 } });
    expect(data).toEqual(input());
  });

  it('convert_types, and a bad conversion throws naming the value', async () => {
    expect(await run('convert_types', { fields: { n: 'number', keep: 'string' } }, input())).toMatchObject({
      n: 42,
      keep: 'true',
    });
    await expect(async () => run('convert_types', { fields: { name: 'number' } }, input())).rejects.toThrow(
      /" Ann "/,
    );
  });

  it('flatten and nest invert each other', async () => {
    const flat = await run('flatten', {}, { a: { b: 1, c: { d: 2 } }, e: 3 });
    expect(flat).toEqual({ 'a.b': 1, 'a.c.d': 2, e: 3 });
    expect(await run('nest', {}, flat)).toEqual({ a: { b: 1, c: { d: 2 } }, e: 3 });
  });

  it('merge, copy_field, uppercase/lowercase/trim, add_timestamp, compute', async () => {
    expect(await run('merge', { data: { z: 1, keep: false } }, input())).toMatchObject({ z: 1, keep: false });
    expect(await run('merge', { data: { keep: false }, override: false }, input())).toMatchObject({
      keep: true,
    });
    expect(await run('copy_field', { from: 'a.b', to: 'copy' }, input())).toMatchObject({ copy: 1 });
    expect(await run('trim', { fields: ['name'] }, input())).toMatchObject({ name: 'Ann' });
    expect(await run('uppercase', { fields: ['name'] }, input())).toMatchObject({ name: ' ANN ' });
    expect(await run('lowercase', { fields: ['name'] }, input())).toMatchObject({ name: ' ann ' });
    const stamped = (await run('add_timestamp', { field: 'at' }, {})) as { at: string };
    expect(Number.isNaN(Date.parse(stamped.at))).toBe(false);
    expect(
      await run('compute', { field: 'total', expression: 'price * qty' }, { price: 2.5, qty: 4 }),
    ).toEqual({
      price: 2.5,
      qty: 4,
      total: 10,
    });
  });
});

describe('builtin conditions', () => {
  it('field comparisons, membership, existence, always/never', async () => {
    expect(await run('field_equals', { field: 'r', value: 'US' }, { r: 'US' })).toBe(true);
    expect(await run('field_exists', { field: 'a.b' }, { a: {} })).toBe(false);
    expect(await run('field_in', { field: 'r', values: ['EU', 'US'] }, { r: 'EU' })).toBe(true);
    expect(await run('field_gt', { field: 'n', value: 3 }, { n: 4 })).toBe(true);
    expect(await run('field_gte', { field: 'n', value: 4 }, { n: 4 })).toBe(true);
    expect(await run('field_lt', { field: 'n', value: 3 }, { n: '1' })).toBe(false);
    expect(await run('field_lte', { field: 'n', value: 3 }, { n: 3 })).toBe(true);
    expect(await run('always', {}, {})).toBe(true);
    expect(await run('never', {}, {})).toBe(false);
  });

  it('has_error looks at context.lastError', async () => {
    expect(await run('has_error', {}, {})).toBe(false);
    expect(
      await run(
        'has_error',
        { code: 'TIMEOUT' },
        {},
        { ...ctx, lastError: { code: 'TIMEOUT', message: 't' } },
      ),
    ).toBe(true);
  });
});

describe('builtin params', () => {
  it('bad params are a ConfigError at <path>.params.<param>, one issue per param', async () => {
    const error = await resolver
      .resolve(
        { type: 'builtin', name: 'range', params: { min: 'x' } },
        'validator',
        'states[0].validators[0]',
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.path)).toEqual([
      'states[0].validators[0].params.field',
      'states[0].validators[0].params.min',
    ]);
    expect((error as ConfigError).issues[0]?.message).toContain('builtin "range"');
  });

  it('an invalid JSON Schema in schema params is reported', async () => {
    await expect(
      resolver.resolve(
        { type: 'builtin', name: 'schema', params: { schema: { type: 'nope' } } },
        'validator',
        'v',
      ),
    ).rejects.toThrow(/invalid JSON Schema/);
  });
});
