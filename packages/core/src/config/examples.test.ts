import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { loadConfig, loadConfigWithWarnings } from './index.js';

const examples = fileURLToPath(new URL('../../../../examples/dataknobs/', import.meta.url));

describe('dataknobs example configs', () => {
  test('order-routing loads with 5 states and the price arcs kept in declaration order', async () => {
    const { config, warnings } = await loadConfigWithWarnings(`${examples}order-routing.yaml`);
    expect(warnings).toEqual([]);
    expect(config.name).toBe('order_routing');
    expect(config.max_transitions).toBe(50);
    expect(config.main_network).toBe('main');
    const [main] = config.networks;
    expect(main?.states.map((s) => s.name)).toEqual([
      'receive',
      'price',
      'manual_review',
      'express',
      'standard',
    ]);
    const price = main?.states.find((s) => s.name === 'price');
    expect(price?.arcs.map((a) => [a.target, a.priority])).toEqual([
      ['manual_review', 10],
      ['express', 5],
      ['standard', 0],
    ]);
    expect(price?.arcs[0]?.condition).toEqual({ type: 'expression', code: 'total > 1000' });
    expect(main?.states[0]?.schema).toMatchObject({ required: ['order_id', 'amount', 'region'] });
  });

  test('enrich-with-subnetwork moves network-level arcs onto start and score_done, keeping names', async () => {
    const config = await loadConfig(`${examples}enrich-with-subnetwork.yaml`);
    const main = config.networks.find((n) => n.name === 'main');
    const state = (name: string) => main?.states.find((s) => s.name === name);
    expect(state('start')?.arcs).toEqual([{ target: 'enrich', priority: 0 }]);
    expect(state('score_done')?.arcs).toEqual([
      {
        target: 'rejected',
        priority: 1,
        name: 'too_risky',
        condition: { type: 'expression', code: 'risk_score >= 0.8' },
      },
      { target: 'accepted', priority: 0, name: 'ok' },
    ]);
    expect(state('enrich')?.arcs).toEqual([
      {
        target: 'score_done',
        priority: 0,
        target_network: 'scoring',
        return_state: 'score_done',
        data_isolation: 'copy',
        data_mapping: { customer_id: 'id', spend: 'amount' },
        result_mapping: { score: 'risk_score' },
      },
    ]);
    expect(config.networks.map((n) => n.name)).toEqual(['main', 'scoring']);
  });

  test('retry-loop shorthand becomes one network named main with registered transform names', async () => {
    const { config, warnings } = await loadConfigWithWarnings(`${examples}retry-loop.yaml`);
    expect(warnings).toEqual([]);
    expect(config.main_network).toBe('main');
    expect(config.networks).toHaveLength(1);
    const main = config.networks[0];
    expect(main?.name).toBe('main');
    const attempt = main?.states.find((s) => s.name === 'attempt');
    expect(attempt?.transforms).toEqual(['call_service']);
    expect(attempt?.arcs.map((a) => [a.target, a.priority])).toEqual([
      ['done', 2],
      ['attempt', 1],
      ['gave_up', 0],
    ]);
  });
});
