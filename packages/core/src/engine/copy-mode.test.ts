import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SimpleFSM } from '../api/simple-fsm.js';
import { defineBuiltin } from '../functions/index.js';

/** Expression-only states skip the copy of copy mode (expressions never change their input): its guarantees hold. */
const config = (second: unknown[]) => ({
  name: 'pure',
  main_network: 'main',
  networks: [
    {
      name: 'main',
      states: [
        {
          name: 'a',
          is_start: true,
          transforms: [{ type: 'expression', code: '$merge([$, { "a": 1 }])' }],
          arcs: [{ target: 'b' }],
        },
        { name: 'b', transforms: second, arcs: [{ target: 'end' }] },
        { name: 'end', is_end: true },
      ],
    },
  ],
});

describe('copy mode with expression transforms', () => {
  it('a mutating function after expressions (which share nested objects) still cannot reach the caller’s input', async () => {
    const fsm = await SimpleFSM.create(
      config([{ type: 'expression', code: '$merge([$, { "b": 2 }])' }, 'poke']),
      {
        functions: {
          poke: (d: { inner: { k: number; list: number[] } }) => {
            d.inner.k = 99;
            d.inner.list.push(3);
          },
        },
      },
    );
    const input = { inner: { k: 1, list: [1, 2] } };
    const r = await fsm.process(input);
    expect(r.success).toBe(true);
    expect(input).toEqual({ inner: { k: 1, list: [1, 2] } });
    expect(r.data).toEqual({ inner: { k: 99, list: [1, 2, 3] }, a: 1, b: 2 });
    await fsm.close();
  });

  it('a state whose second expression fails leaves the data of the state before it', async () => {
    const fsm = await SimpleFSM.create(
      config([
        { type: 'expression', code: '$merge([$, { "b": 2 }])' },
        { type: 'expression', code: '$error("boom")' },
      ]),
    );
    const input = { inner: { k: 1 } };
    const r = await fsm.process(input);
    expect(r.success).toBe(false);
    expect(r.finalState).toBe('b');
    expect(r.data).toEqual({ inner: { k: 1 }, a: 1 });
    expect(input).toEqual({ inner: { k: 1 } });
    await fsm.close();
  });

  it('a pure builtin is given the record itself, any other function a copy', async () => {
    const seen: unknown[] = [];
    const look = (name: string, pure: boolean) =>
      defineBuiltin({
        name,
        roles: ['transform'],
        description: 'records what it is given',
        params: z.object({}),
        ...(pure ? { pure: true } : {}),
        create: () => (data: unknown) => {
          seen.push(data);
          return data;
        },
      });
    const oneState = (name: string) => ({
      name: 'one',
      main_network: 'main',
      networks: [
        {
          name: 'main',
          states: [
            {
              name: 's',
              is_start: true,
              transforms: [{ type: 'builtin', name }],
              arcs: [{ target: 'end' }],
            },
            { name: 'end', is_end: true },
          ],
        },
      ],
    });
    const builtins = [...look('look_pure', true), ...look('look_impure', false)];
    const input = { n: 1 };
    const pure = await SimpleFSM.create(oneState('look_pure'), { builtins });
    const impure = await SimpleFSM.create(oneState('look_impure'), { builtins });
    expect((await pure.process(input)).success).toBe(true);
    expect((await impure.process(input)).success).toBe(true);
    expect(seen[0]).toBe(input);
    expect(seen[1]).not.toBe(input);
    expect(seen[1]).toEqual(input);
    await pure.close();
    await impure.close();
  });
});
