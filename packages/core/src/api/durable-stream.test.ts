import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { ExecutionSnapshot } from '../engine/snapshot.js';
import { ExecutionHistory } from '../history/execution-history.js';
import { assembleStepLog } from '../history/step-log.js';
import type { HistoryStep, HistorySummary } from '../history/types.js';
import type {
  BatchItemRecord,
  FinishedExecution,
  HistoryStore,
  StepLogEntry,
  StepLogStore,
} from '../interfaces/history-store.js';
import { AdvancedFSM } from './advanced-fsm.js';
import { SimpleFSM } from './simple-fsm.js';
import type { ExecutionResult } from './types.js';

/** A step-log store in memory, as JSON; `freezeAfter` makes appends hang from then on, like a killed process. */
class StepLogMemory implements HistoryStore, StepLogStore {
  readonly specificationVersion = 'v1' as const;
  readonly histories = new Map<string, string>();
  readonly logs = new Map<string, string[]>();
  readonly items = new Map<string, string>();
  appended = 0;
  appendedBytes = 0;
  freezeAfter = Number.POSITIVE_INFINITY;
  async save(h: ExecutionHistory) {
    this.histories.set(h.executionId, JSON.stringify(h));
  }
  async load(id: string) {
    const json = this.histories.get(id);
    return json ? ExecutionHistory.fromJSON(json) : undefined;
  }
  async *query(): AsyncIterable<HistorySummary> {
    yield* [];
  }
  async delete(id: string) {
    return this.histories.delete(id);
  }
  async close() {
    return undefined;
  }
  async saveCheckpoint(): Promise<void> {
    throw new Error('a step-log store gets no full snapshots');
  }
  async loadCheckpoint(id: string): Promise<ExecutionSnapshot | undefined> {
    return assembleStepLog((this.logs.get(id) ?? []).map((j) => JSON.parse(j) as StepLogEntry));
  }
  async deleteCheckpoint(id: string) {
    return this.logs.delete(id);
  }
  async saveBatchItems(batchId: string, items: BatchItemRecord[]) {
    for (const item of items) this.items.set(`${batchId}:${item.itemIndex}`, JSON.stringify(item));
  }
  async loadBatchItems(batchId: string) {
    return [...this.items.entries()]
      .filter(([key]) => key.startsWith(`${batchId}:`))
      .map(([, json]) => JSON.parse(json) as BatchItemRecord)
      .sort((a, b) => a.itemIndex - b.itemIndex);
  }
  async listCheckpoints(prefix: string) {
    return [...this.logs.keys()].filter((id) => id.startsWith(prefix));
  }
  async appendStep(entry: StepLogEntry): Promise<void> {
    if (++this.appended > this.freezeAfter) return new Promise(() => undefined);
    const json = JSON.stringify(entry);
    this.appendedBytes += json.length;
    const log = this.logs.get(entry.executionId) ?? [];
    log.push(json);
    this.logs.set(entry.executionId, log);
  }
  /** `checkpointed` of every finish, by execution id. */
  readonly finishes = new Map<string, boolean | undefined>();
  async finishExecution(finished: FinishedExecution): Promise<void> {
    if (finished.history) await this.save(finished.history);
    if (finished.batchItem) await this.saveBatchItems(finished.batchItem.batchId, [finished.batchItem]);
    this.finishes.set(finished.executionId, finished.checkpointed);
    // Like the SQL store: skips the delete when told nothing was checkpointed.
    if (finished.checkpointed !== false) this.logs.delete(finished.executionId);
  }
}

/** Five states, one of them pushing a two-state sub-network. */
const config = {
  name: 'steplog',
  main_network: 'main',
  data_mode: { default: 'copy' },
  networks: [
    {
      name: 'main',
      states: [
        { name: 'a', is_start: true, transforms: ['step'] },
        {
          name: 'b',
          transforms: ['step'],
          arcs: [{ target: 'c', target_network: 'sub', return_state: 'c' }],
        },
        { name: 'c', transforms: ['step'], arcs: [{ target: 'd' }] },
        { name: 'd', is_end: true },
      ],
      arcs: [{ from: 'a', to: 'b' }],
    },
    {
      name: 'sub',
      states: [
        { name: 's1', is_start: true, transforms: ['step'], arcs: [{ target: 's2' }] },
        { name: 's2', transforms: ['step'], arcs: [{ target: 's3' }] },
        { name: 's3', is_end: true },
      ],
    },
  ],
};

