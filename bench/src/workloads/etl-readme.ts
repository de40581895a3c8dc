/**
 * W9 "the README's ETL": apps/etl-demo/etl.yaml through `fsm run` — the binary a user runs — with no history,
 * with durable SQLite history and with durable PostgreSQL history, against the hand-written floor
 * (etl-floor.ts) doing the same work, each a process of its own so records/s and peak RSS are its own.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';

const root = fileURLToPath(new URL('../../../', import.meta.url));
// FSM_BENCH_W9_ROOT points at another checkout (built) to measure an older version in the same run.
const fsmRoot = process.env.FSM_BENCH_W9_ROOT ?? root;
export const fsmBin = join(fsmRoot, 'packages/cli/dist/bin.js');
export const etlConfig = join(fsmRoot, 'apps/etl-demo/etl.yaml');
// Built: dist/…/etl-floor.js; from source under vitest, Node 24 runs the .ts file itself (types stripped).
export const floorScript = [
  fileURLToPath(new URL('./etl-floor.js', import.meta.url)),
  fileURLToPath(new URL('./etl-floor.ts', import.meta.url)),
].find((file) => existsSync(file)) as string;

const REGIONS = ['EU', 'US', 'APAC'];
/** The config's order ids (`^[A-Z]-[0-9]{4}$`) allow 260 000 distinct orders. */
const DISTINCT = 26 * 10_000;

/**
 * `n` orders as CSV; 0.5 % fail the schema. Every field is a function of the order id, so an order that comes
 * again (beyond 260 000 rows) is the same row and the warehouse does not depend on upsert order.
 */
export async function writeOrders(path: string, n: number): Promise<{ invalid: number }> {
  const out = createWriteStream(path);
  out.write('order_id,customer,amount,region\n');
  let invalid = 0;
  for (let i = 0; i < n; i++) {
    const k = i % DISTINCT;
    let line: string;
    if (i % 200 === 7) {
      invalid++;
      line = `bad-${i},c${k % 997},${(k % 5000) / 10},US\n`;
    } else {
      const id = `${String.fromCharCode(65 + Math.floor(k / 10_000))}-${String(k % 10_000).padStart(4, '0')}`;
      line = `${id},c${String(k % 997).padStart(3, '0')},${(((k * 7919) % 250_000) / 100).toFixed(2)},${REGIONS[k % 3]}\n`;
    }
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { invalid };
}

export interface ProcessRun {
  seconds: number;
  peakRssMb: number;
  exitCode: number;
  stderr: string;
}

/** Runs a node process to its end; its peak RSS is read from /proc (VmHWM) while it runs. */
export async function runMeasured(args: string[], env: Record<string, string> = {}): Promise<ProcessRun> {
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  let peakKb = 0;
  const readPeak = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const hwm = /VmHWM:\s+(\d+)/.exec(status);
      if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
    } catch (error) {
      // The process may have exited between two samples: its last sample stands.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  };
  const sampler = setInterval(readPeak, 25);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(sampler);
  return {
    seconds: (performance.now() - started) / 1000,
    peakRssMb: peakKb / 1024,
    exitCode: code ?? -1,
    stderr,
  };
}

export type Mode = 'floor' | 'fsm' | 'fsm-sqlite' | 'fsm-postgres';

export interface ModeRun extends ProcessRun {
  mode: Mode;
  records: number;
  recordsPerSec: number;
  output: string;
  warehouse: string;
}

/** One system over one input: the floor script or `fsm run` with the given history. */
export async function runMode(
  mode: Mode,
  input: string,
  records: number,
  dir: string,
  postgresUrl: string,
): Promise<ModeRun> {
  const output = join(dir, `${mode}-${records}.jsonl`);
  const warehouse = join(dir, `${mode}-${records}-warehouse.db`);
  rmSync(warehouse, { force: true });
  let run: ProcessRun;
  if (mode === 'floor') {
    run = await runMeasured([floorScript, input, output, warehouse]);
  } else {
    const args = [fsmBin, 'run', etlConfig, '--input', input, '--output', output, '--no-progress'];
    if (mode === 'fsm-sqlite') args.push('--storage', `sqlite:${join(dir, `history-${records}.db`)}`);
    const schema = `bench_w9_${process.pid}_${records}`;
    if (mode === 'fsm-postgres') args.push('--storage', `${postgresUrl}?schema=${schema}`);
    try {
      run = await runMeasured(args, { WAREHOUSE_DB: warehouse, WAREHOUSE_DIALECT: 'sqlite' });
    } finally {
      if (mode === 'fsm-postgres') await dropSchema(postgresUrl, schema);
    }
  }
  // `fsm run` exits 1 when some records failed (the invalid 0.5 %), 2 on a real error.
  if (run.exitCode > 1)
    throw new Error(`W9 ${mode} on ${records} records exited ${run.exitCode}:\n${run.stderr}`);
  return { ...run, mode, records, recordsPerSec: records / run.seconds, output, warehouse };
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

/** A result line as compared between systems: the message of a schema error is the validator's own prose. */
function comparable(line: string): unknown {
  const r = JSON.parse(line) as { error?: { code: string; state?: string } };
  if (r.error) r.error = { code: r.error.code, ...(r.error.state ? { state: r.error.state } : {}) };
  return r;
}

/** Throws unless both runs wrote the same result lines (in order) and the same warehouse rows. */
export async function assertSameOutput(a: ModeRun, b: ModeRun): Promise<void> {
  const linesA = createInterface({ input: createReadStream(a.output), crlfDelay: Infinity });
  const linesB = createInterface({ input: createReadStream(b.output), crlfDelay: Infinity })[
    Symbol.asyncIterator
  ]();
  let n = 0;
  for await (const lineA of linesA) {
    const next = await linesB.next();
    n++;
    if (next.done) throw new Error(`W9: ${b.mode} wrote ${n - 1} result lines, ${a.mode} more`);
    const [x, y] = [comparable(lineA), comparable(next.value)];
    if (!isDeepStrictEqual(x, y))
      throw new Error(`W9: result line ${n} differs:\n  ${a.mode}: ${lineA}\n  ${b.mode}: ${next.value}`);
  }
  if (!(await linesB.next()).done) throw new Error(`W9: ${b.mode} wrote more than ${n} result lines`);
  if (n !== a.records) throw new Error(`W9: ${a.mode} wrote ${n} result lines for ${a.records} records`);
  const rows = (file: string) => {
    const db = new Database(file, { readonly: true });
    try {
      return db
        .prepare(
          'select order_id, customer, region, amount, tax, total, channel from orders order by order_id',
        )
        .raw()
        .all();
    } finally {
      db.close();
    }
  };
  const [rowsA, rowsB] = [rows(a.warehouse), rows(b.warehouse)];
  if (JSON.stringify(rowsA) !== JSON.stringify(rowsB))
    throw new Error(`W9: warehouses differ (${a.mode}: ${rowsA.length} rows, ${b.mode}: ${rowsB.length})`);
}
