import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdvancedFSM } from '@fsm/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { batchFsm, floorPool, items } from './workloads/batch.js';
import * as branching from './workloads/branching.js';
import { openDurable } from './workloads/durable.js';
import { pausableMachine } from './workloads/idle.js';
import * as etl from './workloads/etl-readme.js';
import * as pipeline from './workloads/pipeline.js';
import { csvRow, floorLine, type Row, streamCsv, streamFsm, writeCsv } from './workloads/stream.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The systems compared must compute the same thing, or the ratios mean nothing.
describe('benchmark workloads agree', () => {
  it('W1: floor, @fsm (sync, async, CEL), both XState ways and LangGraph give the same record', async () => {
    const sync = await pipeline.pipelineFsm('functions');
    const expr = await pipeline.pipelineFsm('expressions');
    const graph = await pipeline.langgraphPipeline();
    for (let id = 0; id < 5; id++) {
      const expected = pipeline.floor({ id, v: id });
      expect(expected).toEqual({ id, v: id + pipeline.STATES });
      expect(sync.processSync({ id, v: id })).toMatchObject({
        success: true,
        finalState: 'done',
        data: expected,
      });
      expect((await sync.process({ id, v: id })).data).toEqual(expected);
      expect(expr.processSync({ id, v: id }).data).toEqual(expected);
      expect(pipeline.xstatePipeline({ id, v: id })).toEqual(expected);
      expect(pipeline.xstatePipelinePure({ id, v: id })).toEqual(expected);
      expect(await graph({ id, v: id })).toEqual(expected);
    }
    await sync.close();
    await expr.close();
  });

  it('W2: floor, @fsm (sync, async, CEL) and both XState ways end in the same state', async () => {
    const fsm = await branching.branchingFsm('functions');
    const expr = await branching.branchingFsm('expressions');
    const seen = new Set<string>();
    for (const x of [0, 19, 20, 39, 40, 45, 61, 80, 99]) {
      const expected = branching.floor({ x });
      seen.add(expected);
      expect(fsm.processSync({ x }).finalState).toBe(expected);
      expect((await fsm.process({ x })).finalState).toBe(expected);
      expect(expr.processSync({ x }).finalState).toBe(expected);
      expect(branching.xstateBranching({ x })).toBe(expected);
      expect(branching.xstateBranchingPure({ x })).toBe(expected);
    }
    // Every one of the 5 ways is taken by some record, so priority order is really exercised.
    expect(seen.size).toBe(branching.WAYS);
    await fsm.close();
    await expr.close();
  });

  it('W3: processBatch and the promise pool produce the same records in order', async () => {
    const fsm = await batchFsm();
    const expected = await floorPool(items(50), 8);
    const batch = await fsm.processBatch(items(50), { concurrency: 8 });
    expect(batch.succeeded).toBe(50);
    expect(batch.results.map((r) => r.data)).toEqual(expected);
    expect(expected[49]).toEqual({ id: 49, v: 2 });
    await fsm.close();
  });

  it('W4: a paused @fsm execution and a started XState actor hold the same place and data', async () => {
    const fsm = await AdvancedFSM.create(pipeline.pipelineConfig('functions'), {
      functions: { step: pipeline.step, ok: pipeline.ok },
    });
    const execution = fsm.createExecution({ id: 7, v: 0 });
    await execution.step();
    const actor = createActor(pausableMachine, { input: { id: 7, v: 0 } }).start();
    expect(execution.state).toBe('s0');
    expect(actor.getSnapshot().value).toBe('s0');
    expect(execution.data).toEqual({ id: 7, v: 1 });
    expect(actor.getSnapshot().context).toEqual({ id: 7, v: 1 });
    // Both snapshots are plain JSON that carries the data.
    expect(JSON.stringify(execution.snapshot())).toContain('"v":1');
    expect(JSON.stringify(actor.getPersistedSnapshot())).toContain('"v":1');
    actor.stop();
    await fsm.close();
  });

  it('W5: the durable pipeline gives the floor result with a checkpoint every step', async () => {
    const { fsm, close } = await openDurable(join(dir, 'w5.db'));
    for (let id = 0; id < 3; id++) {
      const result = await fsm.process({ id, v: 0 });
      expect(result).toMatchObject({ success: true, finalState: 'done', data: pipeline.floor({ id, v: 0 }) });
    }
    await close();
  });

  it('W6: the CSV → FSM → JSONL job writes what the hand-computed floor gives', async () => {
    const input = join(dir, 'w6.csv');
    const output = join(dir, 'w6.jsonl');
    await writeCsv(input, 30);
    const fsm = await streamFsm();
    await streamCsv(fsm, input, output);
    await fsm.close();
    const lines = readFileSync(output, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { data: Row })
      .sort((a, b) => a.data.id - b.data.id);
    expect(lines).toEqual(Array.from({ length: 30 }, (_, i) => floorLine(csvRow(i))));
  });

  it("W9: the README's ETL through `fsm run` (no history, durable SQLite) writes what the hand-written floor writes", async () => {
    const input = join(dir, 'w9.csv');
    const { invalid } = await etl.writeOrders(input, 600);
    expect(invalid).toBe(3);
    const url = process.env.FSM_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const floor = await etl.runMode('floor', input, 600, dir, url);
    const lines = readFileSync(floor.output, 'utf8').trim().split('\n');
    expect(lines.filter((line) => line.startsWith('{"success":false')).length).toBe(3);
    for (const mode of ['fsm', 'fsm-sqlite'] as const) {
      const run = await etl.runMode(mode, input, 600, dir, url);
      expect(run.exitCode).toBe(1);
      await etl.assertSameOutput(floor, run);
    }
  }, 120_000);

  it('W9: a changed result line or warehouse row is caught', async () => {
    const input = join(dir, 'w9-diff.csv');
    await etl.writeOrders(input, 50);
    const url = 'postgres://unused';
    const floor = await etl.runMode('floor', input, 50, dir, url);
    const other = { ...floor, mode: 'fsm' as const, output: join(dir, 'w9-diff.jsonl') };
    const lines = readFileSync(floor.output, 'utf8').split('\n');
    lines[10] = (lines[10] as string).replace('"channel":"', '"channel":"x');
    writeFileSync(other.output, lines.join('\n'));
    await expect(etl.assertSameOutput(floor, other)).rejects.toThrow(/result line 11 differs/);
  });
});
