import { describe, expect, it } from 'vitest';
import { testContext } from '../../test-support/context.js';
import type { FunctionRef } from '../../../config/types.js';
import { ConfigError } from '../../../errors/errors.js';
import { createFunctionResolver } from '../../resolver.js';

const ctx = testContext;
const resolver = createFunctionResolver();
const fn = async (ref: FunctionRef) => (await resolver.resolve(ref, 'transform', 'f')).call;
const run = async (name: string, params: Record<string, unknown>, data: unknown) =>
  (await fn({ type: 'builtin', name, params }))(data, ctx);
const fails = (message: string) => ({ valid: false, errors: [{ path: '', message }] });

describe('dataknobs names resolve as builtins', () => {
  it('a module-qualified name is a builtin, not inline code, in every kind of reference', async () => {
    const data = { a: 1, b: 2 };
    const expected = { x: 1, b: 2 };
    // A bare string: resolved to the builtin (its params are checked), not refused as inline code.
    await expect(fn('transformers.map_fields')).rejects.toThrow(/mapping/);
    expect(
      (await fn({ type: 'registered', name: 'transformers.map_fields', params: { mapping: { a: 'x' } } }))(
        data,
        ctx,
      ),
    ).toEqual(expected);
    expect(await run('transformers.FieldMapper', { field_map: { a: 'x' } }, data)).toEqual(expected);
    expect(
      (
        await fn({
          type: 'custom',
          module: 'dataknobs_fsm.functions.library.transformers',
          name: 'FieldMapper',
          params: { field_map: { a: 'x' } },
        })
      )(data, ctx),
    ).toEqual(expected);
  });

  it('a custom module outside the library is still code (refused without allowCode)', async () => {
    await expect(
      fn({ type: 'custom', module: 'dataknobs_fsm.other', name: 'FieldMapper' }),
    ).rejects.toMatchObject({
      code: 'CODE_NOT_ALLOWED',
    });
  });

  it('bare names shared with ours take our params first and dataknobs params second', async () => {
    expect(await run('FieldMapper', { field_map: { a: 'x' } }, { a: 1 })).toEqual({ x: 1 });
    expect(await run('FieldMapper', { mapping: { a: 'x' } }, { a: 1 })).toEqual({ x: 1 });
    expect(await run('RangeValidator', { field: 'n', max: 3 }, { n: 5 })).toMatchObject({ valid: false });
    expect(await run('RangeValidator', { field_ranges: { n: { max: 3 } } }, { n: 5 })).toEqual(
      fails('n: Value 5 is above maximum 3'),
    );
    // Ours: convert_types {fields: {n: number}}; dataknobs: convert_types {n: int}.
    expect(await run('convert_types', { fields: { n: 'number' } }, { n: '4' })).toEqual({ n: 4 });
    expect(await run('convert_types', { n: 'int' }, { n: '4' })).toEqual({ n: 4 });
    expect(await run('flatten', {}, { a: { b: 1 } })).toEqual({ 'a.b': 1 });
    expect(await run('flatten', { fields: ['xs'] }, { xs: [[1], [2, [3]]] })).toEqual({ xs: [1, 2, [3]] });
  });

  it('bad params name both spellings', async () => {
    const error = await resolver
      .resolve(
        { type: 'builtin', name: 'validators.range_check', params: { n: { low: 1 } } },
        'validator',
        'v',
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]?.path).toBe('v.params');
    const both = await resolver
      .resolve({ type: 'builtin', name: 'FieldMapper', params: { nope: 1 } }, 'transform', 't')
      .catch((e: unknown) => e as ConfigError);
    expect((both as ConfigError).issues[0]?.message).toMatch(/mapping[\s\S]*dataknobs[\s\S]*field_map/);
  });

  it('field names that walk prototypes are refused in params', async () => {
    await expect(
      fn({ type: 'builtin', name: 'transformers.enrich', params: { constructor: 1 } }),
    ).rejects.toThrow(/Invalid key|not allowed/);
    await expect(
      fn({ type: 'builtin', name: 'transformers.map_fields', params: { mapping: { a: 'x.__proto__.y' } } }),
    ).rejects.toThrow(/not allowed/);
  });
});

