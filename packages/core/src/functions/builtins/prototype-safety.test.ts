import { afterEach, describe, expect, it } from 'vitest';
import { SimpleFSM } from '../../api/simple-fsm.js';
import { ConfigError } from '../../errors/errors.js';
import { createFunctionResolver } from '../resolver.js';
import type { BuiltinFunction } from '../types.js';
import { conditionBuiltins } from './conditions.js';
import { transformBuiltins } from './transforms.js';
import { validatorBuiltins } from './validators.js';

type Rec = Record<string, unknown>;
type Role = 'transform' | 'validator' | 'condition';

/** Every builtin of core with a field-path param, with params that put the path `p` in each such param. */
const PATH_PARAMS: Record<string, { role: Role; params: Array<(p: string) => Rec> }> = {
  rename_fields: {
    role: 'transform',
    params: [(p) => ({ mapping: { [p]: 'x' } }), (p) => ({ mapping: { a: p } })],
  },
  select_fields: { role: 'transform', params: [(p) => ({ fields: [p] })] },
  drop_fields: { role: 'transform', params: [(p) => ({ fields: [p] })] },
  set_defaults: { role: 'transform', params: [(p) => ({ defaults: { [p]: 999 } })] },
  set_fields: { role: 'transform', params: [(p) => ({ values: { [p]: 999 } })] },
  convert_types: { role: 'transform', params: [(p) => ({ fields: { [p]: 'number' } })] },
  add_timestamp: { role: 'transform', params: [(p) => ({ field: p })] },
  uppercase: { role: 'transform', params: [(p) => ({ fields: [p] })] },
  lowercase: { role: 'transform', params: [(p) => ({ fields: [p] })] },
  trim: { role: 'transform', params: [(p) => ({ fields: [p] })] },
  copy_field: { role: 'transform', params: [(p) => ({ from: p, to: 'x' }), (p) => ({ from: 'a', to: p })] },
  compute: { role: 'transform', params: [(p) => ({ field: p, expression: '1' })] },
  required_fields: { role: 'validator', params: [(p) => ({ fields: [p] })] },
  range: { role: 'validator', params: [(p) => ({ field: p, min: 0 })] },
  pattern: { role: 'validator', params: [(p) => ({ field: p, pattern: '.' })] },
  type_check: {
    role: 'validator',
    params: [(p) => ({ field: p, type: 'number' }), (p) => ({ fields: [p], type: 'number' })],
  },
  length: { role: 'validator', params: [(p) => ({ field: p, min: 1 })] },
  friendly_schema: { role: 'validator', params: [(p) => ({ schema: { [p]: { required: true } } })] },
  not_empty: { role: 'validator', params: [(p) => ({ fields: [p] })] },
  field_equals: { role: 'condition', params: [(p) => ({ field: p, value: 1 })] },
  field_exists: { role: 'condition', params: [(p) => ({ field: p })] },
  field_in: { role: 'condition', params: [(p) => ({ field: p, values: [1] })] },
  field_gt: { role: 'condition', params: [(p) => ({ field: p, value: 1 })] },
  field_gte: { role: 'condition', params: [(p) => ({ field: p, value: 1 })] },
  field_lt: { role: 'condition', params: [(p) => ({ field: p, value: 1 })] },
  field_lte: { role: 'condition', params: [(p) => ({ field: p, value: 1 })] },
};
/** Builtins without a field-path param. */
const NO_PATH_PARAMS = ['identity', 'flatten', 'nest', 'merge', 'schema', 'always', 'never', 'has_error'];
/** Lower-case aliases (same implementation as the name they alias). */
const ALIASES = ['field_mapping', 'unflatten', 'json_schema'];

const HOSTILE_PATHS = [
  '__proto__',
  '__proto__.polluted',
  'constructor.prototype.polluted',
  'a.__proto__.polluted',
  'prototype',
  'a.constructor',
];

/** One state with the function in its role's place; a condition sits on the arc to the end state. */
function configWith(role: Role, ref: Rec, extra: Rec = {}): Rec {
  const start: Rec = { name: 's', is_start: true, arcs: [{ target: 'e' }] };
  if (role === 'transform') start.transforms = [ref];
  if (role === 'validator') start.validators = [ref];
  if (role === 'condition') start.arcs = [{ target: 'e', condition: ref }];
  return {
    name: 'safety',
    ...extra,
    networks: [{ name: 'main', states: [start, { name: 'e', is_end: true }] }],
  };
}

const refPath = (role: Role) =>
  role === 'condition'
    ? 'networks[0].states[0].arcs[0].condition'
    : `networks[0].states[0].${role === 'transform' ? 'transforms' : 'validators'}[0]`;

