import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createStorage } from '../src/create-storage.js';

// These tests run real child processes on the built packages (scripts/test.sh builds first).
const child = join(import.meta.dirname, 'durable-child.mjs');
const dir = mkdtempSync(join(tmpdir(), 'fsm-durable-'));
const pgUrl = process.env.FSM_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const pgSchemas: string[] = [];
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  for (const schema of pgSchemas) await client.query(`drop schema if exists "${schema}" cascade`);
  await client.end();
});

const distReady = existsSync(join(import.meta.dirname, '..', 'dist', 'index.js'));

function run(args: string[]): { proc: ChildProcess; done: Promise<number | null> } {
  const proc = fork(child, args, { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const done = new Promise<number | null>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('exit', (code) => resolve(code));
  });
  return { proc, done };
}

async function countBatchItems(url: string, batchId: string): Promise<number> {
  const store = await createStorage(url);
  try {
    return (await store.loadBatchItems(batchId)).length;
  } finally {
    await store.close();
  }
}

let files = 0;
const backends = [
  { name: 'sqlite', url: () => `sqlite:${join(dir, `store-${++files}.db`)}` },
  {
    name: 'postgres',
    url: () => {
      const schema = `fsm_crash_${process.pid}_${Date.now().toString(36)}`;
      pgSchemas.push(schema);
      return `${pgUrl}?schema=${schema}`;
    },
  },
];

describe.each(backends)('durable batch on $name', ({ url: makeUrl }) => {
  it('SIGKILL midway through 10k records, then resume: every record once, finished steps not re-run', async () => {
    expect(distReady, 'build the packages first (scripts/test.sh does)').toBe(true);
    const url = makeUrl();
    const batchId = `crash-${Date.now()}`;
    const effects = join(dir, `${batchId}.effects`);
    const output = join(dir, `${batchId}.jsonl`);
    const args = ['durable', url, batchId, '10000', effects, output];

    const first = run(args);
    // Kill once a good part of the batch is durable, but well before the end.
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      const n = await countBatchItems(url, batchId);
      if (n >= 2000) break;
      const exited = await Promise.race([first.done, Promise.resolve('running')]);
      expect(exited, 'the first run ended before it could be killed').toBe('running');
    }
    first.proc.kill('SIGKILL');
    await first.done;
    const doneBeforeResume = await countBatchItems(url, batchId);
    expect(doneBeforeResume).toBeGreaterThanOrEqual(2000);
    expect(doneBeforeResume).toBeLessThan(10000);
    expect(existsSync(output)).toBe(false);
    const effectsBefore = readFileSync(effects, 'utf8').trim().split('\n').length;

    const second = run(args);
    expect(await second.done).toBe(0);

    const lines = readFileSync(output, 'utf8').trim().split('\n');
    const rows = lines.map((l) => JSON.parse(l) as { i: number; steps: number; success: boolean });
    expect(rows).toHaveLength(10000);
    expect(rows.every((r, index) => r.i === index && r.success && r.steps === 3)).toBe(true);

    // Steps finished before the crash are not run again: the resumed run does at most the
    // remaining steps plus one in-flight step per record that was mid-way (concurrency 8).
    const effectLines = readFileSync(effects, 'utf8').trim().split('\n');
    const rerun = effectLines.length - effectsBefore;
    const remaining = (10000 - doneBeforeResume) * 3;
    expect(rerun).toBeLessThanOrEqual(remaining);
    expect(effectLines.length).toBeLessThanOrEqual(30000 + 8);
  }, 120_000);

  it('two processes writing histories to the same store lose nothing', async () => {
    expect(distReady, 'build the packages first (scripts/test.sh does)').toBe(true);
    const url = makeUrl();
    const results = await Promise.all([
      run(['plain', url, 'x', '1000']).done,
      run(['plain', url, 'y', '1000']).done,
    ]);
    expect(results).toEqual([0, 0]);
    const store = await createStorage(url);
    let n = 0;
    for await (const summary of store.query({ fsm: 'durable-crash' }))
      if (summary.status === 'succeeded') n++;
    await store.close();
    expect(n).toBe(2000);
  }, 120_000);
});
