/**
 * Generated JSONata expressions over generated records: the compiled closure gives the interpreter's
 * value, undefined or error. Runs FSM_FUZZ_RUNS cases per property (default 1000; `pnpm fuzz` 10 000).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CompiledJsonata } from './compile.js';
import { BINDINGS, compile, compiledOutcome, differ, interpreted } from './test-support/differential.js';

const RUNS = Number(process.env.FSM_FUZZ_RUNS ?? 1000);
const TIMEOUT_MS = Math.max(60_000, RUNS * 50);

describe('JSONata compiler ≡ interpreter (generated)', () => {
  it(
    '$round gives the interpreter’s result for any number and precision (half to even, no -0)',
    async () => {
      const fn = compile('$round(x, p)') as CompiledJsonata;
      const one = compile('$round(x)') as CompiledJsonata;
      const precision = fc.integer({ min: -3, max: 17 });
      const halfway = fc
        .tuple(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.integer({ min: 0, max: 6 }))
        .map(([k, p]) => (k + 0.5) / 10 ** p);
      const number = fc.oneof(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        halfway,
        fc.integer().map((i) => i / 1000),
      );
      await fc.assert(
        fc.asyncProperty(number, precision, async (x, p) => {
          const data = { x, p };
          expect(compiledOutcome(fn, data, BINDINGS)).toStrictEqual(
            await interpreted('$round(x, p)', data, BINDINGS),
          );
          expect(compiledOutcome(one, data, BINDINGS)).toStrictEqual(
            await interpreted('$round(x)', data, BINDINGS),
          );
        }),
        { numRuns: RUNS * 2 },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'generated expressions over generated records give the interpreter’s results',
    async () => {
      const field = fc.constantFrom('a', 'b', 'n', 's', 'o', 'items', 'o.x', 'items.p', 'items.q.r', 'nope');
      const scalar = fc.oneof(
        fc.integer({ min: -20, max: 20 }),
        fc.constantFrom(0.5, 1.5, 2.5, -0.5, 0.125, 1e21, -0, 3.25),
        fc.constantFrom('', 'x', 'Ab ', '10', 'ü'),
        fc.boolean(),
        fc.constant(null),
      );
      const value = fc.oneof(
        { weight: 4, arbitrary: scalar },
        fc.array(scalar, { maxLength: 3 }),
        fc.array(fc.record({ p: scalar, q: fc.record({ r: scalar }) }, { requiredKeys: [] }), {
          maxLength: 3,
        }),
        fc.record({ x: scalar }, { requiredKeys: [] }),
      );
      const record = fc.oneof(
        {
          weight: 6,
          arbitrary: fc.record(
            { a: value, b: value, n: value, s: value, o: value, items: value },
            { requiredKeys: [] },
          ),
        },
        fc.array(fc.record({ a: scalar, p: scalar }), { maxLength: 3 }),
      );
      const literal = fc.oneof(
        fc.integer({ min: -5, max: 100 }).map(String),
        fc.constantFrom('2.5', '0.125', '"x"', '""', '"10"', 'true', 'false', 'null', '1e3'),
      );
      const functions = [
        ['round', 2],
        ['round', 1],
        ['string', 1],
        ['number', 1],
        ['exists', 1],
        ['lowercase', 1],
        ['uppercase', 1],
        ['substring', 2],
        ['substring', 3],
        ['sum', 1],
        ['count', 1],
        ['max', 1],
        ['min', 1],
        ['boolean', 1],
        ['not', 1],
        ['length', 1],
        ['trim', 1],
        ['merge', 1],
        ['lookup', 2],
        ['string', 0],
      ] as const;
      const grammar = (constructors: boolean) =>
        fc.letrec<{ expr: string }>((tie) => ({
          expr: fc.oneof(
            { depthSize: 'small', withCrossShrink: true },
            field,
            literal,
            fc.constantFrom('$', '$$', '$$.a', '$params.limit', '$state', '$context.state'),
            fc
              .tuple(
                tie('expr'),
                fc.constantFrom(
                  '+',
                  '-',
                  '*',
                  '/',
                  '%',
                  '=',
                  '!=',
                  '<',
                  '<=',
                  '>',
                  '>=',
                  'and',
                  'or',
                  '&',
                  'in',
                ),
                tie('expr'),
              )
              .map(([l, op, r]) => `(${l} ${op} ${r})`),
            tie('expr').map((e) => `-(${e})`),
            fc.tuple(tie('expr'), tie('expr'), tie('expr')).map(([c, t, e]) => `(${c} ? ${t} : ${e})`),
            fc
              .array(tie('expr'), { maxLength: constructors ? 3 : 1 })
              .map((items) => `[${items.join(', ')}]`),
            fc
              .array(fc.tuple(fc.constantFrom('"k"', '"a"', 's', '"n"'), tie('expr')), {
                maxLength: constructors ? 2 : 1,
              })
              .map((pairs) => `{${pairs.map(([k, v]) => `${k}: ${v}`).join(', ')}}`),
            fc
              .tuple(fc.constantFrom(...functions), fc.array(tie('expr'), { minLength: 3, maxLength: 3 }))
              .map(([[name, arity], args]) =>
                name === 'merge'
                  ? `$merge([${args.slice(0, constructors ? 2 : 1).join(', ')}])`
                  : `$${name}(${args.slice(0, arity).join(', ')})`,
              ),
            tie('expr').map((e) => `$contains($string(${e}), "1")`),
          ),
        })).expr;
      // With constructors of several items, any error must be an error on both sides...
      await fc.assert(
        fc.asyncProperty(
          grammar(true),
          fc.array(record, { minLength: 1, maxLength: 3 }),
          async (code, records) => {
            expect(typeof compile(code)).toBe('function');
            expect(await differ(code, records, 'thrown')).toEqual([]);
          },
        ),
        { numRuns: RUNS },
      );
      // ...and where only one evaluation order exists, the very same error (code and message).
      await fc.assert(
        fc.asyncProperty(
          grammar(false),
          fc.array(record, { minLength: 1, maxLength: 3 }),
          async (code, records) => {
            expect(typeof compile(code)).toBe('function');
            expect(await differ(code, records, 'code')).toEqual([]);
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT_MS,
  );
});
