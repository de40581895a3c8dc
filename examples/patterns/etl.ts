// ETL: a CSV of sales → validate → map/convert → enrich → SQLite, rejects in their own table, resumable.
import { runEtl } from '@fsm/patterns';

export async function salesEtl(input: string, warehouse: string, checkpointFile: string) {
  return runEtl({
    source: input,
    schema: {
      type: 'object',
      required: ['sale_id', 'amount', 'country'],
      properties: {
        sale_id: { type: 'integer' },
        amount: { type: 'number', minimum: 0 },
        country: { type: 'string' },
      },
    },
    mapping: { id: 'sale_id', amount: 'amount', country: 'country' },
    enrich: (sale: { amount: number; country: string }) => ({
      ...sale,
      country: sale.country.toUpperCase(),
      gross: Math.round(sale.amount * 119) / 100,
    }),
    load: {
      database: {
        dialect: 'sqlite',
        filename: warehouse,
        initSql: [
          'create table if not exists sales (id integer primary key, amount real, country text, gross real)',
          'create table if not exists sales_rejects (line integer primary key, stage text, code text, message text, record text)',
        ],
      },
      table: 'sales',
      key: ['id'],
      rejectsTable: 'sales_rejects',
    },
    maxErrorRate: 0.2,
    checkpoint: { path: checkpointFile, streamId: 'sales' },
  });
}
