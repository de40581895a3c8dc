import { describe, expect, it } from 'vitest';
import type { ExecutionSnapshot } from '../engine/snapshot.js';
import type { ExecutionHistory } from '../history/execution-history.js';
import type { HistorySummary } from '../history/types.js';
import type { BatchItemRecord, CheckpointStore, HistoryStore } from '../interfaces/history-store.js';
import { SimpleFSM } from './simple-fsm.js';

/** The smallest store that keeps histories and checkpoints in memory, as JSON (like a real backend). */
class JsonMemoryStore implements HistoryStore, CheckpointStore {
  readonly specificationVersion = 'v1' as const;
  readonly histories = new Map<string, string>();
  readonly checkpoints = new Map<string, string>();
  readonly items = new Map<string, Map<number, string>>();
  checkpointWrites = 0;
  /** While true, writes after the failure are lost, as if the process had died at that moment. */
  dying = false;
  async save(h: ExecutionHistory) {
    if (this.dying) return;
    this.histories.set(h.executionId, JSON.stringify(h));
  }
  async load(id: string) {
    const json = this.histories.get(id);
    const { ExecutionHistory } = await import('../history/execution-history.js');
    return json ? ExecutionHistory.fromJSON(json) : undefined;
  }
  async *query(): AsyncIterable<HistorySummary> {
    for (const json of this.histories.values()) {
      const h = JSON.parse(json) as HistorySummary;
      yield { executionId: h.executionId, fsm: h.fsm, status: h.status, startedAt: h.startedAt };
    }
  }
  async delete(id: string) {
    return this.histories.delete(id);
  }
  async close() {
    return undefined;
  }
  async saveCheckpoint(s: ExecutionSnapshot) {
    this.checkpointWrites++;
    this.checkpoints.set(s.executionId, JSON.stringify(s));
  }
  async loadCheckpoint(id: string) {
    const json = this.checkpoints.get(id);
    return json ? (JSON.parse(json) as ExecutionSnapshot) : undefined;
  }
  async deleteCheckpoint(id: string) {
    if (this.dying) return false;
    return this.checkpoints.delete(id);
  }
  async saveBatchItems(batchId: string, items: BatchItemRecord[]) {
    const map = this.items.get(batchId) ?? new Map<number, string>();
    for (const item of items) map.set(item.itemIndex, JSON.stringify(item));
    this.items.set(batchId, map);
  }
  async loadBatchItems(batchId: string) {
    return [...(this.items.get(batchId)?.values() ?? [])]
      .map((j) => JSON.parse(j) as BatchItemRecord)
      .sort((a, b) => a.itemIndex - b.itemIndex);
  }
}

const config = {
  name: 'durable',
  states: [
    { name: 'a', is_start: true, transforms: ['step'] },
    { name: 'b', transforms: ['step'] },
    { name: 'c', transforms: ['step'] },
    { name: 'd', is_end: true },
  ],
  arcs: [
    { from: 'a', to: 'b' },
    { from: 'b', to: 'c' },
    { from: 'c', to: 'd' },
  ],
};

