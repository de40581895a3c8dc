import { describe, expect, it } from 'vitest';
import { SimpleFSM } from '../api/simple-fsm.js';
import { MAX_DATA_DEPTH } from '../util/clone.js';

function deep(levels: number): unknown {
  let value: unknown = { leaf: 1 };
  for (let i = 0; i < levels; i++) value = { next: value };
  return value;
}

const config = (mode: string, isolation = 'copy') => ({
  name: 'deep',
  main_network: 'main',
  data_mode: { default: mode },
  networks: [
    {
      name: 'main',
      states: [
        {
          name: 's',
          is_start: true,
          transforms: [{ type: 'builtin', name: 'set_fields', params: { values: { seen: true } } }],
          arcs: [{ target: 'e', target_network: 'sub', return_state: 'e', data_isolation: isolation }],
        },
        { name: 'e', is_end: true },
      ],
    },
    { name: 'sub', states: [{ name: 'x', is_start: true, is_end: true }] },
  ],
});

describe('one bad record fails alone', () => {
  for (const mode of ['copy', 'reference', 'direct']) {
    for (const isolation of ['copy', 'serialize', 'reference']) {
      it(`a record nested ${100_000} levels deep is DATA_INVALID (${mode} mode, ${isolation} push)`, async () => {
        for (const history of [false, true]) {
          const fsm = await SimpleFSM.create(config(mode, isolation), { history });
          const batch = await fsm.processBatch([{ id: 1 }, deep(100_000), { id: 3 }]);
          expect(batch.results.map((r) => r.success)).toEqual([true, false, true]);
          const bad = batch.results[1];
          expect(bad?.error?.code).toBe('DATA_INVALID');
          expect(bad?.error?.message).toContain(`deeper than ${MAX_DATA_DEPTH} levels`);
          expect(batch.results[2]?.data).toMatchObject({ id: 3, seen: true });
          const single = await fsm.process(deep(100_000));
          expect(single.error?.code).toBe('DATA_INVALID');
          await fsm.close();
        }
      });
    }
  }

  it('a record just under the limit runs', async () => {
    const fsm = await SimpleFSM.create(config('copy'), { history: true });
    expect((await fsm.process(deep(MAX_DATA_DEPTH - 2))).success).toBe(true);
    await fsm.close();
  });
});
