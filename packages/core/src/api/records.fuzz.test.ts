/**
 * Fuzz: hostile records through every builtin in every data mode. Runs FSM_FUZZ_RUNS cases per property
 * (default 200; `pnpm fuzz` runs 10 000).
 */
import fc from 'fast-check';
import {
  expectFsmError,
  FUZZ_CASE_TIMEOUT_MS,
  FUZZ_RUNS,
  guardObjectPrototype,
} from '../testing/fuzz-guards.js';
import { describe, expect, it } from 'vitest';
import { listBuiltins } from '../functions/resolver.js';
import { SimpleFSM } from './simple-fsm.js';

const TEST_TIMEOUT_MS = Math.max(60_000, FUZZ_RUNS * 100);

const prototypeGuard = guardObjectPrototype();
const expectPrototypeUntouched = () => prototypeGuard.expectUntouched();

const expectTyped = (error: unknown) => expectFsmError(error);

// --- hostile records -------------------------------------------------------------------------------

const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  '__proto__.polluted',
  'constructor.prototype.polluted',
  'a.__proto__.polluted',
  'a.constructor.prototype',
  'prototype.x',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'a.b',
  'a..b',
  '.',
  '',
  'amount',
  'name',
  'a',
];
const key = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...HOSTILE_KEYS) }, fc.string({ maxLength: 8 }));

function deep(levels: number): Record<string, unknown> {
  let o: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < levels; i++) o = { a: o };
  return o;
}

function cyclic(): Record<string, unknown> {
  const o: Record<string, unknown> = { x: 1 };
  o.self = o;
  return o;
}

/** Values no JSON input holds, but a function (or an API caller) can put in a record. */
const nonJson = fc.constantFrom<() => unknown>(
  () => 10n,
  () => undefined,
  () => Number.NaN,
  () => Number.POSITIVE_INFINITY,
  () => -0,
  () => new Date(0),
  () => new Date(Number.NaN),
  () => new Map([['a', 1]]),
  () => new Set([1]),
  () => Symbol('s'),
  () => () => 1,
  () => new Uint8Array([1, 2]),
  () => cyclic(),
  () => Object.create(null) as unknown,
  () => deep(2_000),
  () => deep(100_000),
  () => 'x'.repeat(1_000_000),
);

const value: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 2 }),
    nonJson.map((make) => make()),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map(ownObject),
  ),
})).value;

/** Keys become own properties, `__proto__` included (as JSON.parse makes them), never a prototype. */
function ownObject(entries: Array<[string, unknown]>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries)
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

const record = fc.oneof(
  { weight: 8, arbitrary: fc.array(fc.tuple(key, value), { maxLength: 6 }).map(ownObject) },
  // JSON text parsed the way readers do (own `__proto__` keys and all).
  {
    weight: 2,
    arbitrary: fc
      .array(fc.tuple(key, fc.jsonValue({ maxDepth: 2 })), { maxLength: 5 })
      .map(
        (entries) =>
          JSON.parse(
            `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`,
          ) as unknown,
      ),
  },
  // Not a record at all.
  { weight: 1, arbitrary: fc.oneof(fc.constant(null), fc.integer(), fc.string(), fc.array(fc.integer())) },
);

// --- every builtin, with params that name (hostile) fields -----------------------------------------

const BUILTINS = [...new Map(listBuiltins().map((b) => [b.name, b])).values()];

