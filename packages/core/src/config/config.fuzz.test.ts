/**
 * Fuzz: configs, valid and mutated, as objects and as YAML/JSON files, through the loader and into an FSM.
 * Runs FSM_FUZZ_RUNS cases per property (default 200; `pnpm fuzz` runs 10 000).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  expectFsmError,
  FUZZ_CASE_TIMEOUT_MS,
  FUZZ_RUNS,
  guardObjectPrototype,
} from '../testing/fuzz-guards.js';
import { afterAll, describe, expect, it } from 'vitest';
import { SimpleFSM } from '../api/simple-fsm.js';
import { loadConfig } from './load.js';

const TEST_TIMEOUT_MS = Math.max(60_000, FUZZ_RUNS * 100);

const dir = mkdtempSync(join(tmpdir(), 'fsm-config-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const prototypeGuard = guardObjectPrototype();
const expectPrototypeUntouched = () => prototypeGuard.expectUntouched();

const expectTyped = (error: unknown) => expectFsmError(error);

// --- valid configs --------------------------------------------------------------------------------

const stateName = fc.stringMatching(/^[a-z][a-z0-9_]{0,7}$/);
const fieldName = fc.constantFrom('a', 'amount', 'name', 'region', 'x.y');
const condition = fc.oneof(
  fc.constant({ type: 'builtin', name: 'always' }),
  fieldName.map((field) => ({ type: 'builtin', name: 'field_exists', params: { field } })),
  fieldName.map((field) => ({ type: 'builtin', name: 'field_gt', params: { field, value: 1 } })),
  fc.constant({ type: 'expression', code: 'amount > 10' }),
  fc.constant({ type: 'expression', language: 'cel', code: 'has(data.a)' }),
);
const transform = fc.oneof(
  fieldName.map((field) => ({ type: 'builtin', name: 'set_defaults', params: { defaults: { [field]: 1 } } })),
  fieldName.map((field) => ({ type: 'builtin', name: 'uppercase', params: { fields: [field] } })),
  fc.constant({ type: 'expression', code: '$merge([$, {"seen": true}])' }),
  fc.constant('identity'),
);

/** A config with a start state, a chain of middle states and an end state; every arc names a state. */
const validConfig = fc
  .record({
    names: fc.uniqueArray(stateName, { minLength: 2, maxLength: 6 }),
    mode: fc.constantFrom('copy', 'reference', 'direct'),
    conditions: fc.array(fc.option(condition, { nil: undefined }), { minLength: 6, maxLength: 6 }),
    transforms: fc.array(fc.array(transform, { maxLength: 2 }), { minLength: 6, maxLength: 6 }),
    strategy: fc.constantFrom('depth_first', 'breadth_first'),
    maxTransitions: fc.integer({ min: 1, max: 100 }),
  })
  .map(({ names, mode, conditions, transforms, strategy, maxTransitions }) => ({
    name: 'fuzz',
    data_mode: mode,
    execution_strategy: strategy,
    max_transitions: maxTransitions,
    states: names.map((name, i) => {
      const state: Record<string, unknown> = { name };
      if (i === 0) state.is_start = true;
      if (i === names.length - 1) state.is_end = true;
      else {
        const next = names[i + 1] as string;
        const arcs: Record<string, unknown>[] = [{ target: next }];
        const when = conditions[i];
        // A conditional arc to the end, then the unconditional one: never stuck.
        if (when) arcs.unshift({ target: names[names.length - 1], condition: when, priority: 1 });
        state.arcs = arcs;
      }
      if ((transforms[i] ?? []).length > 0) state.transforms = transforms[i];
      return state;
    }),
  }));

// --- mutations ------------------------------------------------------------------------------------

function deep(levels: number): unknown {
  let o: unknown = [];
  for (let i = 0; i < levels; i++) o = { a: o };
  return o;
}

const HOSTILE_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', ''];
const hostileValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(...HOSTILE_NAMES),
  fc.constantFrom(
    { $include: '/etc/passwd' },
    { $include: '../../../../etc/hostname' },
    { $import: '/dev/zero' },
    { $import: '/proc/self/environ' },
    { $include: 'missing.yaml' },
    { type: 'inline', code: 'globalThis.pwned = 1; return data' },
    { type: 'custom', module: 'node:fs', name: 'rmSync' },
    { type: 'registered', name: 'constructor' },
    { type: 'builtin', name: '__proto__' },
    { type: 'builtin', name: 'toString' },
    { type: 'expression', code: '$$.constructor' },
    { type: 'expression', language: 'cel', code: 'data.__proto__' },
  ),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -1, 0, 1e308, 2 ** 53 + 1),
  fc.constant(null).map(() => deep(5_000)),
  fc.constant(null).map(() => 'x'.repeat(100_000)),
  fc.constant(null).map(() => {
    const cycle: Record<string, unknown> = { name: 'c' };
    cycle.self = cycle;
    return cycle;
  }),
  fc
    .dictionary(fc.constantFrom(...HOSTILE_NAMES, 'name', 'states', 'arcs'), fc.jsonValue({ maxDepth: 1 }), {
      maxKeys: 3,
    })
    .map(withProtoKeys),
);

/** JSON.parse keeps `__proto__` as an own key: a config from a file can hold one. */
function withProtoKeys(o: Record<string, unknown>): unknown {
  return JSON.parse(JSON.stringify(o).replace(/"constructor":/g, '"__proto__":')) as unknown;
}

