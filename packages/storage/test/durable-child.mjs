// A worker process for the crash and concurrency tests: runs a durable batch (or plain histories)
// against a real store. Uses the built dist of @fsm/core and @fsm/storage.
import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { SimpleFSM } from '@fsm/core';
import { createStorage } from '@fsm/storage';

const [mode, url, batchId, count, effectsLog, output] = process.argv.slice(2);
const total = Number(count);

const config = {
  name: 'durable-crash',
  states: [
    { name: 'parse', is_start: true, transforms: ['work'] },
    { name: 'enrich', transforms: ['work'] },
    { name: 'score', transforms: ['work'] },
    { name: 'done', is_end: true },
  ],
  arcs: [
    { from: 'parse', to: 'enrich' },
    { from: 'enrich', to: 'score' },
    { from: 'score', to: 'done' },
  ],
};

const functions = {
  // Every run of a step is logged, so the test can see which steps ran again after the crash.
  work: async (data, ctx) => {
    if (effectsLog) appendFileSync(effectsLog, `${data.i}:${ctx.state}\n`);
    await new Promise((resolve) => setImmediate(resolve));
    return { ...data, steps: data.steps + 1 };
  },
};

const storage = await createStorage(url);
const fsm = await SimpleFSM.create(config, {
  functions,
  storage,
  history: true,
  ...(mode === 'durable' ? { checkpoint: 'every-step' } : {}),
});
const records = Array.from({ length: total }, (_, i) => ({ i, steps: 0 }));

if (mode === 'durable') {
  const batch = await fsm.processDurableBatch(records, { batchId, concurrency: 8 });
  // The sink: written whole, then renamed, so it never holds a partial or doubled batch.
  const lines = batch.results.map((r) =>
    JSON.stringify({ i: r.data.i, steps: r.data.steps, success: r.success }),
  );
  writeFileSync(`${output}.tmp`, `${lines.join('\n')}\n`);
  renameSync(`${output}.tmp`, output);
} else {
  const batch = await fsm.processBatch(records, { concurrency: 8 });
  if (batch.failed > 0) throw new Error(`${batch.failed} records failed`);
}
await fsm.close();
await storage.close();