type Template = (p: string, v: unknown) => Record<string, unknown>;
/** Param shapes of the builtins, around one field path `p` and a value `v`; specific ones first. */
const TEMPLATES: Template[] = [
  (p) => ({ field: p, min: 0, max: 10 }),
  (p) => ({ field: p, pattern: '^a' }),
  (p) => ({ field: p, type: 'number' }),
  (p) => ({ field: p, expression: 'a' }),
  (p, v) => ({ field: p, value: v }),
  (p, v) => ({ field: p, values: [v] }),
  (p) => ({ from: p, to: 'copy' }),
  (p) => ({ fields: [p, 'a'] }),
  (p) => ({ fields: { [p]: 'number' } }),
  (p) => ({ field: p }),
  (p) => ({ mapping: { [p]: 'renamed' } }),
  (p) => ({ field_map: { [p]: 'renamed' } }),
  (p, v) => ({ values: { [p]: v } }),
  (p, v) => ({ defaults: { [p]: v } }),
  (p, v) => ({ data: { [p]: v } }),
  (p, v) => ({ enrichments: { [p]: v } }),
  (p) => ({ field_ranges: { [p]: { min: 0 } } }),
  (p) => ({ field_lengths: { [p]: { min: 1 } } }),
  (p) => ({ dependencies: { [p]: ['a'] } }),
  (p) => ({ split_field: p }),
  (p) => ({ field_patterns: { [p]: '^a' } }),
  (p) => ({ field_types: { [p]: 'int' } }),
  (p) => ({ conversions: { [p]: 'int' } }),
  (p) => ({ normalizations: { [p]: 'lower' } }),
  (p) => ({ normalizations: { [p]: ['lower'] } }),
  (p, v) => ({ replacements: { [p]: { a: v } } }),
  (p) => ({ include: [p, 'a'] }),
  (p) => ({ model: { [p]: 'int' } }),
  (p) => ({ schema: { [p]: { required: true, type: 'string' } } }),
  (p) => ({ schema: { type: 'object', required: [p] } }),
  (p) => ({ schema: { [p]: 'int' } }),
  (p) => ({ spec: { [p]: { required: true } } }),
  (p) => ({ transformers: [{ name: 'rename_fields', params: { mapping: { [p]: 'x' } } }] }),
  (p) => ({ validators: [{ name: 'required_fields', params: { fields: [p] } }] }),
  () => ({ separator: '.' }),
  (p, v) => ({ [p]: v }),
  () => ({}),
];

/** For each builtin, the first template it accepts (probed once with ordinary values), if any. */
const TEMPLATE_OF = new Map<string, Template>();
for (const b of BUILTINS) {
  for (const template of TEMPLATES) {
    try {
      const fsm = await SimpleFSM.create(configFor({ ...b, params: template('a', 1) }, 'copy'));
      await fsm.close();
      TEMPLATE_OF.set(b.name, template);
      break;
    } catch {
      // Not this shape: try the next.
    }
  }
}

// Params mostly name ordinary fields (hostile ones are the config fuzz's job): the records are the attack here.
const paramKey = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'amount', 'name', 'a.b', 'x.y.z', 'self') },
  { weight: 1, arbitrary: key },
);

const randomParams = fc.dictionary(
  fc.constantFrom(
    'field',
    'fields',
    'mapping',
    'field_map',
    'values',
    'defaults',
    'from',
    'to',
    'value',
    'separator',
  ),
  fc.oneof(
    paramKey,
    fc.array(paramKey, { maxLength: 3 }),
    fc.dictionary(paramKey, paramKey, { maxKeys: 3 }),
    fc.jsonValue({ maxDepth: 1 }),
  ),
  { maxKeys: 3 },
);

const builtinCase = fc
  .tuple(
    fc.constantFrom(...BUILTINS),
    paramKey,
    fc.jsonValue({ maxDepth: 1 }),
    randomParams,
    // Random params one time in five for builtins with a table (mostly refused: bad shape).
    fc.nat(4).map((n) => n === 0),
  )
  .map(([b, path, v, random, useRandom]) => {
    const template = TEMPLATE_OF.get(b.name);
    const params = template && !useRandom ? template(path, v) : random;
    return { name: b.name, roles: b.roles, params };
  });

function configFor(
  fn: {
    name: string;
    roles: readonly string[];
    params: Record<string, unknown>;
    ref?: Record<string, unknown>;
  },
  mode: string,
): Record<string, unknown> {
  const ref = fn.ref ?? { type: 'builtin', name: fn.name, params: fn.params };
  const start: Record<string, unknown> = { name: 'start', is_start: true };
  const arc: Record<string, unknown> = { target: 'done' };
  if (fn.roles.includes('transform')) start.transforms = [ref];
  else if (fn.roles.includes('validator')) start.validators = [ref];
  else arc.condition = ref;
  start.arcs =
    fn.roles.includes('condition') && !fn.roles.includes('validator') ? [arc, { target: 'other' }] : [arc];
  return {
    name: 'fuzz',
    data_mode: mode,
    states: [start, { name: 'done', is_end: true }, { name: 'other', is_end: true }],
  };
}

