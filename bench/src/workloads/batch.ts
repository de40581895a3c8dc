import { SimpleFSM } from '@fsm/core';

/** W3: records through 2 async transforms at bounded concurrency, @fsm `processBatch` vs a promise pool. */
export interface Item {
  id: number;
  v: number;
}

/** One await per transform: the async boundary is what this workload costs, not the arithmetic. */
export const work = async (r: Item): Promise<Item> => {
  await Promise.resolve();
  r.v += 1;
  return r;
};

export const items = (count: number): Item[] => Array.from({ length: count }, (_, id) => ({ id, v: 0 }));

/** The floor: `concurrency` workers pull the next record and run both transforms on it. */
export async function floorPool(records: Item[], concurrency: number): Promise<Item[]> {
  const out: Item[] = new Array(records.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < records.length) {
        const index = next++;
        const record = records[index] as Item;
        out[index] = await work(await work(record));
      }
    }),
  );
  return out;
}

export function batchFsm(): Promise<SimpleFSM> {
  return SimpleFSM.create(
    {
      name: 'w3',
      data_mode: { default: 'reference' },
      states: [
        { name: 'a', is_start: true, transforms: ['work'], arcs: [{ target: 'b' }] },
        { name: 'b', transforms: ['work'], arcs: [{ target: 'c' }] },
        { name: 'c', is_end: true },
      ],
    },
    { functions: { work } },
  );
}