async function configError(config: Rec): Promise<ConfigError> {
  const error = await SimpleFSM.create(config).then(
    async (fsm) => {
      await fsm.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

const OWN_BUILTINS = new Map(
  [...transformBuiltins, ...validatorBuiltins, ...conditionBuiltins].map((b) => [b.name, b]),
);

/**
 * The error of one of core's builtins for params, as the resolver reports it (at the reference's path).
 * Through the builtin itself: the resolver's table may give a name a second spelling (dataknobs').
 */
async function paramsError(role: Role, name: string, params: Rec): Promise<ConfigError> {
  const builtin = OWN_BUILTINS.get(name) as BuiltinFunction;
  const error = await createFunctionResolver({ builtins: [builtin] })
    .resolve({ type: 'builtin', name, params }, role, refPath(role))
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(error, `${name} ${JSON.stringify(params)}`).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

/** Object.prototype untouched, and a fresh FSM still loads and runs (it did not before the fix). */
async function expectCleanPrototype(): Promise<void> {
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect(({} as Rec).polluted).toBeUndefined();
  expect(({} as Rec).amount).toBeUndefined();
  const fsm = await SimpleFSM.create(
    configWith('validator', { type: 'builtin', name: 'required_fields', params: { fields: ['amount'] } }),
  );
  const result = await fsm.process({});
  expect(result.success).toBe(false);
  expect(result.error?.code).toBe('VALIDATION_FAILED');
  expect((await fsm.process({ amount: 1 })).success).toBe(true);
  await fsm.close();
}

afterEach(() => {
  // A failing test must not leave pollution behind for the next one.
  for (const key of Object.keys(Object.prototype)) delete (Object.prototype as Rec)[key];
});

describe('field paths in builtin params are checked when the config is compiled', () => {
  it('covers every builtin of core with a field-path param', () => {
    const primary = [...OWN_BUILTINS.keys()].filter((n) => /^[a-z_]+$/.test(n));
    expect(
      primary.filter((n) => !(n in PATH_PARAMS) && !NO_PATH_PARAMS.includes(n) && !ALIASES.includes(n)),
    ).toEqual([]);
  });

  for (const [name, { role, params }] of Object.entries(PATH_PARAMS)) {
    it(`${name}: a __proto__, constructor or prototype segment is CONFIG_INVALID at the param`, async () => {
      for (const make of params) {
        for (const path of HOSTILE_PATHS) {
          const error = await paramsError(role, name, make(path));
          expect(error.code).toBe('CONFIG_INVALID');
          expect(error.issues[0]?.path.startsWith(`${refPath(role)}.params.`)).toBe(true);
          expect(error.message).toMatch(/__proto__|constructor|prototype/);
        }
      }
      await expectCleanPrototype();
    });
  }

  it('a whole config with such a path is CONFIG_INVALID naming the key', async () => {
    const error = await configError(
      configWith('transform', {
        type: 'builtin',
        name: 'set_defaults',
        params: { defaults: { 'a.constructor': 1 } },
      }),
    );
    expect(error.issues[0]?.path).toBe('networks[0].states[0].transforms[0].params.defaults.a.constructor');
    const list = await configError(
      configWith('transform', {
        type: 'builtin',
        name: 'select_fields',
        params: { fields: ['ok', 'prototype'] },
      }),
    );
    expect(list.issues[0]?.path).toBe('networks[0].states[0].transforms[0].params.fields[1]');
    // A config parsed from JSON text keeps `__proto__` as an own key all the way to the builtin.
    const parsed = JSON.parse(
      JSON.stringify(
        configWith('transform', { type: 'builtin', name: 'set_defaults', params: { defaults: {} } }),
      ).replace('"defaults":{}', '"defaults":{"__proto__":{"polluted":1}}'),
    ) as Rec;
    const proto = await configError(parsed);
    expect(proto.issues[0]?.path).toBe('networks[0].states[0].transforms[0].params.defaults.__proto__');
    await expectCleanPrototype();
  });

  it('a "__proto__" key from parsed JSON anywhere in params is CONFIG_INVALID, not silently dropped', async () => {
    for (const [name, params] of [
      ['set_defaults', '{"defaults": {"__proto__": {"polluted": 1}}}'],
      ['merge', '{"data": {"__proto__": {"polluted": 1}}}'],
      ['set_fields', '{"values": {"a": {"__proto__": {"polluted": 1}}}}'],
    ] as const) {
      const error = await paramsError('transform', name, JSON.parse(params) as Rec);
      expect(error.issues[0]?.path).toMatch(
        /^networks\[0\]\.states\[0\]\.transforms\[0\]\.params\..*__proto__$/,
      );
    }
    await expectCleanPrototype();
  });

  it('data_mapping and result_mapping of push arcs refuse forbidden segments', async () => {
    for (const key of ['data_mapping', 'result_mapping'] as const) {
      for (const [from, to] of [
        ['__proto__.polluted', 'x'],
        ['x', 'constructor.prototype.polluted'],
      ] as const) {
        const error = await configError({
          name: 'push',
          main_network: 'main',
          networks: [
            {
              name: 'main',
              states: [
                {
                  name: 's',
                  is_start: true,
                  arcs: [{ target: 'e', target_network: 'child', return_state: 'e', [key]: { [from]: to } }],
                },
                { name: 'e', is_end: true },
              ],
            },
            { name: 'child', states: [{ name: 'c', is_start: true, is_end: true }] },
          ],
        });
        expect(error.code).toBe('CONFIG_INVALID');
        expect(error.issues[0]?.path).toMatch(
          new RegExp(`^networks\\[0\\]\\.states\\[0\\]\\.arcs\\[0\\]\\.${key}\\.`),
        );
      }
    }
    await expectCleanPrototype();
  });
});

const HOSTILE_RECORDS: Array<() => unknown> = [
  () => ({ '__proto__.amount': 999 }),
  () => ({ 'constructor.prototype.amount': 999 }),
  () => ({ 'a.__proto__.amount': 999, a: {} }),
  () => JSON.parse('{"__proto__": {"amount": 999}, "a": 1}'),
  () => JSON.parse('{"a": {"__proto__": {"amount": 999}}}'),
  () => JSON.parse('{"__proto__": []}'),
  () => ({ constructor: { prototype: { amount: 999 } } }),
  () => ({ prototype: 1, constructor: 'x' }),
];

/** Safe params for each builtin, so hostile records reach every transform, validator and condition. */
const SAFE_PARAMS: Record<string, Rec> = {
  ...Object.fromEntries(
    Object.entries(PATH_PARAMS).map(([name, spec]) => [name, spec.params[0]?.('a') ?? {}]),
  ),
  identity: {},
  flatten: {},
  nest: {},
  merge: { data: { b: 1 } },
  schema: { schema: { type: 'object' } },
  always: {},
  never: {},
  has_error: {},
};

describe('hostile records through every builtin and data mode', () => {
  it('the issue’s example: nest cannot make a later record pass required_fields', async () => {
    const fsm = await SimpleFSM.create({
      name: 'nest',
      states: [
        {
          name: 's',
          is_start: true,
          transforms: [{ type: 'builtin', name: 'nest' }],
          validators: [{ type: 'builtin', name: 'required_fields', params: { fields: ['amount'] } }],
          arcs: [{ target: 'e' }],
        },
        { name: 'e', is_end: true },
      ],
    });
    const [hostile, later] = [await fsm.process({ '__proto__.amount': 999 }), await fsm.process({ id: 2 })];
    expect(hostile.success).toBe(false);
    expect(hostile.error?.code).toBe('DATA_INVALID');
    expect(later.success).toBe(false);
    expect(later.error?.code).toBe('VALIDATION_FAILED');
    expect(later.data).toEqual({ id: 2 });
    await fsm.close();
    await expectCleanPrototype();
  });

  for (const mode of ['copy', 'reference', 'direct'] as const) {
    it(`${mode} mode: no builtin writes into a prototype; each record gets one result`, async () => {
      for (const [name, params] of Object.entries(SAFE_PARAMS)) {
        const role: Role =
          name in PATH_PARAMS
            ? (PATH_PARAMS[name]?.role as Role)
            : /^(schema)$/.test(name)
              ? 'validator'
              : /^(always|never|has_error)$/.test(name)
                ? 'condition'
                : 'transform';
        const fsm = await SimpleFSM.create(
          configWith(role, { type: 'builtin', name, params }, { data_mode: { default: mode } }),
        );
        const records = HOSTILE_RECORDS.map((make) => make());
        const batch = await fsm.processBatch(records);
        expect(batch.results).toHaveLength(records.length);
        for (const result of batch.results) {
          if (!result.success)
            expect(result.error?.code).toMatch(
              /^(DATA_INVALID|VALIDATION_FAILED|NO_TRANSITION|FUNCTION_FAILED)$/,
            );
          if (typeof result.data === 'object' && result.data !== null)
            expect(Object.getPrototypeOf(result.data)).toBe(Object.prototype);
        }
        await fsm.close();
        expect(Object.keys(Object.prototype), name).toEqual([]);
        expect(({} as Rec).amount, name).toBeUndefined();
      }
      await expectCleanPrototype();
    });
  }
});
