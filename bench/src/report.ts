import { FsmError } from '@fsm/core';
import { Bench } from 'tinybench';

// `BENCH_QUICK=1` gives a rough run in ~15 s (CI smoke); the numbers in README come from a full run.
export const quick = process.env.BENCH_QUICK === '1';

/** Records per timed call, so timer overhead does not dominate sub-microsecond work. */
export const CHUNK = 1000;

export interface Row {
  system: string;
  recordsPerSec: number;
}

const perRecord = (recordsPerSec: number): string => {
  const ns = 1e9 / recordsPerSec;
  if (ns < 1_000) return `${ns.toFixed(0)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(1)} µs`;
  return `${(ns / 1_000_000).toFixed(2)} ms`;
};

const ratio = (value: number): string => (value >= 10 ? `${value.toFixed(0)}×` : `${value.toFixed(3)}×`);

/** One table: records/s, mean time per record, ratio to the floor and to the fastest XState row. */
export function table(title: string, rows: Row[], floorName: string): void {
  const floor = rows.find((r) => r.system === floorName)?.recordsPerSec ?? Number.NaN;
  const xstateRates = rows.filter((r) => r.system.startsWith('XState')).map((r) => r.recordsPerSec);
  const xstate = xstateRates.length > 0 ? Math.max(...xstateRates) : undefined;
  console.log(`\n${title}`);
  console.log(
    `${'system'.padEnd(42)}${'records/s'.padStart(13)}${'mean/rec'.padStart(11)}${'vs floor'.padStart(10)}${'vs XState'.padStart(11)}`,
  );
  for (const row of rows) {
    const vsX = xstate === undefined ? '-' : ratio(row.recordsPerSec / xstate);
    console.log(
      `${row.system.padEnd(42)}${Math.round(row.recordsPerSec).toLocaleString('en-US').padStart(13)}${perRecord(row.recordsPerSec).padStart(11)}${ratio(row.recordsPerSec / floor).padStart(10)}${vsX.padStart(11)}`,
    );
  }
}

/** Runs each task (CHUNK records per call) with tinybench and turns its mean latency into records/s. */
export async function measure(tasks: Record<string, () => unknown>): Promise<Row[]> {
  const bench = new Bench({ time: quick ? 150 : 1000, warmupTime: quick ? 50 : 300, iterations: 5 });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  return bench.tasks.map((task) => {
    const result = task.result;
    if (result.state === 'errored') {
      throw new FsmError('FUNCTION_FAILED', `benchmark task "${task.name}" failed: ${result.error.message}`, {
        cause: result.error,
      });
    }
    if (result.state !== 'completed') {
      throw new FsmError('ABORTED', `benchmark task "${task.name}" ended ${result.state}`);
    }
    return { system: task.name, recordsPerSec: (CHUNK * 1000) / result.latency.mean };
  });
}