function functions(effects: string[]) {
  return {
    step: async (data: { i: number; n: number }, ctx: { state: string }) => {
      effects.push(`${data.i}:${ctx.state}`);
      await new Promise((resolve) => setImmediate(resolve));
      return { ...data, n: data.n + 1, big: 'x'.repeat(200) };
    },
  };
}

/** A step tree without its times: what must be the same however often the record was resumed. */
function shape(steps: HistoryStep[]): unknown[] {
  return steps.map((s) => ({
    at: `${s.network}.${s.state}`,
    arc: s.arc,
    data: s.data,
    ended: s.endedAt !== undefined,
    children: s.children ? shape(s.children) : undefined,
  }));
}

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ i, n: 0 }));

async function collect(stream: AsyncIterable<ExecutionResult>): Promise<ExecutionResult[]> {
  const out: ExecutionResult[] = [];
  for await (const r of stream) out.push(r);
  return out;
}

/** The test FSM on a step-log store, with the effects its functions record (and the checkpoint policy). */
function durableFsm(
  storage: StepLogMemory,
  effects: string[] = [],
  checkpoint: 'every-step' | 'end' = 'every-step',
): Promise<SimpleFSM> {
  return SimpleFSM.create(config, { functions: functions(effects), storage, checkpoint });
}

describe('durable stream on a step-log store', () => {
  it('appends one small row per step instead of rewriting the history (bytes grow linearly)', async () => {
    const sizes: number[] = [];
    for (const steps of [4, 16]) {
      const chain = {
        name: 'chain',
        states: Array.from({ length: steps + 1 }, (_, k) =>
          k === steps
            ? { name: `s${k}`, is_end: true }
            : { name: `s${k}`, is_start: k === 0, transforms: ['step'] },
        ),
        arcs: Array.from({ length: steps }, (_, k) => ({ from: `s${k}`, to: `s${k + 1}` })),
      };
      const store = new StepLogMemory();
      const fsm = await SimpleFSM.create(chain, {
        functions: functions([]),
        storage: store,
        checkpoint: 'every-step',
      });
      await collect(fsm.processDurableStream(records(1), { batchId: 'lin' }));
      await fsm.close();
      // One per step, but the last: from there the record can only finish (the finishing write covers it).
      expect(store.appended).toBe(steps - 1);
      sizes.push(store.appendedBytes / steps);
    }
    // Per-row size does not grow with the number of steps before it (a full snapshot's would 4×).
    expect(sizes[1] as number).toBeLessThan((sizes[0] as number) * 1.5);
  });

  it('killed mid-way and resumed: every record once, finished steps not re-run, whole histories kept', async () => {
    const reference = new StepLogMemory();
    const fsmRef = await durableFsm(reference);
    await collect(fsmRef.processDurableStream(records(20), { batchId: 'ref' }));
    await fsmRef.close();

    const store = new StepLogMemory();
    store.freezeAfter = 37;
    const effects: string[] = [];
    const first = await durableFsm(store, effects);
    const stream = first
      .processDurableStream(records(20), { batchId: 'b', concurrency: 4 })
      [Symbol.asyncIterator]();
    // Take results until the frozen store stops progress (the "kill").
    for (;;) {
      const next = await Promise.race([stream.next(), new Promise((r) => setTimeout(() => r('stuck'), 200))]);
      if (next === 'stuck') break;
    }
    const inFlight = [...store.logs.keys()];
    expect(inFlight.length).toBeGreaterThan(0);
    const effectsBefore = effects.length;

    store.freezeAfter = Number.POSITIVE_INFINITY;
    const second = await durableFsm(store, effects);
    const results = await collect(second.processDurableStream(records(20), { batchId: 'b', concurrency: 4 }));
    await second.close();
    expect(results.map((r) => (r.data as { i: number }).i)).toEqual(records(20).map((r) => r.i));
    expect(results.every((r) => r.success && (r.data as { n: number }).n === 5)).toBe(true);
    // Each record's five steps ran once, plus at most the step in flight of each of the 4 records
    // running at the kill (its effect happened, its step-log row did not).
    const perRecord = new Map<string, number>();
    for (const e of effects) perRecord.set(e, (perRecord.get(e) ?? 0) + 1);
    expect(effects.length).toBeLessThanOrEqual(20 * 5 + 4);
    expect([...perRecord.values()].filter((n) => n > 1).length).toBeLessThanOrEqual(4);
    expect(effectsBefore).toBeGreaterThan(20);
    // No checkpoint stays behind, and every history has the whole step tree.
    expect(store.logs.size).toBe(0);
    expect(store.items.size).toBe(20);
    for (let i = 0; i < 20; i++) {
      const got = await store.load(`b:${i}`);
      const want = await reference.load(`ref:${i}`);
      expect(got?.status).toBe('succeeded');
      expect(shape(got?.steps ?? [])).toEqual(shape(want?.steps ?? []));
    }
  });

  it('says checkpointed: false only when no checkpoint can exist under the id (the store skips two deletes)', async () => {
    const store = new StepLogMemory();
    const atEnd = await durableFsm(store, [], 'end');
    await collect(atEnd.processDurableStream(records(3), { batchId: 'fresh' }));
    // A caller's own id may name a crashed execution's checkpoint: the store must look.
    await atEnd.process({ i: 9 }, { executionId: 'mine' });
    await atEnd.close();
    expect([0, 1, 2].map((i) => store.finishes.get(`fresh:${i}`))).toEqual([false, false, false]);
    expect(store.finishes.get('mine')).toBeUndefined();

    const stepwise = await durableFsm(store);
    await collect(stepwise.processDurableStream(records(2), { batchId: 'logged' }));
    await stepwise.close();
    expect([0, 1].map((i) => store.finishes.get(`logged:${i}`))).toEqual([undefined, undefined]);
    expect(store.logs.size).toBe(0);
  });

  it('a resumed stream returns stored results without running their records again', async () => {
    const store = new StepLogMemory();
    const effects: string[] = [];
    const fsm = await durableFsm(store, effects);
    await collect(fsm.processDurableStream(records(5), { batchId: 'again' }));
    const ran = effects.length;
    const again = await collect(fsm.processDurableStream(records(5), { batchId: 'again' }));
    await fsm.close();
    expect(effects.length).toBe(ran);
    expect(again.map((r) => r.executionId)).toEqual(['again:0', 'again:1', 'again:2', 'again:3', 'again:4']);
  });

  it('resume of a finished execution runs nothing and deletes a checkpoint a crash left behind', async () => {
    const store = new StepLogMemory();
    const effects: string[] = [];
    const fsm = await durableFsm(store, effects);
    const [done] = await collect(fsm.processDurableStream(records(1), { batchId: 'fin' }));
    store.logs.set('fin:0', [JSON.stringify({ executionId: 'fin:0', fsm: 'steplog', seq: 1, snapshot: {} })]);
    const ran = effects.length;
    const again = await fsm.resume('fin:0');
    await fsm.close();
    expect(effects.length).toBe(ran);
    expect(again.data).toEqual(done?.data);
    expect(store.logs.has('fin:0')).toBe(false);
  });
});

