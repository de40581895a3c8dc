/**
 * W9's floor: the etl-demo's work written by hand, the way a careful Node developer would without @fsm —
 * csv-parse, the same checks and arithmetic, one prepared better-sqlite3 upsert in transactions of 1000,
 * one JSON line per record in `fsm run`'s format. Runs as its own process so its peak RSS is its own.
 *
 *   node etl-floor.js <orders.csv> <results.jsonl> <warehouse.db>
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse';

const ORDER_ID = /^[A-Z]-[0-9]{4}$/;
const REGIONS = new Set(['EU', 'US', 'APAC']);
const TAX_RATE: Record<string, number> = { EU: 0.2, APAC: 0.1 };
const TRANSACTION_ROWS = 1000;

/** JSONata's `$round`: half to even, decimal-exact through the exponent notation (as the config's expressions round). */
export function roundHalfEven(value: number, precision: number): number {
  const [mantissa, exponent] = value.toString().split('e');
  const shifted = +`${mantissa}e${exponent ? +exponent + precision : precision}`;
  let result = Math.round(shifted);
  if (Math.abs(result - shifted) === 0.5 && Math.abs(result % 2) === 1) result -= 1;
  const [m, e] = result.toString().split('e');
  result = +`${m}e${e ? +e - precision : -precision}`;
  return Object.is(result, -0) ? 0 : result;
}

/** The same casting as `fsm run`'s CSV reader: numbers and booleans typed, the rest strings. */
function cast(value: string): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value)) {
    const n = Number(value);
    if (Number.isFinite(n)) return n;
  }
  return value;
}

interface Order {
  order_id: string;
  customer: string;
  amount: number;
  region: string;
  tax?: number;
  total?: number;
  channel?: string;
}

function invalidReason(r: Record<string, unknown>): string | undefined {
  for (const field of ['order_id', 'customer', 'amount', 'region'])
    if (!Object.hasOwn(r, field)) return `must have required property '${field}'`;
  if (typeof r.order_id !== 'string') return '/order_id: must be string';
  if (!ORDER_ID.test(r.order_id)) return '/order_id: must match pattern "^[A-Z]-[0-9]{4}$"';
  if (typeof r.customer !== 'string') return '/customer: must be string';
  if (typeof r.amount !== 'number') return '/amount: must be number';
  if (r.amount < 0) return '/amount: must be >= 0';
  if (typeof r.region !== 'string' || !REGIONS.has(r.region))
    return '/region: must be equal to one of the allowed values';
  return undefined;
}

export async function runFloor(input: string, output: string, warehouse: string): Promise<void> {
  const db = new Database(warehouse);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    'create table if not exists orders (order_id varchar(32) primary key, customer varchar(32), region varchar(8), amount double precision, tax double precision, total double precision, channel varchar(16))',
  );
  const upsert = db.prepare(
    'insert into orders (order_id, customer, region, amount, tax, total, channel) values (?, ?, ?, ?, ?, ?, ?) on conflict (order_id) do update set customer = excluded.customer, region = excluded.region, amount = excluded.amount, tax = excluded.tax, total = excluded.total, channel = excluded.channel',
  );
  const pending: Order[] = [];
  const flush = db.transaction((rows: Order[]) => {
    for (const o of rows) upsert.run(o.order_id, o.customer, o.region, o.amount, o.tax, o.total, o.channel);
  });
  const out = createWriteStream(output);
  const write = async (line: string) => {
    if (!out.write(line)) await once(out, 'drain');
  };
  const parser = createReadStream(input).pipe(parse({ columns: true, cast }));
  for await (const row of parser as AsyncIterable<Record<string, unknown>>) {
    const reason = invalidReason(row);
    if (reason !== undefined) {
      await write(
        `${JSON.stringify({ success: false, finalState: 'extract', data: row, path: ['extract'], error: { code: 'VALIDATION_FAILED', message: `schema of state "extract" failed: ${reason}`, state: 'extract', network: 'main' } })}\n`,
      );
      continue;
    }
    const order = row as unknown as Order;
    order.amount = roundHalfEven(order.amount, 2);
    order.tax = roundHalfEven(order.amount * (TAX_RATE[order.region] ?? 0.07), 2);
    order.total = roundHalfEven(order.amount + order.tax, 2);
    order.channel = order.total > 1000 ? 'review' : order.region === 'US' ? 'express' : 'standard';
    pending.push(order);
    if (pending.length === TRANSACTION_ROWS) flush(pending.splice(0));
    const path = ['extract', 'normalize', 'tax', 'total', 'priced', 'route', order.channel, 'load', 'loaded'];
    await write(`${JSON.stringify({ success: true, finalState: 'loaded', data: order, path })}\n`);
  }
  if (pending.length > 0) flush(pending.splice(0));
  out.end();
  await once(out, 'finish');
  db.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [input, output, warehouse] = process.argv.slice(2);
  if (!input || !output || !warehouse) {
    process.stderr.write('usage: etl-floor <orders.csv> <results.jsonl> <warehouse.db>\n');
    process.exit(2);
  }
  await runFloor(input, output, warehouse);
}