describe('dataknobs validators behave and word their failures as dataknobs does', () => {
  it('required_fields: missing first, then None', async () => {
    const p = { fields: ['a', 'b'] };
    expect(await run('validators.required_fields', p, { a: 1, b: 0 })).toBe(true);
    expect(await run('validators.RequiredFieldsValidator', p, { b: null })).toEqual(
      fails('Missing required fields: a'),
    );
    expect(await run('validators.RequiredFieldsValidator', p, { a: null, b: null })).toEqual(
      fails('Fields cannot be None: a, b'),
    );
    expect(
      await run('validators.RequiredFieldsValidator', { ...p, allow_none: true }, { a: null, b: 1 }),
    ).toBe(true);
    expect(await run('validators.RequiredFieldsValidator', p, [1])).toEqual(fails('Expected dict, got list'));
  });

  it('range_check: absent passes, bools are numbers, non-numbers fail', async () => {
    const p = { n: { min: 0, max: 10 }, m: { min: 1 } };
    expect(await run('validators.range_check', p, { n: 10 })).toBe(true);
    expect(await run('validators.range_check', p, { n: -0.5, m: 'x' })).toEqual(
      fails('n: Value -0.5 is below minimum 0; m: Expected numeric value, got str'),
    );
    expect(await run('validators.range_check', p, { m: true })).toBe(true);
  });

  it('pattern matches at the start only (re.match); flags', async () => {
    expect(await run('validators.pattern', { code: '[A-Z]{2}' }, { code: 'AB-1' })).toBe(true);
    expect(await run('validators.pattern', { code: '[A-Z]{2}' }, { code: 'xAB' })).toEqual(
      fails("code: Value 'xAB' does not match pattern"),
    );
    expect(
      await run(
        'validators.PatternValidator',
        { field_patterns: { code: '[a-z]+$' }, flags: 2 },
        { code: 'ABC' },
      ),
    ).toBe(true);
  });

  it('type_check with Python type names and lists of them; strict', async () => {
    const p = { field_types: { n: 'int', s: ['str', 'NoneType'] }, strict: true };
    expect(await run('validators.TypeValidator', p, { n: 1, s: null })).toBe(true);
    expect(await run('validators.TypeValidator', p, { n: 1.5, s: 3, x: 1 })).toEqual(
      fails('n: Expected int, got float; s: Expected one of [str, NoneType], got int; Unexpected fields: x'),
    );
  });

  it('length, unique, depends_on, schema, composite, build_record_validator', async () => {
    expect(await run('validators.length', { tags: { min: 1, max: 2 } }, { tags: [] })).toEqual(
      fails('tags: Length 0 is below minimum 1'),
    );
    expect(await run('validators.length', { n: { exact: 1 } }, { n: 5 })).toEqual(
      fails('n: Value does not have a length'),
    );
    expect(await run('validators.unique', { fields: ['xs'] }, { xs: [1, 2, 1, 'a', 'a'] })).toEqual(
      fails('xs: Duplicate values found: 1, a'),
    );
    expect(
      await run('validators.UniqueValidator', { fields: ['xs'], key: 'id' }, { xs: [{ id: 1 }, { no: 1 }] }),
    ).toEqual(fails("xs: Cannot extract key 'id': 'id'"));
    expect(await run('validators.depends_on', { card: ['cvv', 'expiry'] }, { card: 1, cvv: 2 })).toEqual(
      fails("Field 'card' requires: expiry"),
    );
    expect(
      await run('validators.schema', { model: { id: 'int', name: 'str' } }, { id: '7', name: 'a' }),
    ).toBe(true);
    expect(
      await run('validators.SchemaValidator', { schema: { id: 'int', name: 'str' } }, { id: 'x' }),
    ).toEqual(fails('Schema validation failed: id: Input should be a valid integer; name: Field required'));
    expect(
      await run(
        'validators.CompositeValidator',
        {
          validators: [
            { name: 'validators.required_fields', params: { fields: ['a'] } },
            { name: 'validators.range_check', params: { n: { max: 1 } } },
          ],
        },
        { n: 2 },
      ),
    ).toEqual(fails('Missing required fields: a; n: Value 2 is above maximum 1'));
    const gate = { spec: { age: { required: true, type: 'int', min: 18 }, email: true } };
    expect(await run('validators.build_record_validator', gate, { age: 20, email: 'a' })).toBe(true);
    expect(await run('validators.build_record_validator', gate, { age: '20', email: 'a' })).toBe(false);
  });
});

