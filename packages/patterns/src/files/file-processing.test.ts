import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Aggregator } from './aggregate.js';
import { processFile } from './file-processing.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const csv = join(dir, 'orders.csv');
writeFileSync(csv, 'id,region,amount\n1,EU,10\n2,US,50\n3,EU,30\n4,EU,x\n5,US,5\n6,APAC,70\n');
const schema = {
  type: 'object',
  required: ['id', 'region', 'amount'],
  properties: { amount: { type: 'number' } },
};

describe('file processing pattern', () => {
  it('validates, filters, transforms in a chain, and writes the kept records', async () => {
    const output = join(dir, 'kept.jsonl');
    const stats = await processFile({
      input: csv,
      output,
      schema,
      filter: 'amount >= 10',
      transforms: [
        { type: 'expression', code: '$merge([$, { "amount_cents": amount * 100 }])' },
        { type: 'builtin', name: 'drop_fields', params: { fields: ['amount'] } },
      ],
    });
    expect(stats).toEqual({ records: 6, kept: 4, dropped: 1, invalid: 1 });
    const rows = readFileSync(output, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toEqual([
      { id: 1, region: 'EU', amount_cents: 1000 },
      { id: 2, region: 'US', amount_cents: 5000 },
      { id: 3, region: 'EU', amount_cents: 3000 },
      { id: 6, region: 'APAC', amount_cents: 7000 },
    ]);
  });

  it('aggregates by group with sum/count/min/max/avg/collect into a CSV', async () => {
    const output = join(dir, 'by-region.csv');
    const stats = await processFile({
      input: csv,
      output,
      schema,
      aggregate: {
        groupBy: ['region'],
        metrics: {
          orders: { op: 'count' },
          total: { op: 'sum', field: 'amount' },
          smallest: { op: 'min', field: 'amount' },
          largest: { op: 'max', field: 'amount' },
          mean: { op: 'avg', field: 'amount' },
          ids: { op: 'collect', field: 'id' },
        },
      },
    });
    expect(stats.groups).toBe(3);
    expect(readFileSync(output, 'utf8')).toBe(
      'region,orders,total,smallest,largest,mean,ids\nEU,2,40,10,30,20,"[1,3]"\nUS,2,55,5,50,27.5,"[2,5]"\nAPAC,1,70,70,70,70,[6]\n',
    );
  });

  it('aggregation keeps one accumulator per group: 200k records, 10 groups', () => {
    const agg = new Aggregator({
      groupBy: ['g'],
      metrics: { n: { op: 'count' }, s: { op: 'sum', field: 'v' } },
    });
    for (let i = 0; i < 200_000; i++) agg.add({ g: i % 10, v: 1 });
    const rows = agg.rows();
    expect(rows).toHaveLength(10);
    expect(rows[0]).toEqual({ g: 0, n: 20_000, s: 20_000 });
  });
});