/** Paths into a value (objects and arrays, the root included), at most 12 deep and not around cycles. */
function paths(
  value: unknown,
  prefix: Array<string | number> = [],
  out: Array<Array<string | number>> = [],
  seen = new Set<unknown>(),
) {
  out.push(prefix);
  if (typeof value !== 'object' || value === null || seen.has(value) || prefix.length >= 12) return out;
  seen.add(value);
  const entries: Array<[string | number, unknown]> = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value);
  for (const [k, v] of entries) paths(v, [...prefix, k], out, seen);
  return out;
}

interface Mutation {
  at: number;
  kind: 'replace' | 'delete' | 'add-key' | 'rename-to';
  key: string;
  value: unknown;
}
const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom('replace', 'delete', 'add-key', 'rename-to'),
  key: fc.oneof(
    fc.constantFrom(...HOSTILE_NAMES, 'is_start', 'is_end', 'target', 'name'),
    fc.string({ maxLength: 6 }),
  ),
  value: hostileValue,
});

function mutate(config: Record<string, unknown>, mutations: Mutation[]): unknown {
  let root: unknown = structuredClone(config);
  for (const m of mutations) {
    const all = paths(root);
    const path = all[m.at % all.length] as Array<string | number>;
    if (path.length === 0) {
      if (m.kind === 'replace') root = m.value;
      continue;
    }
    let parent = root as Record<string | number, unknown>;
    for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
    const last = path[path.length - 1] as string | number;
    const target = parent[last];
    if (m.kind === 'replace') parent[last] = m.value;
    else if (m.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete parent[last];
    } else if (typeof target === 'object' && target !== null && !Array.isArray(target)) {
      // Own keys, `__proto__` included, as a parsed file would hold them.
      Object.defineProperty(target, m.key, {
        value: m.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else if (m.kind === 'rename-to' && typeof target === 'string') parent[last] = m.key;
  }
  return root;
}

/** Loads, builds and runs a config: every step either works or fails with an FsmError. */
async function loadBuildRun(source: string | object): Promise<'loaded' | 'refused'> {
  try {
    await loadConfig(source);
  } catch (error) {
    expectTyped(error);
    return 'refused';
  }
  let fsm: SimpleFSM;
  try {
    fsm = await SimpleFSM.create(source);
  } catch (error) {
    expectTyped(error);
    return 'refused';
  }
  try {
    const result = await fsm.process({ a: 1, amount: 20, name: 'n', region: 'EU' }, { timeoutMs: 5_000 });
    expect(typeof result.success).toBe('boolean');
    if (!result.success) expect(typeof result.error?.code).toBe('string');
  } finally {
    await fsm.close();
  }
  return 'loaded';
}

async function expectCleanFsm(): Promise<void> {
  expectPrototypeUntouched();
  expect((globalThis as Record<string, unknown>).pwned).toBeUndefined();
  const fsm = await SimpleFSM.create({
    name: 'clean',
    states: [
      { name: 's', is_start: true, arcs: [{ target: 'e' }] },
      { name: 'e', is_end: true },
    ],
  });
  expect(await fsm.process({ id: 1 })).toMatchObject({ success: true, data: { id: 1 } });
  await fsm.close();
}

describe('fuzz: configs through the loader', () => {
  it(
    'valid configs load, build and run',
    async () => {
      await fc.assert(
        fc.asyncProperty(validConfig, async (config) => {
          expect(await loadBuildRun(config)).toBe('loaded');
          await expectCleanFsm();
        }),
        { numRuns: FUZZ_RUNS, timeout: FUZZ_CASE_TIMEOUT_MS },
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'mutated configs load or fail with an FsmError; nothing leaks into Object.prototype or later FSMs',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          validConfig,
          fc.array(mutation, { minLength: 1, maxLength: 3 }),
          async (config, ms) => {
            await loadBuildRun(mutate(config, ms) as object);
            await expectCleanFsm();
          },
        ),
        { numRuns: FUZZ_RUNS, timeout: FUZZ_CASE_TIMEOUT_MS },
      );
    },
    TEST_TIMEOUT_MS,
  );

  const yamlText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    validConfig.map((c) => JSON.stringify(c)),
    fc.tuple(validConfig, fc.array(mutation, { minLength: 1, maxLength: 2 })).map(([c, ms]) => {
      try {
        return JSON.stringify(mutate(c, ms));
      } catch (error) {
        // A cycle cannot be written as a file: the cyclic YAML cases below stand in for it.
        return `# ${(error as Error).name}\nname: x\n`;
      }
    }),
    fc.constantFrom(
      'a: &a [*a]\n',
      'name: &n x\nstates: &s [{ name: *n, is_start: true, is_end: true, arcs: *s }]\n',
      `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nname: x\nstates: *g\n`,
      'name: x\nstates:\n  $include: /etc/passwd\n',
      'name: x\nstates:\n  $import: /dev/zero\n',
      'name: x\nstates:\n  $include: ../../../../../proc/self/environ\n',
      'name: !!js/function "function () { return 1 }"\n',
      '__proto__: { polluted: 1 }\nname: x\n',
      '{"__proto__": {"polluted": 1}, "name": "x", "states": []}',
      '<<: { polluted: 1 }\nname: x\n',
      `name: x\nstates: ${'['.repeat(5_000)}${']'.repeat(5_000)}\n`,
      `${'- '.repeat(3_000)}x\n`,
    ),
  );

  it(
    'random and hostile YAML/JSON files load or fail with an FsmError, in bounded time',
    async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(yamlText, fc.constantFrom('yaml', 'json'), async (text, ext) => {
          const file = join(dir, `c${++n}.${ext}`);
          writeFileSync(file, text);
          await loadBuildRun(file);
          await expectCleanFsm();
        }),
        { numRuns: FUZZ_RUNS, timeout: FUZZ_CASE_TIMEOUT_MS },
      );
    },
    TEST_TIMEOUT_MS,
  );
});