describe('dataknobs transformers', () => {
  it('FieldMapper: dotted targets nest, unmapped copied unless drop_unmapped; input untouched', async () => {
    const data = { a: 1, b: { c: 2 }, keep: true };
    expect(await run('transformers.FieldMapper', { field_map: { a: 'x.y', b: 'bb' } }, data)).toEqual({
      x: { y: 1 },
      bb: { c: 2 },
      keep: true,
    });
    expect(await run('transformers.map_fields', { mapping: { a: 'x' }, drop_unmapped: true }, data)).toEqual({
      x: 1,
    });
    // A dotted source is only read when the record has that literal key (dataknobs checks `source in data`).
    expect(await run('transformers.map_fields', { mapping: { 'b.c': 'c' } }, data)).toEqual(data);
    expect(data).toEqual({ a: 1, b: { c: 2 }, keep: true });
  });

  it('normalize: per field, "*" for the rest, lists of steps', async () => {
    const out = await run(
      'transformers.normalize',
      { name: ['trim', 'lowercase'], '*': 'snake_case' },
      { name: '  Ann ', kind: 'HTTPRequestType', n: 1 },
    );
    expect(out).toEqual({ name: 'ann', kind: 'http_request_type', n: 1 });
    expect(
      await run(
        'transformers.ValueNormalizer',
        { normalizations: { '*': ['camel_case'] }, fields: ['a'] },
        { a: 'foo-bar_baz', b: 'x_y' },
      ),
    ).toEqual({ a: 'fooBarBaz', b: 'x_y' });
    expect(
      await run(
        'transformers.normalize',
        { a: 'pascal_case', b: 'normalize_spaces', c: 'remove_special' },
        {
          a: 'foo_bar',
          b: ' a   b ',
          c: 'a-b!c d',
        },
      ),
    ).toEqual({ a: 'FooBar', b: 'a b', c: 'abc d' });
  });

  it('convert_types: Python conversions; failures keep the value unless strict', async () => {
    const data = { i: ' 42 ', f: '1.5', b: 'On', s: true, l: 'ab', j: '{"k":1}', bad: 'x', t: 3.9, n: null };
    expect(
      await run(
        'transformers.convert_types',
        { i: 'int', f: 'float', b: 'bool', s: 'str', l: 'list', j: 'json', bad: 'int', t: 'int', n: 'int' },
        data,
      ),
    ).toEqual({ i: 42, f: 1.5, b: true, s: 'True', l: ['a', 'b'], j: { k: 1 }, bad: 'x', t: 3, n: null });
    await expect(
      run('transformers.TypeConverter', { conversions: { bad: 'float' }, strict: true }, data),
    ).rejects.toThrow("Failed to convert field 'bad' to float (ValueError)");
  });

  it('enrich, filter_fields, replace_values, split_on, chain', async () => {
    expect(await run('transformers.enrich', { a: 9, z: 1 }, { a: 1 })).toEqual({ a: 1, z: 1 });
    expect(
      await run('transformers.DataEnricher', { enrichments: { a: 9 }, overwrite: true }, { a: 1 }),
    ).toEqual({ a: 9 });
    expect(await run('transformers.filter_fields', { include: ['a'] }, { a: 1, b: 2 })).toEqual({ a: 1 });
    expect(await run('transformers.FieldFilter', { exclude: ['a'] }, { a: 1, b: 2 })).toEqual({ b: 2 });
    await expect(
      fn({ type: 'builtin', name: 'transformers.filter_fields', params: { include: ['a'], exclude: ['b'] } }),
    ).rejects.toThrow('Cannot specify both include and exclude');
    expect(
      await run('transformers.replace_values', { s: { N: 'no', Y: 'yes' } }, { s: 'Y', t: 'Y' }),
    ).toEqual({
      s: 'yes',
      t: 'Y',
    });
    expect(
      await run(
        'transformers.ValueReplacer',
        { replacements: {}, default_replacements: { '': null } },
        { a: '', b: 'x' },
      ),
    ).toEqual({ a: null, b: 'x' });
    // A list or dict value is unhashable for dataknobs' `value in table`: the record fails.
    await expect(
      run('transformers.replace_values', { s: { Y: 'yes' } }, { s: 'Y', xs: [1] }),
    ).rejects.toThrow("unhashable type: 'list'");
    expect(
      await run('transformers.split_on', { field: 'xs', output: 'rows' }, { id: 1, xs: [1, 2] }),
    ).toEqual({
      rows: [
        { id: 1, xs: 1 },
        { id: 1, xs: 2 },
      ],
    });
    await expect(run('transformers.DataSplitter', { split_field: 'xs' }, { id: 1 })).rejects.toThrow(
      "Split field 'xs' not found",
    );
    expect(
      await run(
        'transformers.chain',
        {
          transformers: [
            { name: 'transformers.map_fields', params: { mapping: { a: 'b' } } },
            { name: 'transformers.enrich', params: { c: 3 } },
          ],
        },
        { a: 1 },
      ),
    ).toEqual({ b: 1, c: 3 });
    expect(
      await run('transformers.ArrayFlattener', { fields: ['xs'], depth: 0 }, { xs: [1, [2, [3, [4]]]] }),
    ).toEqual({
      xs: [1, 2, 3, 4],
    });
  });
});

