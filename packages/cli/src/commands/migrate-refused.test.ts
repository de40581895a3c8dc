import { describe, expect, it } from 'vitest';
import { migrateConfig } from './migrate.js';

/** A dataknobs config whose one state runs `transforms`. */
const config = (transforms: unknown[]) => ({
  name: 'x',
  states: [
    { name: 'a', is_start: true, transforms, arcs: [{ target: 'b' }] },
    { name: 'b', is_end: true },
  ],
});

describe('fsm migrate: builtins that refuse their params need action', () => {
  it('dataknobs members with no equivalent here are listed with what to use, not as renames', () => {
    const report = migrateConfig(
      config([
        { type: 'builtin', name: 'streaming.ChunkReader', params: { source: 'in.csv' } },
        { type: 'custom', module: 'dataknobs_fsm.functions.library.identity', name: 'KeyColumnsIdentity' },
        { type: 'builtin', name: 'database.BatchCommit', params: { resource_name: 'db' } },
        // dataknobs' LookupMergeEnricher has no `table`: here one is needed.
        {
          type: 'custom',
          module: 'dataknobs_fsm.functions.library.enrichers',
          name: 'LookupMergeEnricher',
          params: { resource_name: 'db', match: { id: 'id' } },
        },
        { type: 'builtin', name: 'streaming.RecordParser', params: { format: 'json' } },
      ]),
    );
    expect(report.refused.map((r) => r.name)).toEqual([
      'streaming.ChunkReader',
      'identity.KeyColumnsIdentity',
      'database.BatchCommit',
      'enrichers.LookupMergeEnricher',
    ]);
    expect(report.refused[0]?.message).toMatch(/@fsm\/io/);
    expect(report.refused[1]?.message).toMatch(/key_columns/);
    expect(report.refused[3]?.message).toMatch(/table/);
    expect(report.renamed.map((r) => r.name)).toEqual(['streaming.RecordParser']);
  });
});