describe('AdvancedFSM on a step-log store', () => {
  it('resumed from a checkpoint id, it deletes the checkpoint when it finishes', async () => {
    const store = new StepLogMemory();
    store.freezeAfter = 2;
    const first = await durableFsm(store);
    void first.process({ i: 1, n: 0 }, { executionId: 'adv' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(store.logs.has('adv')).toBe(true);
    await first.close(); // the "killed" process: its run never finishes
    store.freezeAfter = Number.POSITIVE_INFINITY;
    const advanced = await AdvancedFSM.create(config, { functions: functions([]), storage: store });
    const result = await (await advanced.resume('adv')).run();
    expect(result?.success).toBe(true);
    expect(store.logs.has('adv')).toBe(false);
    expect((await store.load('adv'))?.status).toBe('succeeded');
    await advanced.close();
  });
});

describe('which steps need a checkpoint', () => {
  it('none after a step where only conditions ran, nor before the end; one after every other step', async () => {
    const store = new StepLogMemory();
    const shape = {
      name: 'skips',
      states: [
        { name: 'check', is_start: true },
        { name: 'work', transforms: ['step'] },
        { name: 'route' },
        { name: 'more', transforms: ['step'] },
        { name: 'last', transforms: ['step'] },
        { name: 'end', is_end: true },
      ],
      arcs: [
        { from: 'check', to: 'work', condition: { type: 'expression', code: 'n >= 0' } },
        { from: 'work', to: 'route' },
        { from: 'route', to: 'more' },
        { from: 'more', to: 'last' },
        { from: 'last', to: 'end' },
      ],
    };
    const fsm = await SimpleFSM.create(shape, {
      functions: functions([]),
      storage: store,
      checkpoint: 'every-step',
    });
    const seen: string[] = [];
    const append = store.appendStep.bind(store);
    store.appendStep = (entry) => {
      seen.push(entry.snapshot.state);
      return append(entry);
    };
    const [result] = await collect(fsm.processDurableStream(records(1), { batchId: 'skips' }));
    await fsm.close();
    expect(result?.success).toBe(true);
    // check: only a condition ran; route: nothing ran since work's checkpoint; last: only the end follows.
    expect(seen).toEqual(['work', 'more']);
  });
});

describe('data a store cannot hold', () => {
  it('fails its record alone (DATA_INVALID), stored without its data; the others run', async () => {
    const store = new StepLogMemory();
    const poison = {
      name: 'poison',
      states: [
        { name: 'a', is_start: true, transforms: ['poison'] },
        { name: 'b', transforms: ['poison'] },
        { name: 'c', is_end: true },
      ],
      arcs: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c' },
      ],
    };
    const functions = {
      poison: (data: { kind: string }) => (data.kind === 'bigint' ? { ...data, n: 10n } : data),
    };
    const fsm = await SimpleFSM.create(poison, { functions, storage: store, checkpoint: 'every-step' });
    const input = [{ kind: 'ok' }, { kind: 'bigint' }, { kind: 'ok' }];
    const results = await collect(fsm.processDurableStream(input, { batchId: 'p' }));
    await fsm.close();
    expect(results.map((r) => r.success)).toEqual([true, false, true]);
    expect(results[1]?.error?.code).toBe('DATA_INVALID');
    expect(results[1]?.error?.message).toContain('BigInt');
    expect(store.items.size).toBe(3);
    expect(store.logs.size).toBe(0);
    expect((await store.load('p:1'))?.status).toBe('failed');
  });
});

describe('signals', () => {
  it('records of a batch or stream with resources get no AbortSignal of their own (one per batch)', async () => {
    const provider = {
      specificationVersion: 'v1' as const,
      type: 'custom',
      name: 'db',
      async create() {
        return {};
      },
      async destroy() {
        return undefined;
      },
      async close() {
        return undefined;
      },
    };
    const fsm = await SimpleFSM.create(
      {
        name: 'signals',
        resources: [{ name: 'db', type: 'custom' }],
        states: [
          { name: 'a', is_start: true, resources: ['db'], transforms: ['step'] },
          { name: 'b', is_end: true },
        ],
        arcs: [{ from: 'a', to: 'b' }],
      },
      { resources: { db: provider }, functions: functions([]) },
    );
    const any = vi.spyOn(AbortSignal, 'any');
    const controllers = vi.spyOn(globalThis, 'AbortController');
    try {
      const batch = await fsm.processBatch(records(50), { concurrency: 4 });
      expect(batch.succeeded).toBe(50);
      expect(await collect(fsm.processStream(records(50), { concurrency: 4 }))).toHaveLength(50);
      // At most one combined signal and one controller per batch and per stream, not per record.
      expect(any.mock.calls.length).toBeLessThanOrEqual(2);
      expect(controllers.mock.calls.length).toBeLessThanOrEqual(3);
    } finally {
      any.mockRestore();
      controllers.mockRestore();
      await fsm.close();
    }
  });
});

describe('timeouts keep the process alive', () => {
  it('a function that never settles gets its TIMEOUT result instead of the process exiting', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fsm-timeout-'));
    const script = join(dir, 'hang.mjs');
    // The built package (like the CLI's child-process tests): build @fsm/core first.
    const core = new URL('../../dist/index.js', import.meta.url).pathname;
    writeFileSync(
      script,
      `import { SimpleFSM } from ${JSON.stringify(core)};
const fsm = await SimpleFSM.create(
  { name: 'hang', states: [{ name: 'a', is_start: true, transforms: ['hang'] }, { name: 'b', is_end: true }], arcs: [{ from: 'a', to: 'b' }] },
  { functions: { hang: () => new Promise(() => {}) } },
);
const one = await fsm.process({}, { timeoutMs: 50 });
const batch = await fsm.processBatch([{}, {}], { recordTimeoutMs: 50 });
const streamed = [];
for await (const r of fsm.processStream([{}], { recordTimeoutMs: 50 })) streamed.push(r.error?.code);
console.log(JSON.stringify([one.error?.code, ...batch.results.map((r) => r.error?.code), ...streamed]));
`,
    );
    const child = spawnSync(process.execPath, [script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe(JSON.stringify(['TIMEOUT', 'TIMEOUT', 'TIMEOUT', 'TIMEOUT']));
  });
});
