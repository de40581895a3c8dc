import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { SimpleFSM } from '../api/simple-fsm.js';
import { compileExpression } from './expressions.js';
import type { FunctionContext } from './types.js';

const ctx = (params: Record<string, unknown> = {}): FunctionContext =>
  ({ state: 's', network: 'main', executionId: 'e', params, variables: {} }) as unknown as FunctionContext;

const cel = (code: string) => compileExpression(code, 'cel', 'p');
const run = (code: string, data: unknown, params: Record<string, unknown> = {}) =>
  cel(code).evaluate(data, ctx(params));

describe('CEL: integral JSON numbers are CEL ints', () => {
  it('integer arithmetic on record numbers works (id % 2 == 1)', () => {
    expect(run('id % 2 == 1', { id: 3 })).toBe(true);
    expect(run('id % 2 == 1', { id: 4 })).toBe(false);
    expect(run('data.id % 2', { id: 7 })).toBe(1);
    expect(run('a + b', { a: 2, b: 3 })).toBe(5);
    expect(run('a / 2', { a: 7 })).toBe(3);
    expect(run('a / 2', { a: 7.5 })).toBe(3.75);
  });

  it('doubles compare with int literals and ints with doubles', () => {
    expect(run('total > 1000', { total: 1000.5 })).toBe(true);
    expect(run('total > 1000', { total: 999.5 })).toBe(false);
    expect(run('total > 1000', { total: 1001 })).toBe(true);
    expect(run('total >= 1000.5', { total: 1001 })).toBe(true);
    expect(run('amount == 100', { amount: 100 })).toBe(true);
  });

  it('arithmetic mixing an int and a double is done in doubles', () => {
    expect(run('amount * 1.5', { amount: 100 })).toBe(150);
    expect(run('amount * 1.5', { amount: 100.5 })).toBe(150.75);
    expect(run('a + b', { a: 1, b: 0.5 })).toBe(1.5);
    expect(run('0.5 - a', { a: 1 })).toBe(-0.5);
  });

  it('results come back as JS numbers, nested ones too', () => {
    const out = run('items.map(i, i.qty * 2)', { items: [{ qty: 1 }, { qty: 2 }] });
    expect(out).toEqual([2, 4]);
    expect(typeof (out as unknown[])[0]).toBe('number');
    const data = { id: 1, nested: { list: [1, 2.5, { n: 3 }] }, s: 'x' };
    const echoed = run('data', data) as Record<string, unknown>;
    expect(echoed).toEqual(data);
    expect(JSON.stringify(echoed)).toBe(JSON.stringify(data));
    expect(run('params.limit + 1', {}, { limit: 3 })).toBe(4);
    expect(run('amount > params.limit', { amount: 4 }, { limit: 3 })).toBe(true);
  });

  it('does not change the record and only converts the fields it names', () => {
    const data = { id: 3, other: { deep: [1, 2, 3] } };
    expect(run('id + 1', data)).toBe(4);
    expect(data).toEqual({ id: 3, other: { deep: [1, 2, 3] } });
    expect(typeof data.id).toBe('number');
  });

  it('data.<field> reads only those fields; data used whole is the whole record', () => {
    expect(run('has(data.email) && data.email.contains("@")', { email: 'a@b', id: 1 })).toBe(true);
    expect(run('has(data.email)', { id: 1 })).toBe(false);
    expect(run('data.order.qty * 2 == 4', { order: { qty: 2 } })).toBe(true);
    expect(run('size(data) == 2 && data.id == 1', { id: 1, n: 2.5 })).toBe(true);
    expect(() => run('x > 1', { y: 1 })).toThrow(/Unknown variable: x/);
    // The same compiled expression on consecutive records: nothing of one record leaks into the next.
    const e = cel('has(data.a) ? a + 1 : 0');
    expect(e.evaluate({ a: 1 }, ctx())).toBe(2);
    expect(e.evaluate({ b: 1 }, ctx())).toBe(0);
  });

  it('an evaluation re-entered from a getter in the data keeps its own variables', () => {
    const e = cel('inner + outer');
    const data = {
      outer: 1,
      get inner() {
        return e.evaluate({ inner: 10, outer: 20 }, ctx()) as number;
      },
    };
    expect(e.evaluate(data, ctx())).toBe(31);
  });

  it('integers beyond 2^53 and non-integral numbers stay doubles', () => {
    expect(run('big > 1', { big: 2 ** 60 })).toBe(true);
    expect(run('big + 1', { big: 2 ** 60 })).toBe(2 ** 60 + 1);
    expect(() => run('x % 2', { x: 2.5 })).toThrow(/CEL expression "x % 2" failed/);
  });

  it('a record key named __proto__ is an ordinary key and pollutes nothing', () => {
    const data = JSON.parse('{"__proto__": {"polluted": 1}, "n": 2}') as Record<string, unknown>;
    expect(run('n * 2', data)).toBe(4);
    expect(run('data.n + 1', data)).toBe(3);
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('JSONata expressions run as compiled synchronous closures', () => {
  it('compiles to sync: true, falls back to the async interpreter for what it does not cover', async () => {
    const compiled = compileExpression('$merge([$, { "amount": $round(amount, 2) }])', 'jsonata', 'p');
    expect(compiled.sync).toBe(true);
    // JSONata rounds half to even.
    expect(compiled.evaluate({ amount: 2.345 }, ctx())).toEqual({ amount: 2.34 });
    expect(compiled.evaluate({ amount: 2.355 }, ctx())).toEqual({ amount: 2.36 });
    const fallback = compileExpression('items[price > 1].qty', 'jsonata', 'p');
    expect(fallback.sync).toBe(false);
    await expect(fallback.evaluate({ items: [{ price: 2, qty: 5 }] }, ctx())).resolves.toBe(5);
  });

  it('a failing compiled expression throws the interpreter’s message', async () => {
    const compiled = compileExpression('amount + "x"', 'jsonata', 'p');
    expect(compiled.sync).toBe(true);
    expect(() => compiled.evaluate({ amount: 1 }, ctx())).toThrow(
      'JSONata expression "amount + "x"" failed: The right side of the "+" operator must evaluate to a number',
    );
  });

  it('an evaluation re-entered from the data (toJSON) keeps its own root', () => {
    const e = compileExpression('$string(o) & "|" & $string($$.n)', 'jsonata', 'p');
    expect(e.sync).toBe(true);
    const data = { n: 1, o: { toJSON: () => e.evaluate({ n: 2, o: 'x' }, ctx()) } };
    expect(e.evaluate(data, ctx())).toBe('"x|2"|1');
  });

  it('$params, $state and $context are the bindings', () => {
    const e = compileExpression(
      'amount > $params.limit and $state = "s" and $context.network = "main"',
      'jsonata',
      'p',
    );
    expect(e.sync).toBe(true);
    expect(e.evaluate({ amount: 4 }, ctx({ limit: 3 }))).toBe(true);
    expect(e.evaluate({ amount: 2 }, ctx({ limit: 3 }))).toBe(false);
  });

  it('the README ETL (without its warehouse) runs under processSync with the same results as process', async () => {
    const config = parseYaml(
      readFileSync(join(import.meta.dirname, '../../../../apps/etl-demo/etl.yaml'), 'utf8'),
    ) as { resources?: unknown; networks: Array<{ states: Array<Record<string, unknown>> }> };
    delete config.resources;
    for (const network of config.networks) {
      for (const state of network.states) {
        if (state.name === 'load') {
          delete state.resources;
          state.transforms = [];
        }
      }
    }
    const fsm = await SimpleFSM.create(config);
    const orders = [
      { order_id: 'A-0001', customer: 'c1', amount: 1234.567, region: 'EU' },
      { order_id: 'B-0002', customer: 'c2', amount: 50, region: 'US' },
      { order_id: 'C-0003', customer: 'c3', amount: 10.005, region: 'APAC' },
      { order_id: 'bad', customer: 'c4', amount: -1, region: 'XX' },
    ];
    for (const order of orders) {
      const sync = fsm.processSync(order);
      const async = await fsm.process(order);
      expect({ ...sync, executionId: '', durationMs: 0 }).toEqual({
        ...async,
        executionId: '',
        durationMs: 0,
      });
    }
    const high = fsm.processSync(orders[0]);
    expect(high.success).toBe(true);
    expect(high.data).toMatchObject({ amount: 1234.57, tax: 246.91, total: 1481.48, channel: 'review' });
    expect(fsm.processSync(orders[1]).data).toMatchObject({ tax: 3.5, total: 53.5, channel: 'express' });
    expect(fsm.processSync(orders[3]).success).toBe(false);
    await fsm.close();
  });
});
