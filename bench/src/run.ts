import { execSync } from 'node:child_process';
import { Bench } from 'tinybench';
import * as branching from './workloads/branching.js';
import { durableSteps } from './workloads/durable.js';
import { idleExecutions } from './workloads/idle.js';
import * as pipeline from './workloads/pipeline.js';
import { queueScaling } from './workloads/queue.js';
import { csvStream } from './workloads/stream.js';

// `BENCH_QUICK=1` gives a rough run in seconds (CI smoke); the numbers in README come from a full run.
const quick = process.env.BENCH_QUICK === '1';
const CHUNK = 1000;
const time = quick ? 150 : 1000;

interface Row {
  system: string;
  recordsPerSec: number;
}

function table(title: string, rows: Row[], floorName: string, xstateName: string | undefined): void {
  const floor = rows.find((r) => r.system === floorName)?.recordsPerSec ?? Number.NaN;
  const xstate = xstateName ? rows.find((r) => r.system === xstateName)?.recordsPerSec : undefined;
  console.log(`\n${title}`);
  console.log(
    `${'system'.padEnd(40)}${'records/s'.padStart(14)}${'vs floor'.padStart(11)}${'vs XState'.padStart(11)}`,
  );
  for (const row of rows) {
    const vsFloor = row.recordsPerSec / floor;
    const vsX = xstate ? `${(row.recordsPerSec / xstate).toFixed(1)}×` : '-';
    console.log(
      `${row.system.padEnd(40)}${Math.round(row.recordsPerSec).toLocaleString('en-US').padStart(14)}${`${vsFloor.toFixed(3)}×`.padStart(11)}${vsX.padStart(11)}`,
    );
  }
}

/** Each task processes CHUNK records per call, so timer overhead does not dominate sub-microsecond work. */
async function measure(tasks: Record<string, () => unknown>): Promise<Row[]> {
  const bench = new Bench({ time, warmupTime: quick ? 50 : 300, iterations: 5 });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  return bench.tasks.map((task) => {
    const result = task.result as { latency?: { mean: number } };
    return { system: task.name, recordsPerSec: (CHUNK * 1000) / (result.latency?.mean ?? Number.NaN) };
  });
}

async function w1(): Promise<void> {
  const sync = await pipeline.pipelineFsm('functions');
  const expr = await pipeline.pipelineFsm('expressions');
  const records = () => Array.from({ length: CHUNK }, (_, id) => ({ id, v: 0 }));
  const rows = await measure({
    'floor (hand-written loop)': () => {
      for (const r of records()) pipeline.floor(r);
    },
    '@fsm processSync': () => {
      for (const r of records()) sync.processSync(r);
    },
    '@fsm process (async)': async () => {
      for (const r of records()) await sync.process(r);
    },
    '@fsm processSync, CEL expression arcs': () => {
      for (const r of records()) expr.processSync(r);
    },
    'XState v5 (actor per record)': () => {
      for (const r of records()) pipeline.xstatePipeline(r);
    },
  });
  // LangGraph is ~1000× slower per record: measured on fewer records and scaled to records/s.
  const graph = await pipeline.langgraphPipeline();
  const n = quick ? 20 : 200;
  const started = performance.now();
  for (let i = 0; i < n; i++) await graph({ id: i, v: 0 });
  rows.push({
    system: `LangGraph.js (${n} records)`,
    recordsPerSec: (n * 1000) / (performance.now() - started),
  });
  table(
    'W1 pipeline: 10 states in a line, transform + arc condition each',
    rows,
    'floor (hand-written loop)',
    'XState v5 (actor per record)',
  );
  await sync.close();
  await expr.close();
}

async function w2(): Promise<void> {
  const fsm = await branching.branchingFsm();
  const records = () => Array.from({ length: CHUNK }, (_, i) => ({ x: (i * 37) % 100 }));
  const rows = await measure({
    'floor (hand-written loop)': () => {
      for (const r of records()) branching.floor(r);
    },
    '@fsm processSync': () => {
      for (const r of records()) fsm.processSync(r);
    },
    'XState v5 (actor per record)': () => {
      for (const r of records()) branching.xstateBranching(r);
    },
  });
  table(
    'W2 branching: 5 levels of 5-way priority-ordered conditions',
    rows,
    'floor (hand-written loop)',
    'XState v5 (actor per record)',
  );
  await fsm.close();
}