describe('hostile records', () => {
  const hostile = () =>
    JSON.parse('{"__proto__": {"polluted": true}, "constructor": "c", "a": 1, "items": [1, 2]}') as Record<
      string,
      unknown
    >;
  it.each([
    ['transformers.FieldMapper', { field_map: { a: 'b.c' } }],
    ['transformers.FieldFilter', { exclude: ['a'] }],
    ['transformers.normalize', { '*': 'uppercase' }],
    ['transformers.convert_types', { a: 'str' }],
    ['transformers.enrich', { z: 1 }],
    ['transformers.split_on', { field: 'items' }],
    ['transformers.ArrayFlattener', { fields: ['items'] }],
  ])('%s keeps a __proto__ key as data and never touches Object.prototype', async (name, params) => {
    const out = (await run(name, params, hostile())) as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    const carrier =
      name === 'transformers.split_on' ? ((out.records as unknown[])[0] as Record<string, unknown>) : out;
    expect(Object.getPrototypeOf(carrier)).toBe(Object.prototype);
    expect(Object.hasOwn(carrier, '__proto__')).toBe(true);
    expect(Object.hasOwn(carrier, 'constructor')).toBe(true);
  });

  it('validators read own keys only: an inherited name is absent', async () => {
    expect(await run('validators.RequiredFieldsValidator', { fields: ['toString'] }, {})).toEqual(
      fails('Missing required fields: toString'),
    );
    expect(await run('validators.depends_on', { a: 'hasOwnProperty' }, { a: 1 })).toEqual(
      fails("Field 'a' requires: hasOwnProperty"),
    );
  });

  it('a normalization named like an Object.prototype member is unknown: the value stays as it is', async () => {
    const data = { name: 'Ann', n: 'x' };
    for (const step of ['toString', 'constructor', 'valueOf', 'hasOwnProperty', 'toLocaleString']) {
      expect(await run('transformers.normalize', { '*': [step, 'uppercase'] }, data), step).toEqual({
        name: 'ANN',
        n: 'X',
      });
    }
  });
});
