import { describe, expect, it } from 'vitest';
import { SimpleFSM } from '../api/simple-fsm.js';

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
});
