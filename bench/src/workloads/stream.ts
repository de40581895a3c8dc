import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimpleFSM } from '@fsm/core';
import { openReader, openWriter } from '@fsm/io';
import { runStreamJob } from '@fsm/streaming';

/** W6: a CSV of `rows` rows → FSM (validate, transform, route) → JSONL file; rows/s and peak live heap. */
export async function csvStream(rows: number): Promise<{ rowsPerSec: number; peakHeapMb: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'fsm-bench-w6-'));
  const input = join(dir, 'in.csv');
  const out = createWriteStream(input);
  out.write('id,amount,region\n');
  for (let i = 0; i < rows; i++) {
    if (!out.write(`${i},${(i % 997) + 0.5},${i % 3 === 0 ? 'EU' : 'US'}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  const fsm = await SimpleFSM.create(
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
    {
      functions: {
        valid: (r: { amount: number }) => r.amount >= 0,
        price: (r: { amount: number; total?: number }) => {
          r.total = r.amount * 1.2;
          return r;
        },
        isEu: (r: { region: string }) => r.region === 'EU',
      },
    },
  );
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const base = process.memoryUsage().heapUsed;
  let peak = 0;
  const sink = openWriter(join(dir, 'out.jsonl'));
  const started = performance.now();
  await runStreamJob(fsm, openReader(input, { cast: true }), sink, {
    chunkSize: 1000,
    onProgress: (s) => {
      // Live heap: measured right after a full GC (every 50 chunks), so garbage is not counted.
      if (s.chunks % 50 !== 0 || !gc) return;
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed - base);
    },
  });
  await sink.close();
  const ms = performance.now() - started;
  await fsm.close();
  rmSync(dir, { recursive: true, force: true });
  return { rowsPerSec: (rows * 1000) / ms, peakHeapMb: peak / 1024 / 1024 };
}
