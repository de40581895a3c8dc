import { describe, expect, test } from 'vitest';
import { normalizeConfig } from './index.js';
import { issuesOf } from './test-support/helpers.js';

const env = {};

describe('enums in any case, as dataknobs-fsm writes them', () => {
  test('data modes, strategies, isolation modes, function types and semantics normalise to lowercase', () => {
    const { config } = normalizeConfig(
      {
        name: 'x',
        main_network: 'main',
        data_mode: 'COPY',
        execution_strategy: 'Depth_First',
        semantics: 'DataKnobs',
        networks: [
          {
            name: 'main',
            states: [
              {
                name: 'a',
                is_start: true,
                data_mode: 'Reference',
                transforms: [{ type: 'BUILTIN', name: 'identity' }],
                arcs: [{ target: 'b', target_network: 'sub', data_isolation: 'SERIALIZE' }],
              },
              { name: 'b', is_end: true, data_mode: 'DIRECT' },
            ],
          },
          { name: 'sub', states: [{ name: 's', is_start: true, is_end: true }] },
        ],
      },
      { env },
    );
    expect(config.data_mode.default).toBe('copy');
    expect(config.execution_strategy).toBe('depth_first');
    expect(config.semantics).toBe('dataknobs');
    const [a, b] = config.networks[0]?.states ?? [];
    expect(a?.data_mode).toBe('reference');
    expect(b?.data_mode).toBe('direct');
    expect(a?.transforms).toEqual([{ type: 'builtin', name: 'identity' }]);
    expect(a?.arcs[0]?.data_isolation).toBe('serialize');
  });

  test('a data_mode object takes any case too', () => {
    const { config } = normalizeConfig(
      {
        name: 'x',
        data_mode: { default: 'Direct', state_overrides: { a: 'REFERENCE' } },
        states: [{ name: 'a', is_start: true, is_end: true }],
      },
      { env },
    );
    expect(config.data_mode).toEqual({ default: 'direct', state_overrides: { a: 'reference' } });
  });

  test('a value that is no spelling of an option keeps the plain enum message', () => {
    const issues = issuesOf(() =>
      normalizeConfig({ name: 'x', data_mode: 'COPYY', execution_strategy: 7, states: [] }, { env }),
    );
    expect(issues).toEqual([
      { path: 'data_mode', message: 'Invalid option: expected one of "copy"|"reference"|"direct"' },
      {
        path: 'execution_strategy',
        message:
          'Invalid option: expected one of "depth_first"|"breadth_first"|"resource_optimized"|"stream_optimized"',
      },
    ]);
  });
});
