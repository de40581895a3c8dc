// File processing: validate, filter, transform and aggregate a CSV into per-region totals.
import { processFile } from '@fsm/patterns';

export function regionTotals(input: string, output: string) {
  return processFile({
    input,
    output,
    schema: { type: 'object', required: ['region', 'amount'], properties: { amount: { type: 'number' } } },
    filter: 'amount > 0',
    transforms: [{ type: 'expression', code: '$merge([$, { "region": $uppercase(region) }])' }],
    aggregate: {
      groupBy: ['region'],
      metrics: {
        orders: { op: 'count' },
        total: { op: 'sum', field: 'amount' },
        average: { op: 'avg', field: 'amount' },
      },
    },
  });
}
