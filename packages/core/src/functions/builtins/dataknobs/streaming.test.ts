import { describe, expect, it } from 'vitest';
import { testContext } from '../../test-support/context.js';
import { ConfigError } from '../../../errors/errors.js';
import { createFunctionResolver } from '../../resolver.js';

const ctx = testContext;
const resolver = createFunctionResolver();
const make = async (name: string, params: Record<string, unknown>) =>
  (await resolver.resolve({ type: 'builtin', name, params }, 'transform', 'f')).call;
const run = async (name: string, params: Record<string, unknown>, data: unknown) =>
  (await make(name, params))(data, ctx);

describe('dataknobs enrichers', () => {
  it('build_record_enricher with a field→value map adds the fields the record lacks', async () => {
    for (const name of ['enrichers.build_record_enricher', 'build_record_enricher'])
      expect(await run(name, { spec: { source: 'crm', id: 0 } }, { id: 7 })).toEqual({
        id: 7,
        source: 'crm',
      });
  });

  it('refuses specs dataknobs refuses, and the lookup form without @fsm/resources', async () => {
    await expect(make('enrichers.build_record_enricher', { spec: { database: 'x' } })).rejects.toThrow(
      /ETL-level convenience/,
    );
    await expect(make('enrichers.build_record_enricher', { spec: { match: { a: 'b' } } })).rejects.toThrow(
      /no 'resource' source key/,
    );
    await expect(
      make('enrichers.build_record_enricher', { spec: { resource: 'db', match: { a: 'b' } } }),
    ).rejects.toThrow(ConfigError);
    // A spec key `__proto__` is dropped, never walked: nothing is polluted.
    const spec = JSON.parse('{"__proto__": {"polluted": 1}, "a": 1}');
    const out = await run('enrichers.build_record_enricher', { spec }, { id: 1 });
    expect(out).toEqual({ id: 1, a: 1 });
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('dataknobs streaming', () => {
  it('RecordParser parses json, yaml (1.1) and csv into output_field', async () => {
    expect(await run('streaming.RecordParser', { format: 'json' }, { raw: '{"a":[1,2]}' })).toEqual({
      raw: '{"a":[1,2]}',
      parsed: { a: [1, 2] },
    });
    expect(
      await run(
        'streaming.parse',
        { format: 'yaml', field: 'y', output_field: 'o' },
        { y: 'ok: yes\ncount: 3' },
      ),
    ).toEqual({ y: 'ok: yes\ncount: 3', o: { ok: true, count: 3 } });
    const csv = 'name,city\n"Smith, J","say ""hi"""\n\nx\nb,c,d\n';
    expect((await run('RecordParser', { format: 'csv' }, { raw: csv })) as { parsed: unknown }).toEqual({
      raw: csv,
      parsed: [
        { name: 'Smith, J', city: 'say "hi"' },
        { name: 'x', city: null },
        { name: 'b', city: 'c', null: ['d'] },
      ],
    });
    expect(
      await run('parse', { format: 'csv', options: { delimiter: ';' } }, { raw: 'a;b\r\n1;2\r\n' }),
    ).toMatchObject({ parsed: [{ a: '1', b: '2' }] });
  });

  it('RecordParser passes a record without the field through and fails on bad text', async () => {
    expect(await run('RecordParser', { format: 'json' }, { other: 1 })).toEqual({ other: 1 });
    await expect(run('RecordParser', { format: 'json' }, { raw: '{' })).rejects.toThrow(
      'Failed to parse json (SyntaxError)',
    );
    await expect(make('RecordParser', { format: 'xml' })).rejects.toThrow(/xml/);
  });

  it('StreamAggregator aggregates over every record it has seen', async () => {
    const agg = await make('streaming.StreamAggregator', {
      aggregations: {
        total: { function: 'sum', field: 'v' },
        n: { function: 'count' },
        hi: { function: 'max', field: 'v' },
        mean: { function: 'avg', field: 'v' },
      },
    });
    expect(await agg({ v: 2 }, ctx)).toEqual({ v: 2, aggregation: { total: 2, n: 1, hi: 2, mean: 2 } });
    expect(await agg({ records: [{ v: 4 }, { v: null }] }, ctx)).toEqual({
      records: [{ v: 4 }, { v: null }],
      aggregation: { total: 6, n: 3, hi: 4, mean: 3 },
    });
  });

  it('StreamAggregator groups (first-seen order) and windows', async () => {
    const agg = await make('aggregate', { s: { function: 'sum', field: 'v' } });
    expect(await agg({ v: 1 }, ctx)).toEqual({ v: 1, aggregation: { s: 1 } });
    const grouped = await make('StreamAggregator', {
      aggregations: { s: { function: 'sum', field: 'v' }, lo: { function: 'min', field: 'v' } },
      group_by: ['k'],
      window_size: 2,
    });
    await grouped({ k: 'b', v: 5 }, ctx);
    const out = await grouped(
      {
        records: [
          { k: 'a', v: 1 },
          { k: 'b', v: 2 },
          { k: 'b', v: 3 },
        ],
      },
      ctx,
    );
    expect((out as { aggregations: unknown }).aggregations).toEqual([
      { k: 'b', s: 5, lo: 2 },
      { k: 'a', s: 1, lo: 1 },
    ]);
    await expect(make('StreamAggregator', { aggregations: { s: { function: 'sum' } } })).rejects.toThrow(
      /Field required for sum/,
    );
  });

  it('ChunkReader is refused at load with what to use instead', async () => {
    for (const name of ['streaming.ChunkReader', 'ChunkReader', 'streaming.read_chunks', 'read_chunks'])
      await expect(make(name, { source: 'x.csv' })).rejects.toThrow(/fsm run --input|@fsm\/io/);
  });

  it('identity strategies are refused as config errors naming key_columns', async () => {
    for (const name of ['identity.KeyColumnsIdentity', 'CallableIdentity', 'identity.resolve_identity'])
      await expect(make(name, { key_columns: ['id'] })).rejects.toThrow(ConfigError);
    await expect(make('KeyColumnsIdentity', {})).rejects.toThrow(/key_columns on DatabaseUpsert/);
  });
});