// JSONata and CEL over hostile records: prototype keys, deep, cyclic and non-JSON values.
const JSONATA_TRANSFORMS = [
  '$merge([$, {"n": $count($keys($))}])',
  '$sift($, function($v, $k) { $k != "a" })',
  '$ ~> |$|{"seen": true}|',
  '{"s": $string($)}',
  '$.__proto__',
  '$lookup($, "constructor")',
  '$merge([$, {"__proto__": {"polluted": 1}}])',
  '$spread($)',
];
const JSONATA_CONDITIONS = [
  '$exists(a)',
  'a > 1',
  '$string(__proto__) = "x"',
  'constructor.prototype',
  '$count($keys($)) > 1',
];
const CEL_CONDITIONS = [
  'has(data.a)',
  'data.a > 1',
  '"__proto__" in data',
  'size(data) > 0',
  'a == 1',
  'data.constructor == 1',
];
const expressionCase = fc.oneof(
  fc
    .constantFrom(...JSONATA_TRANSFORMS)
    .map((code) => ({ roles: ['transform'], ref: { type: 'expression', code } })),
  fc
    .constantFrom(...JSONATA_CONDITIONS)
    .map((code) => ({ roles: ['condition'], ref: { type: 'expression', code } })),
  fc
    .constantFrom(...CEL_CONDITIONS)
    .map((code) => ({ roles: ['condition'], ref: { type: 'expression', language: 'cel', code } })),
);

describe('fuzz: hostile records through every builtin and data mode', () => {
  it(
    'JSONata and CEL expressions over hostile records: typed failures only, one result each, no pollution',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          expressionCase,
          fc.constantFrom('copy', 'reference', 'direct'),
          fc.array(record, { minLength: 1, maxLength: 4 }),
          async (fn, mode, records) => {
            const fsm = await SimpleFSM.create(configFor({ name: 'expression', params: {}, ...fn }, mode));
            try {
              const batch = await fsm.processBatch(records, { recordTimeoutMs: 5_000 });
              expect(batch.results).toHaveLength(records.length);
              for (const result of batch.results)
                if (!result.success) expect(typeof result.error?.code).toBe('string');
            } finally {
              await fsm.close();
            }
            expectPrototypeUntouched();
          },
        ),
        { numRuns: FUZZ_RUNS, timeout: FUZZ_CASE_TIMEOUT_MS },
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'no untyped error escapes, Object.prototype stays clean, every record yields exactly one result',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          builtinCase,
          fc.constantFrom('copy', 'reference', 'direct'),
          fc.array(record, { minLength: 1, maxLength: 4 }),
          async (fn, mode, records) => {
            let fsm: SimpleFSM;
            try {
              fsm = await SimpleFSM.create(configFor(fn, mode));
            } catch (error) {
              expectTyped(error);
              expectPrototypeUntouched();
              return;
            }
            try {
              const batch = await fsm.processBatch(records);
              expect(batch.results).toHaveLength(records.length);
              for (const result of batch.results) {
                expect(typeof result.success).toBe('boolean');
                if (!result.success) expect(typeof result.error?.code).toBe('string');
              }
              const one = await fsm.process(records[0]);
              expect(typeof one.success).toBe('boolean');
            } catch (error) {
              expectTyped(error);
            } finally {
              await fsm.close();
            }
            expectPrototypeUntouched();
            // A later FSM is unaffected by what the records did.
            const clean = await SimpleFSM.create(
              configFor({ name: 'identity', roles: ['transform'], params: {} }, mode),
            );
            const after = await clean.process({ id: 1 });
            await clean.close();
            expect(after).toMatchObject({ success: true, data: { id: 1 } });
          },
        ),
        { numRuns: FUZZ_RUNS, timeout: FUZZ_CASE_TIMEOUT_MS },
      );
    },
    TEST_TIMEOUT_MS,
  );
});
