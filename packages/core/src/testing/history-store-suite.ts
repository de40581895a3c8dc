import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionSnapshot } from '../engine/snapshot.js';
import { type FinishedHistoryFields, resultOfHistory } from '../history/batch-result.js';
import { ExecutionHistory } from '../history/execution-history.js';
import type { ExecutionHistoryData, HistoryQuery, HistorySummary } from '../history/types.js';
import {
  type BatchItemRecord,
  type CheckpointStore,
  type HistoryStore,
  isCheckpointStore,
  isStepLogStore,
  type StepLogEntry,
  type StepLogStore,
} from '../interfaces/history-store.js';

export interface HistoryStoreSuiteOptions {
  /** Whether the store must also implement `CheckpointStore` (the built-in backends do). */
  checkpoints?: boolean;
  /** Whether `deleteOlderThan` must exist (retention). */
  retention?: boolean;
}

/** A history with a push-arc tree, so stores are checked on nested steps too. */
export function sampleHistory(overrides: Partial<ExecutionHistoryData> = {}): ExecutionHistory {
  const startedAt = overrides.startedAt ?? Date.UTC(2026, 0, 1);
  return new ExecutionHistory({
    executionId: 'exec-1',
    fsm: 'orders',
    status: 'succeeded',
    startedAt,
    endedAt: startedAt + 25,
    finalState: 'done',
    input: { id: 1, note: 'ünïcode ✓' },
    output: { data: { id: 1, total: 12.5 }, path: ['start', 'enrich', 'done'], transitions: 2 },
    steps: [
      {
        network: 'main',
        state: 'start',
        arc: 'start->enrich',
        startedAt,
        endedAt: startedAt + 5,
        data: { id: 1 },
        children: [
          {
            network: 'lookup',
            state: 'fetch',
            startedAt: startedAt + 1,
            endedAt: startedAt + 3,
            resources: ['db'],
          },
          { network: 'lookup', state: 'found', startedAt: startedAt + 3, endedAt: startedAt + 4 },
        ],
      },
      { network: 'main', state: 'done', startedAt: startedAt + 20, endedAt: startedAt + 25 },
    ],
    metadata: { source: 'suite' },
    ...overrides,
  });
}

function sampleSnapshot(executionId: string, state: string): ExecutionSnapshot {
  return {
    version: 1,
    fsm: 'orders',
    executionId,
    network: 'main',
    state,
    phase: 'enter',
    data: { id: 7, nested: { list: [1, 2, 3] } },
    transitions: 1,
    path: ['start'],
    startedAt: Date.UTC(2026, 0, 1),
    stack: [{ network: 'main', state: 'start', arcIndex: 0, parentData: { id: 7 } }],
    variables: { counter: 1 },
    batch: { batchId: 'b1', itemIndex: 3 },
  };
}