describe('durable execution', () => {
  it('writes a checkpoint every step and removes it once the history is saved', async () => {
    const storage = new JsonMemoryStore();
    const fsm = await SimpleFSM.create(config, {
      storage,
      checkpoint: 'every-step',
      functions: { step: (d: { n: number }) => ({ n: d.n + 1 }) },
    });
    const r = await fsm.process({ n: 0 }, { executionId: 'x1' });
    expect(r).toMatchObject({ success: true, data: { n: 3 } });
    // Before start, after a and b; none after c, whose only arc leads to the end: the finish covers it.
    expect(storage.checkpointWrites).toBe(3);
    expect(storage.checkpoints.size).toBe(0);
    expect((await storage.load('x1'))?.status).toBe('succeeded');
  });

  it('writes no checkpoint that protects only expressions (a resume may redo them)', async () => {
    const storage = new JsonMemoryStore();
    const expressions = {
      ...config,
      states: [
        { name: 'a', is_start: true, transforms: [{ type: 'expression', code: '{ "n": n + 1 }' }] },
        { name: 'b', transforms: [{ type: 'expression', code: '{ "n": n * 10 }' }] },
        { name: 'c', transforms: ['step'] },
        { name: 'd', is_end: true },
      ],
    };
    const fsm = await SimpleFSM.create(expressions, {
      storage,
      checkpoint: 'every-step',
      functions: { step: (d: { n: number }) => ({ n: d.n + 1 }) },
    });
    const r = await fsm.process({ n: 0 }, { executionId: 'x2' });
    expect(r).toMatchObject({ success: true, data: { n: 11 } });
    // Only the one before start: a and b ran expressions, c's only arc leads to the end.
    expect(storage.checkpointWrites).toBe(1);
    expect((await storage.load('x2'))?.steps.map((s) => s.state)).toEqual(['a', 'b', 'c', 'd']);
    await fsm.close();
  });

  it('resume(executionId) continues after a crash without re-running completed steps', async () => {
    const storage = new JsonMemoryStore();
    const ran: string[] = [];
    let crash = true;
    const functions = {
      step: (d: { n: number }, ctx: { state: string }) => {
        ran.push(ctx.state);
        if (crash && ctx.state === 'c') throw new Error('process killed');
        return { n: d.n + 1 };
      },
    };
    const first = await SimpleFSM.create(config, { storage, checkpoint: 'every-step', functions });
    storage.dying = true;
    await first.process({ n: 0 }, { executionId: 'x2' });
    storage.dying = false;
    const afterB = JSON.parse(storage.checkpoints.get('x2') ?? '{}') as ExecutionSnapshot;
    expect(afterB).toMatchObject({ state: 'b', phase: 'select', data: { n: 2 } });
    expect(storage.histories.has('x2')).toBe(false);

    crash = false;
    ran.length = 0;
    const second = await SimpleFSM.create(config, { storage, checkpoint: 'every-step', functions });
    const r = await second.resume('x2');
    expect(ran).toEqual(['c']);
    expect(r).toMatchObject({ success: true, finalState: 'd', data: { n: 3 }, executionId: 'x2' });
    expect(r.path).toEqual(['a', 'b', 'c', 'd']);
  });

  it('resume redoes the expressions after the last checkpoint, each step once in the history', async () => {
    const storage = new JsonMemoryStore();
    const ran: string[] = [];
    let crash = true;
    const mixed = {
      ...config,
      states: [
        { name: 'a', is_start: true, transforms: ['step'] },
        { name: 'b', transforms: [{ type: 'expression', code: '{ "n": n * 10 }' }] },
        { name: 'c', transforms: ['step'] },
        { name: 'd', is_end: true },
      ],
    };
    const functions = {
      step: (d: { n: number }, ctx: { state: string }) => {
        ran.push(ctx.state);
        if (crash && ctx.state === 'c') throw new Error('process killed');
        return { n: d.n + 1 };
      },
    };
    const first = await SimpleFSM.create(mixed, { storage, checkpoint: 'every-step', functions });
    storage.dying = true;
    await first.process({ n: 0 }, { executionId: 'x3' });
    storage.dying = false;
    // The last checkpoint is after a: b ran only an expression.
    const afterA = JSON.parse(storage.checkpoints.get('x3') ?? '{}') as ExecutionSnapshot;
    expect(afterA).toMatchObject({ state: 'a', phase: 'select', data: { n: 1 } });

    crash = false;
    ran.length = 0;
    const second = await SimpleFSM.create(mixed, { storage, checkpoint: 'every-step', functions });
    const r = await second.resume('x3');
    expect(ran).toEqual(['c']);
    expect(r).toMatchObject({ success: true, finalState: 'd', data: { n: 11 } });
    expect(r.path).toEqual(['a', 'b', 'c', 'd']);
    expect((await storage.load('x3'))?.steps.map((s) => s.state)).toEqual(['a', 'b', 'c', 'd']);
    await first.close();
    await second.close();
  });

  it('resume of a finished execution reports it from history without running again', async () => {
    const storage = new JsonMemoryStore();
    let runs = 0;
    const fsm = await SimpleFSM.create(config, {
      storage,
      checkpoint: 'every-step',
      functions: {
        step: (d: { n: number }) => {
          runs++;
          return { n: d.n + 1 };
        },
      },
    });
    await fsm.process({ n: 0 }, { executionId: 'x3' });
    runs = 0;
    expect(await fsm.resume('x3')).toMatchObject({
      success: true,
      data: { n: 3 },
      path: ['a', 'b', 'c', 'd'],
    });
    expect(runs).toBe(0);
  });

  it('a durable batch resumed with the same id runs only what was not done', async () => {
    const storage = new JsonMemoryStore();
    const seen: number[] = [];
    let failAt = 30;
    const functions = {
      step: (d: { i: number; n?: number }, ctx: { state: string }) => {
        if (ctx.state === 'a') seen.push(d.i);
        if (d.i === failAt) throw new Error('crash');
        return { ...d, n: (d.n ?? 0) + 1 };
      },
    };
    const records = Array.from({ length: 50 }, (_, i) => ({ i }));
    const fsm = await SimpleFSM.create(config, { storage, checkpoint: 'end', functions });
    const first = await fsm.processDurableBatch(records, {
      batchId: 'b1',
      concurrency: 1,
      stopOnError: true,
    });
    expect(first.stoppedAt).toBe(30);
    // The failure of item 30 is recorded as done (a failed result, with its history); pretend the
    // process died before either was written.
    storage.items.get('b1')?.delete(30);
    storage.histories.delete('b1:30');
    failAt = -1;
    seen.length = 0;
    const second = await fsm.processDurableBatch(records, { batchId: 'b1', concurrency: 4 });
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, k) => 30 + k));
    expect(second.succeeded).toBe(50);
    expect(second.results.map((r) => (r.data as { i: number }).i)).toEqual(records.map((r) => r.i));
  });

  it('resume without a checkpointing store is misuse', async () => {
    const fsm = await SimpleFSM.create(config, { functions: { step: (d: unknown) => d } });
    await expect(fsm.resume('nope')).rejects.toMatchObject({ code: 'MISUSE' });
  });
});

describe('run metadata', () => {
  it('runMetadata is kept in every checkpoint and history', async () => {
    const storage = new JsonMemoryStore();
    const runMetadata = { config: '/abs/orders.yaml', allowCode: false };
    const snapshots: unknown[] = [];
    const save = storage.saveCheckpoint.bind(storage);
    storage.saveCheckpoint = async (s) => {
      snapshots.push(s.metadata);
      await save(s);
    };
    const fsm = await SimpleFSM.create(config, {
      storage,
      checkpoint: 'every-step',
      runMetadata,
      functions: { step: (d: unknown) => d },
    });
    const r = await fsm.process({ i: 1 });
    expect(snapshots.length).toBeGreaterThan(0);
    expect(snapshots.every((m) => JSON.stringify(m) === JSON.stringify(runMetadata))).toBe(true);
    expect((await storage.load(r.executionId))?.metadata).toEqual(runMetadata);
  });
});
