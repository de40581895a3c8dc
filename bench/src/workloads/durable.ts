import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimpleFSM } from '@fsm/core';
import { createStorage } from '@fsm/storage';
import { ok, pipelineConfig, STATES, step } from './pipeline.js';

/** The W1 pipeline with a SQLite checkpoint (WAL, synchronous=NORMAL) after every step. */
export async function openDurable(fileOrUrl: string): Promise<{ fsm: SimpleFSM; close(): Promise<void> }> {
  const storage = await createStorage(fileOrUrl.includes(':') ? fileOrUrl : `sqlite:${fileOrUrl}`);
  const fsm = await SimpleFSM.create(pipelineConfig('functions'), {
    functions: { step, ok },
    storage,
    checkpoint: 'every-step',
    history: false,
  });
  return {
    fsm,
    close: async () => {
      await fsm.close();
      await storage.close();
    },
  };
}

/** W5 on PostgreSQL: the same pipeline, a checkpoint row upserted per step over the network. */
export async function durableStepsPostgres(
  records: number,
  url: string,
): Promise<{ stepsPerSec: number; msPerStep: number }> {
  const schema = `bench_w5_${process.pid}_${Date.now().toString(36)}`;
  const { fsm, close } = await openDurable(`${url}?schema=${schema}`);
  const pg = (await import('pg')).default;
  try {
    const started = performance.now();
    for (let i = 0; i < records; i++) await fsm.process({ id: i, v: 0 });
    const ms = performance.now() - started;
    const steps = records * (STATES + 1);
    return { stepsPerSec: (steps * 1000) / ms, msPerStep: ms / steps };
  } finally {
    await close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`drop schema if exists "${schema}" cascade`);
    await client.end();
  }
}

/** W5: durable steps per second. */
export async function durableSteps(records: number): Promise<{ stepsPerSec: number; msPerStep: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'fsm-bench-w5-'));
  try {
    const { fsm, close } = await openDurable(join(dir, 'w5.db'));
    const started = performance.now();
    for (let i = 0; i < records; i++) await fsm.process({ id: i, v: 0 });
    const ms = performance.now() - started;
    await close();
    // 10 working states plus the end state: one checkpoint each.
    const steps = records * (STATES + 1);
    return { stepsPerSec: (steps * 1000) / ms, msPerStep: ms / steps };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
