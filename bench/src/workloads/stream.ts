import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimpleFSM } from '@fsm/core';
import { openReader, openWriter } from '@fsm/io';
import { runStreamJob } from '@fsm/streaming';

/** W6: a CSV → FSM (validate, transform, route) → JSONL file; rows/s and peak live heap. */
export interface Row {
  id: number;
  amount: number;
  region: string;
  total?: number;
}

export const valid = (r: Row): boolean => r.amount >= 0;
export const price = (r: Row): Row => {
  r.total = r.amount * 1.2;
  return r;
};
export const isEu = (r: Row): boolean => r.region === 'EU';

/** What the stream job writes for one row, computed by hand (the test compares against it). */
export function floorLine(r: Row): { success: true; finalState: string; data: Row } {
  const data = price({ ...r });
  return { success: true, finalState: isEu(data) ? 'eu' : 'other', data };
}

export const csvRow = (i: number): Row => ({
  id: i,
  amount: (i % 997) + 0.5,
  region: i % 3 === 0 ? 'EU' : 'US',
});

export async function writeCsv(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  out.write('id,amount,region\n');
  for (let i = 0; i < rows; i++) {
    const r = csvRow(i);
    if (!out.write(`${r.id},${r.amount},${r.region}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

export function streamFsm(): Promise<SimpleFSM> {
  return SimpleFSM.create(
    {
      name: 'w6',
      data_mode: { default: 'reference' },
      states: [
        { name: 'check', is_start: true, arcs: [{ target: 'price', condition: 'valid' }] },
        {
          name: 'price',
          transforms: ['price'],
          arcs: [{ target: 'eu', condition: 'isEu', priority: 2 }, { target: 'other' }],
        },
        { name: 'eu', is_end: true },
        { name: 'other', is_end: true },
      ],
    },
    { functions: { valid, price, isEu } },
  );
}

/** Runs `input` (CSV) through the FSM into `output` (JSONL); `onChunk` sees each committed chunk count. */
export async function streamCsv(
  fsm: SimpleFSM,
  input: string,
  output: string,
  onChunk: (chunks: number) => void = () => undefined,
): Promise<void> {
  const sink = openWriter(output);
  await runStreamJob(fsm, openReader(input, { cast: true }), sink, {
    chunkSize: 1000,
    onProgress: (s) => onChunk(s.chunks),
  });
  await sink.close();
}

export async function csvStream(rows: number): Promise<{ rowsPerSec: number; peakHeapMb: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'fsm-bench-w6-'));
  try {
    const input = join(dir, 'in.csv');
    await writeCsv(input, rows);
    const fsm = await streamFsm();
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    const started = performance.now();
    await streamCsv(fsm, input, join(dir, 'out.jsonl'), (chunks) => {
      // Live heap: measured right after a full GC (every 50 chunks), so garbage is not counted.
      if (chunks % 50 !== 0 || !gc) return;
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed - base);
    });
    const ms = performance.now() - started;
    await fsm.close();
    return { rowsPerSec: (rows * 1000) / ms, peakHeapMb: peak / 1024 / 1024 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