async function collect(iterable: AsyncIterable<HistorySummary>): Promise<HistorySummary[]> {
  const out: HistorySummary[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/**
 * The conformance suite of `HistoryStore` (and `CheckpointStore`). Every backend package runs it:
 * `describeHistoryStore('sqlite', () => openSqliteStore({ filename }))`. Each test gets a fresh store
 * from `makeStore`, which must return an empty store.
 */
export function describeHistoryStore(
  name: string,
  makeStore: () => Promise<HistoryStore> | HistoryStore,
  options: HistoryStoreSuiteOptions = {},
): void {
  const { checkpoints = true, retention = true } = options;
  describe(`HistoryStore conformance: ${name}`, () => {
    const open: HistoryStore[] = [];
    const fresh = async () => {
      const store = await makeStore();
      open.push(store);
      return store;
    };
    afterAll(async () => {
      const failures: unknown[] = [];
      for (const store of open) {
        try {
          await store.close();
        } catch (error) {
          failures.push(error);
        }
      }
      if (failures.length > 0) throw new AggregateError(failures, `closing ${name} stores failed`);
    });

    it('declares specificationVersion v1', async () => {
      expect((await fresh()).specificationVersion).toBe('v1');
    });

    it('saves and loads a history with its push tree unchanged', async () => {
      const store = await fresh();
      const history = sampleHistory();
      await store.save(history);
      const loaded = await store.load('exec-1');
      expect(loaded).toBeInstanceOf(ExecutionHistory);
      expect(loaded?.toJSON()).toEqual(history.toJSON());
      expect(await store.load('missing')).toBeUndefined();
    });

    it('save replaces the history with the same id', async () => {
      const store = await fresh();
      await store.save(sampleHistory({ status: 'running', steps: [] }));
      await store.save(
        sampleHistory({ status: 'failed', error: { code: 'VALIDATION_FAILED', message: 'bad' } }),
      );
      const loaded = await store.load('exec-1');
      expect(loaded?.status).toBe('failed');
      expect(loaded?.error?.code).toBe('VALIDATION_FAILED');
      expect(await collect(store.query())).toHaveLength(1);
    });

    it('queries newest first, by fsm, status and time range', async () => {
      const store = await fresh();
      const base = Date.UTC(2026, 0, 1);
      for (let i = 0; i < 6; i++) {
        await store.save(
          sampleHistory({
            executionId: `e${i}`,
            fsm: i % 2 === 0 ? 'even' : 'odd',
            status: i === 5 ? 'failed' : 'succeeded',
            startedAt: base + i * 1000,
          }),
        );
      }
      const ids = async (filter?: HistoryQuery) =>
        (await collect(store.query(filter))).map((s) => s.executionId);
      expect(await ids()).toEqual(['e5', 'e4', 'e3', 'e2', 'e1', 'e0']);
      expect(await ids({ fsm: 'even' })).toEqual(['e4', 'e2', 'e0']);
      expect(await ids({ status: 'failed' })).toEqual(['e5']);
      expect(await ids({ since: base + 2000, until: new Date(base + 4000) })).toEqual(['e3', 'e2']);
      const [first] = await collect(store.query({ limit: 1 }));
      expect(first).toMatchObject({
        executionId: 'e5',
        fsm: 'odd',
        status: 'failed',
        startedAt: base + 5000,
      });
    });

    it('pages with limit and cursor without gaps or repeats', async () => {
      const store = await fresh();
      const base = Date.UTC(2026, 0, 2);
      // Two executions share a start time, so the cursor must break ties by id.
      for (let i = 0; i < 7; i++)
        await store.save(sampleHistory({ executionId: `p${i}`, startedAt: base + Math.floor(i / 2) * 10 }));
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const filter: HistoryQuery = { limit: 3 };
        if (cursor !== undefined) filter.cursor = cursor;
        const items = await collect(store.query(filter));
        if (items.length === 0) break;
        expect(items.length).toBeLessThanOrEqual(3);
        seen.push(...items.map((s) => s.executionId));
        cursor = items.at(-1)?.cursor;
        expect(cursor).toBeTypeOf('string');
      }
      expect(seen).toHaveLength(7);
      expect(new Set(seen).size).toBe(7);
      expect(seen).toEqual(['p6', 'p5', 'p4', 'p3', 'p2', 'p1', 'p0']);
    });

    it('deletes one history and reports whether it existed', async () => {
      const store = await fresh();
      await store.save(sampleHistory());
      expect(await store.delete('exec-1')).toBe(true);
      expect(await store.delete('exec-1')).toBe(false);
      expect(await store.load('exec-1')).toBeUndefined();
      expect(await collect(store.query())).toEqual([]);
    });

    if (retention) {
      it('deleteOlderThan removes executions that ended before the cutoff', async () => {
        const store = await fresh();
        expect(store.deleteOlderThan).toBeTypeOf('function');
        const base = Date.UTC(2026, 0, 3);
        await store.save(sampleHistory({ executionId: 'old', startedAt: base, endedAt: base + 10 }));
        await store.save(sampleHistory({ executionId: 'new', startedAt: base + 5000, endedAt: base + 5010 }));
        await store.save(
          sampleHistory({ executionId: 'live', status: 'running', startedAt: base, steps: [] }),
        );
        const removed = await store.deleteOlderThan?.(new Date(base + 1000));
        expect(removed).toBe(1);
        expect(await store.load('old')).toBeUndefined();
        expect(await store.load('new')).toBeDefined();
        expect(await store.load('live')).toBeDefined();
      });
    }

    it('many concurrent saves all land', async () => {
      const store = await fresh();
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store.save(sampleHistory({ executionId: `c${i}`, startedAt: Date.UTC(2026, 1, 1) + i })),
        ),
      );
      expect(await collect(store.query())).toHaveLength(50);
    });

    if (checkpoints) {
      describe('CheckpointStore', () => {
        let store: HistoryStore & CheckpointStore;
        beforeAll(async () => {
          const candidate = await fresh();
          expect(isCheckpointStore(candidate), `${name} must implement CheckpointStore`).toBe(true);
          store = candidate as HistoryStore & CheckpointStore;
        });

        it('saves, replaces, loads and deletes checkpoints', async () => {
          expect(await store.loadCheckpoint('cp')).toBeUndefined();
          await store.saveCheckpoint(sampleSnapshot('cp', 'enrich'));
          await store.saveCheckpoint(sampleSnapshot('cp', 'load'));
          expect(await store.loadCheckpoint('cp')).toEqual(sampleSnapshot('cp', 'load'));
          expect(await store.deleteCheckpoint('cp')).toBe(true);
          expect(await store.deleteCheckpoint('cp')).toBe(false);
          expect(await store.loadCheckpoint('cp')).toBeUndefined();
        });

        it('records batch items idempotently, sorted by index', async () => {
          const item = (i: number, success = true) => ({
            itemIndex: i,
            executionId: `b:${i}`,
            success,
            result: { success, data: { i } },
          });
          await store.saveBatchItems('batch-a', [item(2), item(0)]);
          await store.saveBatchItems('batch-a', [item(0), item(1, false)]);
          await store.saveBatchItems('batch-b', [item(9)]);
          expect(await store.loadBatchItems('batch-a')).toEqual([item(0), item(1, false), item(2)]);
          expect(await store.loadBatchItems('none')).toEqual([]);
        });

        it('step log (when the store has one): rows assemble into the checkpoint, finishing is atomic', async () => {
          if (!isStepLogStore(store)) return;
          const log: StepLogStore & HistoryStore = store;
          const step = (state: string, extra: Record<string, unknown> = {}) => ({
            network: 'main',
            state,
            startedAt: 1,
            ...extra,
          });
          const entry = (seq: number, state: string, steps: StepLogEntry['steps']): StepLogEntry => {
            const e: StepLogEntry = {
              executionId: 'log:1',
              fsm: 'orders',
              seq,
              snapshot:
                seq === 1
                  ? { ...sampleSnapshot('log:1', state), path: ['a'] }
                  : // Later rows leave out what did not change and continue the path.
                    {
                      network: 'sub',
                      state,
                      phase: 'select',
                      data: { seq },
                      transitions: seq,
                      path: [state],
                      pathFrom: 1,
                      stack: [],
                    },
            };
            if (steps) e.steps = steps;
            return e;
          };
          await log.appendStep(entry(1, 'a', { from: 0, entries: [{ parent: -1, step: step('a') }] }));
          // The next row closes step 0 and adds a pushed sub-network step under it.
          await log.appendStep(
            entry(3, 'b', {
              from: 0,
              entries: [
                { parent: -1, step: step('a', { arc: 'a->b', endedAt: 2 }) },
                { parent: 0, step: { network: 'sub', state: 'b', startedAt: 2 } },
              ],
            }),
          );
          const checkpoint = await log.loadCheckpoint('log:1');
          expect(checkpoint).toMatchObject({
            version: 1,
            fsm: 'orders',
            executionId: 'log:1',
            network: 'sub',
            state: 'b',
            phase: 'select',
            data: { seq: 3 },
            transitions: 3,
            path: ['a', 'b'],
            stack: [],
            variables: { counter: 1 },
            batch: { batchId: 'b1', itemIndex: 3 },
          });
          expect(checkpoint?.steps).toEqual([
            {
              ...step('a', { arc: 'a->b', endedAt: 2 }),
              children: [{ network: 'sub', state: 'b', startedAt: 2 }],
            },
          ]);
          expect(await log.listCheckpoints?.('log:')).toEqual(['log:1']);
          expect(await log.listCheckpoints?.('lo%')).toEqual([]);

          const history = sampleHistory({ executionId: 'log:1', batchId: 'logb', itemIndex: 4 });
          await log.finishExecution({
            executionId: 'log:1',
            history,
            batchItem: {
              batchId: 'logb',
              itemIndex: 4,
              executionId: 'log:1',
              success: true,
              result: { ok: 1 },
            },
          });
          expect(await log.loadCheckpoint('log:1')).toBeUndefined();
          expect(await log.listCheckpoints?.('log:')).toEqual([]);
          expect((await log.load('log:1'))?.toJSON()).toEqual(history.toJSON());
          expect(await log.loadBatchItems('logb')).toEqual([
            { itemIndex: 4, executionId: 'log:1', success: true, result: { ok: 1 } },
          ]);
        });

        it('step log: concurrent appends and finishes of many executions all land (group commit)', async () => {
          if (!isStepLogStore(store)) return;
          const log: StepLogStore & HistoryStore = store;
          const ids = Array.from({ length: 40 }, (_, i) => `grp:${i}`);
          await Promise.all(
            ids.map(async (id, i) => {
              for (let seq = 1; seq <= 3; seq++) {
                await log.appendStep({
                  executionId: id,
                  fsm: 'orders',
                  seq,
                  snapshot: sampleSnapshot(id, `s${seq}`),
                });
              }
              if (i % 2 === 0) {
                await log.finishExecution({
                  executionId: id,
                  history: sampleHistory({ executionId: id }),
                  batchItem: { batchId: 'grp', itemIndex: i, executionId: id, success: true, result: i },
                });
              }
            }),
          );
          const open = (await log.listCheckpoints?.('grp:'))?.sort();
          if (open) expect(open).toEqual(ids.filter((_, i) => i % 2 === 1).sort());
          expect((await log.loadCheckpoint('grp:1'))?.state).toBe('s3');
          expect(await log.loadCheckpoint('grp:0')).toBeUndefined();
          expect((await log.loadBatchItems('grp')).map((item) => item.itemIndex)).toEqual(
            ids.flatMap((_, i) => (i % 2 === 0 ? [i] : [])),
          );
          expect(await log.deleteCheckpoint('grp:1')).toBe(true);
          expect(await log.loadCheckpoint('grp:1')).toBeUndefined();
        });

        it("step log: a batch item kept in its history reads back as the history's result, merged in index order with saved items", async () => {
          if (!isStepLogStore(store)) return;
          const log: StepLogStore & HistoryStore = store;
          // Items 0, 2, 4, … kept in their histories (a failed one among them), 1, 3, … saved as items of their own.
          const count = 7;
          const expected: BatchItemRecord[] = [];
          await Promise.all(
            Array.from({ length: count }, (_, i) => {
              const executionId = `ih:${i}`;
              if (i % 2 === 1) {
                const item = { itemIndex: i, executionId, success: true, result: { own: i } };
                expected.push(item);
                return log.saveBatchItems('ih', [item]);
              }
              const failed = i === 4;
              const history = sampleHistory({
                executionId,
                batchId: 'ih',
                itemIndex: i,
                // Item 2's path is its steps' states (depth first), which a store may leave out and rebuild.
                ...(i === 2
                  ? { output: { data: { id: 1 }, path: ['start', 'fetch', 'found', 'done'], transitions: 3 } }
                  : {}),
                ...(failed
                  ? {
                      status: 'failed' as const,
                      error: { code: 'VALIDATION_FAILED', message: 'amount: must be >= 0', state: 'start' },
                    }
                  : {}),
              });
              const result = resultOfHistory(history as ExecutionHistory & FinishedHistoryFields, 3.25 + i);
              const item = { itemIndex: i, executionId, success: !failed, result };
              expected.push(JSON.parse(JSON.stringify(item)) as BatchItemRecord);
              return log.finishExecution({
                executionId,
                history,
                batchItem: { batchId: 'ih', ...item },
                itemInHistory: true,
                checkpointed: false,
              });
            }),
          );
          expected.sort((a, b) => a.itemIndex - b.itemIndex);
          expect(await log.loadBatchItems('ih')).toEqual(expected);
          if (log.streamBatchItems) {
            const streamed: BatchItemRecord[] = [];
            for await (const item of log.streamBatchItems('ih')) streamed.push(item);
            expect(streamed).toEqual(expected);
          }
          expect((await log.load('ih:4'))?.toJSON()).toEqual(
            sampleHistory({
              executionId: 'ih:4',
              batchId: 'ih',
              itemIndex: 4,
              status: 'failed',
              error: { code: 'VALIDATION_FAILED', message: 'amount: must be >= 0', state: 'start' },
            }).toJSON(),
          );
          // Saving the history again (not finishing it) keeps it the batch's item.
          await log.save(sampleHistory({ executionId: 'ih:0', batchId: 'ih', itemIndex: 0 }));
          expect((await log.loadBatchItems('ih')).map((item) => item.itemIndex)).toEqual([
            0, 1, 2, 3, 4, 5, 6,
          ]);
        });

        it('streams batch items in index order, page after page', async () => {
          if (!isStepLogStore(store) || !store.streamBatchItems) return;
          const many = Array.from({ length: 1203 }, (_, k) => ({
            itemIndex: 1202 - k,
            executionId: `m:${1202 - k}`,
            success: k % 7 !== 0,
            result: { k },
          }));
          await store.saveBatchItems('many', many);
          const seen: number[] = [];
          for await (const item of store.streamBatchItems('many')) seen.push(item.itemIndex);
          expect(seen).toEqual(Array.from({ length: 1203 }, (_, i) => i));
        });
      });
    }
  });
}
