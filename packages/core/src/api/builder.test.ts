import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { defineFsm } from './builder.js';

const example = (file: string) =>
  fileURLToPath(new URL(`../../../../examples/dataknobs/${file}`, import.meta.url));

describe('defineFsm builder', () => {
  it('produces the same config object as the YAML (order-routing)', async () => {
    const built = defineFsm('order_routing')
      .version('1.0.0')
      .description('Validate incoming orders, price them, and route by value and region.')
      .dataMode('copy')
      .maxTransitions(50)
      .state('receive', {
        is_start: true,
        schema: {
          type: 'object',
          required: ['order_id', 'amount', 'region'],
          properties: {
            order_id: { type: 'string' },
            amount: { type: 'number', minimum: 0 },
            region: { type: 'string' },
          },
        },
      })
      .arc('receive', 'price')
      .state('price', {
        transforms: [
          { type: 'expression', code: '$merge([$, { "total": amount * (region = "EU" ? 1.2 : 1.0) }])' },
        ],
      })
      .arc('price', 'manual_review', {
        priority: 10,
        condition: { type: 'expression', code: 'total > 1000' },
      })
      .arc('price', 'express', { priority: 5, condition: { type: 'expression', code: 'region = "US"' } })
      .arc('price', 'standard')
      .state('manual_review', { is_end: true })
      .state('express', { is_end: true })
      .state('standard', { is_end: true })
      .build();
    expect(built).toEqual(await loadConfig(example('order-routing.yaml')));
  });

  it('builds sub-networks and push arcs like the YAML (enrich-with-subnetwork)', async () => {
    const built = defineFsm('customer_enrichment')
      .state('start', { is_start: true })
      .state('enrich')
      .push('enrich', 'scoring', 'score_done', {
        data_isolation: 'copy',
        data_mapping: { customer_id: 'id', spend: 'amount' },
        result_mapping: { score: 'risk_score' },
      })
      .state('score_done')
      .state('accepted', { is_end: true })
      .state('rejected', { is_end: true })
      .arc('start', 'enrich')
      .arc('score_done', 'rejected', {
        condition: { type: 'expression', code: 'risk_score >= 0.8' },
        priority: 1,
        name: 'too_risky',
      })
      .arc('score_done', 'accepted', { name: 'ok' })
      .network('scoring', (n) =>
        n
          .state('compute', {
            is_start: true,
            transforms: [{ type: 'expression', code: '$merge([$, { "score": amount > 5000 ? 0.9 : 0.1 }])' }],
          })
          .arc('compute', 'scored')
          .state('scored', { is_end: true }),
      )
      .build();
    expect(built).toEqual(await loadConfig(example('enrich-with-subnetwork.yaml')));
  });

  it('execute() runs a record with registered, typed functions', async () => {
    interface Order {
      amount: number;
      big?: boolean;
    }
    const fsm = defineFsm<Order>('typed')
      .register('mark', (order: Order) => ({ ...order, big: order.amount > 100 }))
      .state('in', { is_start: true, transforms: ['mark'] })
      .arc('in', 'out')
      .state('out', { is_end: true });
    const result = await fsm.execute({ amount: 500 });
    expect(result).toMatchObject({ success: true, finalState: 'out', data: { amount: 500, big: true } });
  });

  it('refuses an arc from an undeclared state', () => {
    expect(() => defineFsm('x').arc('nowhere', 'else')).toThrow(/unknown state "nowhere"/);
  });
});
