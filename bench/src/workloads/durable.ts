import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimpleFSM } from '@fsm/core';
import { createStorage } from '@fsm/storage';
import { pipelineConfig, step, ok } from './pipeline.js';

/** W5: steps per second with a SQLite checkpoint after every step (WAL, synchronous=NORMAL). */
export async function durableSteps(records: number): Promise<{ stepsPerSec: number; msPerStep: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'fsm-bench-w5-'));
  const storage = await createStorage(`sqlite:${join(dir, 'w5.db')}`);
  const fsm = await SimpleFSM.create(pipelineConfig('functions'), {
    functions: { step, ok },
    storage,
    checkpoint: 'every-step',
    history: false,
  });
  const started = performance.now();
  for (let i = 0; i < records; i++) await fsm.process({ id: i, v: 0 });
  const ms = performance.now() - started;
  await fsm.close();
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
  const steps = records * 11;
  return { stepsPerSec: (steps * 1000) / ms, msPerStep: ms / steps };
}