async function w3(): Promise<void> {
  const total = quick ? 10_000 : 100_000;
  const work = async (r: { v: number }) => {
    await Promise.resolve();
    r.v += 1;
    return r;
  };
  const fsm = await pipeline.pipelineFsm('functions');
  const { SimpleFSM } = await import('@fsm/core');
  const asyncFsm = await SimpleFSM.create(
    {
      name: 'w3',
      data_mode: { default: 'reference' },
      states: [
        { name: 'a', is_start: true, transforms: ['work'], arcs: [{ target: 'b' }] },
        { name: 'b', transforms: ['work'], arcs: [{ target: 'c' }] },
        { name: 'c', is_end: true },
      ],
    },
    { functions: { work } },
  );
  const records = () => Array.from({ length: total }, (_, id) => ({ id, v: 0 }));
  let started = performance.now();
  const queue = records();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < queue.length) {
        const r = queue[next++] as { v: number };
        await work(await work(r));
      }
    }),
  );
  const floorRate = (total * 1000) / (performance.now() - started);
  started = performance.now();
  const batch = await asyncFsm.processBatch(records(), { concurrency: 8 });
  const fsmRate = (total * 1000) / (performance.now() - started);
  if (batch.succeeded !== total) throw new Error('W3: records failed');
  table(
    `W3 batch: ${total.toLocaleString('en-US')} records, 2 async transforms each, concurrency 8`,
    [
      { system: 'floor (promise pool of 8)', recordsPerSec: floorRate },
      { system: '@fsm processBatch', recordsPerSec: fsmRate },
    ],
    'floor (promise pool of 8)',
    undefined,
  );
  await fsm.close();
  await asyncFsm.close();
}

async function w4(): Promise<void> {
  const r = await idleExecutions(quick ? 2_000 : 20_000);
  console.log('\nW4 idle executions (paused after one step)');
  console.log(
    `  @fsm     ${Math.round(r.fsmBytesPerExecution).toLocaleString('en-US').padStart(8)} bytes of heap each, snapshot ${r.fsmSnapshotBytes} bytes of JSON`,
  );
  console.log(
    `  XState   ${Math.round(r.xstateBytesPerActor).toLocaleString('en-US').padStart(8)} bytes of heap each, persisted snapshot ${r.xstateSnapshotBytes} bytes of JSON`,
  );
}

async function w5(): Promise<void> {
  const r = await durableSteps(quick ? 200 : 2_000);
  console.log('\nW5 durable: a SQLite checkpoint (WAL) after every step');
  console.log(
    `  ${Math.round(r.stepsPerSec).toLocaleString('en-US')} steps/s, ${(r.msPerStep * 1000).toFixed(0)} µs per durable step (goal ≤ 1 ms)`,
  );
}

async function w6(): Promise<void> {
  const rows = quick ? 50_000 : 1_000_000;
  const r = await csvStream(rows);
  console.log(`\nW6 stream: ${rows.toLocaleString('en-US')}-row CSV → FSM → JSONL`);
  console.log(
    `  ${Math.round(r.rowsPerSec).toLocaleString('en-US')} rows/s, peak live heap growth ${r.peakHeapMb.toFixed(1)} MB`,
  );
}

async function w7(): Promise<void> {
  const r = await queueScaling(quick ? 300 : 3_000);
  console.log('\nW7 scale-out: the same config on BullMQ/Redis, ~2 ms of CPU per record');
  console.log(`  1 worker process  ${Math.round(r.one).toLocaleString('en-US').padStart(8)} records/s`);
  console.log(
    `  2 worker processes ${Math.round(r.two).toLocaleString('en-US').padStart(7)} records/s  (${(r.two / r.one).toFixed(2)}×, goal ≥ 1.6×)`,
  );
}

const commit = (() => {
  try {
    return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  } catch (error) {
    return `unknown (${(error as Error).message.split('\n')[0]})`;
  }
})();
console.log(
  `@fsm benchmarks — ${new Date().toISOString().slice(0, 10)}, commit ${commit}, Node ${process.version}${quick ? ', QUICK' : ''}`,
);
for (const workload of [w1, w2, w3, w4, w5, w6, w7]) await workload();
