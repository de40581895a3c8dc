import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsmError } from '../errors/fsm-error.js';
import { ExecutionHistory } from '../history/execution-history.js';
import {
  type ExecutionFilter,
  type ExecutionSearch,
  matchesFilter,
  scanExecutions,
  scanFlowSummary,
} from '../history/flow-summary.js';
import type { ExecutionHistoryData, ExecutionStatus } from '../history/types.js';
import type { HistoryStore } from '../interfaces/history-store.js';

const T0 = Date.UTC(2026, 1, 1);
/** Values JSON writes escaped, an object, and a value that is only part of another. */
const OTHER_INPUT = { note: 'say "hi"\\ é 😀', address: { city: 'Oslo', zip: 1 }, code: 'AB-12' };

/**
 * Twelve executions of a small machine: main start -> (push into `score`: calc -> done) -> ok | bad.
 * Every third fails in `calc` with SCORE_FAILED, batches `a` and `b` alternate, the data carries
 * `customer` (string), `amount` (number) and `vip` (boolean).
 */
export function flowSampleHistories(): ExecutionHistoryData[] {
  const out: ExecutionHistoryData[] = [];
  for (let i = 0; i < 12; i++) {
    const startedAt = T0 + i * 1000;
    const failed = i % 3 === 2;
    const high = i % 2 === 0;
    const input = { customer: `c${i}`, amount: i * 10, vip: i % 4 === 0 };
    const history: ExecutionHistoryData = {
      executionId: `flow-${String(i).padStart(2, '0')}`,
      fsm: 'scoring',
      status: failed ? 'failed' : 'succeeded',
      startedAt,
      endedAt: startedAt + 40,
      input,
      batchId: i % 2 === 0 ? 'a' : 'b',
      itemIndex: i,
      steps: [
        {
          network: 'main',
          state: 'start',
          startedAt,
          endedAt: startedAt + 10,
          data: input,
          children: failed
            ? [
                {
                  network: 'score',
                  state: 'calc',
                  startedAt: startedAt + 1,
                  endedAt: startedAt + 5,
                  error: { code: 'SCORE_FAILED', message: `no score for c${i}`, state: 'calc' },
                },
              ]
            : [
                {
                  network: 'score',
                  state: 'calc',
                  arc: 'calc->done',
                  startedAt: startedAt + 1,
                  endedAt: startedAt + 3,
                },
                { network: 'score', state: 'done', startedAt: startedAt + 3, endedAt: startedAt + 4 },
              ],
        },
      ],
    };
    if (failed) {
      history.error = { code: 'SCORE_FAILED', message: `no score for c${i}`, state: 'calc' };
      history.finalState = 'calc';
    } else {
      const end = high ? 'ok' : 'bad';
      const step = history.steps[0];
      if (step) step.arc = 'push_score';
      history.steps.push(
        {
          network: 'main',
          state: 'decide',
          arc: high ? 'good' : 'poor',
          startedAt: startedAt + 10,
          endedAt: startedAt + 30,
        },
        { network: 'main', state: end, startedAt: startedAt + 30, endedAt: startedAt + 40 },
      );
      history.finalState = end;
      history.output = {
        data: { ...input, score: high ? 0.9 : 0.1 },
        path: ['start', 'decide', end],
        transitions: 2,
      };
    }
    out.push(history);
  }
  return out;
}

export interface FlowSummarySuiteOptions {
  /**
   * The store reads a data-field search in windows of `scanLimit` histories (SQL stores): the suite then
   * requires `countsExact: false` and pages cut at the window, not just allows them.
   */
  windowedFieldSearch?: boolean;
}

/** The histories a windowed data-field search reads: the newest `scanLimit` passing its other conditions. */
function searchWindow(histories: ExecutionHistoryData[], search: ExecutionSearch): ExecutionHistoryData[] {
  const { field: _field, ...others } = search;
  return histories
    .filter((h) => matchesFilter(h, others))
    .sort((a, b) => b.startedAt - a.startedAt || (a.executionId < b.executionId ? 1 : -1))
    .slice(0, search.scanLimit);
}

/**
 * Conformance of `summarizeFlow` and `findExecutions` (both optional on `HistoryStore`): counts per
 * arc, state and error code, filters, keyset paging and counts per filter — checked against fixed
 * numbers and against the in-memory reference (`scanFlowSummary` / `scanExecutions`).
 */
export function describeFlowSummary(
  name: string,
  makeStore: () => Promise<HistoryStore> | HistoryStore,
  options: FlowSummarySuiteOptions = {},
): void {
  describe(`flow summary conformance: ${name}`, () => {
    let store: HistoryStore;
    const histories = flowSampleHistories();

    beforeAll(async () => {
      store = await makeStore();
      for (const h of histories) await store.save(new ExecutionHistory(structuredClone(h)));
      // Another machine's execution in the same store: filtered out by fsm.
      await store.save(
        new ExecutionHistory({
          executionId: 'other-1',
          fsm: 'other',
          status: 'succeeded',
          startedAt: T0,
          input: OTHER_INPUT,
          steps: [{ network: 'main', state: 'x', arc: 'x->y', startedAt: T0, endedAt: T0 + 1 }],
        }),
      );
    });
    afterAll(async () => {
      await store?.close();
    });

    const summarize = (filter: ExecutionFilter) => {
      if (!store.summarizeFlow) throw new Error(`${name} has no summarizeFlow`);
      return store.summarizeFlow(filter);
    };
    const find = (search: Parameters<NonNullable<HistoryStore['findExecutions']>>[0]) => {
      if (!store.findExecutions) throw new Error(`${name} has no findExecutions`);
      return store.findExecutions(search);
    };

    it('counts arcs, states (with nested push steps), failures, mean times and error codes', async () => {
      const flow = await summarize({ fsm: 'scoring' });
      expect(flow.executions).toBe(12);
      expect(flow.statuses).toEqual({ running: 0, succeeded: 8, failed: 4 });
      expect(flow.arcs).toEqual([
        { network: 'main', state: 'decide', arc: 'good', count: 4 },
        { network: 'main', state: 'decide', arc: 'poor', count: 4 },
        { network: 'main', state: 'start', arc: 'push_score', count: 8 },
        { network: 'score', state: 'calc', arc: 'calc->done', count: 8 },
      ]);
      const calc = flow.states.find((s) => s.network === 'score' && s.state === 'calc');
      expect(calc).toMatchObject({ visits: 12, failures: 4 });
      // 8 steps of 2 ms and 4 failed steps of 4 ms.
      expect(calc?.meanMs).toBeCloseTo((8 * 2 + 4 * 4) / 12, 6);
      expect(flow.states.find((s) => s.state === 'decide')).toMatchObject({
        visits: 8,
        failures: 0,
        meanMs: 20,
      });
      expect(flow.states.map((s) => `${s.network}.${s.state}`)).toEqual([
        'main.bad',
        'main.decide',
        'main.ok',
        'main.start',
        'score.calc',
        'score.done',
      ]);
      expect(flow.errors).toEqual([{ code: 'SCORE_FAILED', count: 4 }]);
      expect(flow).toEqual(await scanFlowSummary(histories, { fsm: 'scoring' }));
    });

    it('summarizes one batch, one status, a time range', async () => {
      const a = await summarize({ fsm: 'scoring', batchId: 'a' });
      expect(a.executions).toBe(6);
      expect(a).toEqual(await scanFlowSummary(histories, { fsm: 'scoring', batchId: 'a' }));
      const failed = await summarize({ status: 'failed' });
      expect(failed.arcs).toEqual([]);
      expect(failed.statuses.failed).toBe(4);
      const range = { fsm: 'scoring', since: T0 + 3000, until: T0 + 6000 };
      expect((await summarize(range)).executions).toBe(3);
      const vip = { fsm: 'scoring', field: { path: 'vip', value: 'true' } };
      expect(await summarize(vip)).toEqual(await scanFlowSummary(histories, vip));
      expect((await summarize(vip)).executions).toBe(3);
      expect(await summarize({ fsm: 'nothing' })).toEqual({
        executions: 0,
        statuses: { running: 0, succeeded: 0, failed: 0 },
        arcs: [],
        states: [],
        errors: [],
      });
    });

    const filters: [string, ExecutionFilter, number][] = [
      ['status', { fsm: 'scoring', status: 'failed' }, 4],
      ['final state', { fsm: 'scoring', finalState: 'ok' }, 4],
      ['error code', { fsm: 'scoring', errorCode: 'SCORE_FAILED' }, 4],
      ['batch id', { fsm: 'scoring', batchId: 'b' }, 6],
      ['time range', { fsm: 'scoring', since: T0 + 1000, until: T0 + 4000 }, 3],
      ['a string field', { fsm: 'scoring', field: { path: 'customer', value: 'c7' } }, 1],
      ['a number field', { fsm: 'scoring', field: { path: 'amount', value: '30' } }, 1],
      ['a field of the final data', { fsm: 'scoring', field: { path: 'score', value: '0.9' } }, 4],
      ['a boolean field', { fsm: 'scoring', field: { path: 'vip', value: 'true' } }, 3],
      ['a missing field', { fsm: 'scoring', field: { path: 'nope.deeper', value: 'x' } }, 0],
      // `c1` is inside `c10`, `c11` and their messages: text found in a body is no match by itself.
      ['a value inside others', { fsm: 'scoring', field: { path: 'customer', value: 'c1' } }, 1],
      ['a value JSON escapes', { fsm: 'scoring', field: { path: 'customer', value: 'c"1\\' } }, 0],
      ['several at once', { fsm: 'scoring', batchId: 'a', status: 'succeeded', finalState: 'ok' }, 4],
    ];
    for (const [label, filter, expected] of filters) {
      it(`finds executions by ${label}`, async () => {
        const page = await find({ ...filter, limit: 100 });
        const reference = await scanExecutions(histories, { ...filter, limit: 100 });
        expect(page.items.map((i) => i.executionId)).toEqual(reference.items.map((i) => i.executionId));
        expect(page.items).toHaveLength(expected);
        const total = Object.values(page.counts).reduce((a, b) => a + b, 0);
        expect(total).toBe(expected);
        expect(page.counts).toEqual(reference.counts);
        // Twelve histories are well inside the default window: exact, with or without a data field.
        expect(page.countsExact).toBe(true);
        expect(page.countedSince).toBeUndefined();
      });
    }

    const windowed: [string, ExecutionSearch][] = [
      ['the newest histories', { fsm: 'scoring', field: { path: 'vip', value: 'true' }, scanLimit: 5 }],
      [
        'the newest histories of a status',
        { status: 'failed', field: { path: 'customer', value: 'c8' }, scanLimit: 1 },
      ],
      ['the newest of a batch', { batchId: 'a', field: { path: 'score', value: '0.9' }, scanLimit: 4 }],
    ];
    for (const [label, search] of windowed) {
      it(`reads a data-field search in windows of scanLimit: ${label}`, async () => {
        const reference = await scanExecutions(histories, { ...search, limit: 100 });
        const window = searchWindow(histories, search);
        const inWindow = await scanExecutions(window, { ...search, limit: 100 });
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let pages = 0; pages < 20; pages++) {
          const page = await find({ ...search, limit: 2, ...(cursor ? { cursor } : {}) });
          expect(page.items.length).toBeLessThanOrEqual(2);
          if (page.countsExact) {
            expect(options.windowedFieldSearch).not.toBe(true);
            expect(page.counts).toEqual(reference.counts);
          } else {
            // Counted over the newest window on every page, whichever page this is.
            expect(page.counts).toEqual(inWindow.counts);
            expect(page.countedExecutions).toBe(search.scanLimit);
            expect(page.countedSince).toBe(window.at(-1)?.startedAt);
          }
          if (options.windowedFieldSearch && pages === 0) {
            expect(page.countsExact).toBe(false);
            // The first page is the newest window's matches (up to the page size), and goes on.
            expect(page.items.map((i) => i.executionId)).toEqual(
              inWindow.items.slice(0, 2).map((i) => i.executionId),
            );
            expect(page.nextCursor).toBeDefined();
          }
          seen.push(...page.items.map((i) => i.executionId));
          cursor = page.nextCursor;
          if (!cursor) break;
        }
        // Going on from page to page finds every match once, newest first.
        expect(seen).toEqual(reference.items.map((i) => i.executionId));
        // A "count all": every match counted, exact.
        const all = await find({ ...search, exactCounts: true });
        expect(all.counts).toEqual(reference.counts);
        expect(all.countsExact).toBe(true);
        expect(all.countedSince).toBeUndefined();
      });
    }

    it('finds values JSON writes escaped, objects as JSON, and no value by a part of it', async () => {
      const found = async (path: string, value: string) =>
        (await find({ fsm: 'other', field: { path, value } })).items.map((i) => i.executionId);
      expect(await found('note', OTHER_INPUT.note)).toEqual(['other-1']);
      expect(await found('address', JSON.stringify(OTHER_INPUT.address))).toEqual(['other-1']);
      expect(await found('address.zip', '1')).toEqual(['other-1']);
      expect(await found('code', 'AB-12')).toEqual(['other-1']);
      expect(await found('code', 'AB-1')).toEqual([]);
      expect(await found('note', 'say')).toEqual([]);
    });

    it('counts searches without a data field exactly, whatever scanLimit says', async () => {
      const page = await find({ fsm: 'scoring', status: 'failed', scanLimit: 1, limit: 1 });
      expect(page.counts).toEqual({ running: 0, succeeded: 0, failed: 4 });
      expect(page.countsExact).toBe(true);
      expect(page.items).toHaveLength(1);
    });

    it('pages newest first with a cursor and reports batch, final state and error code', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await find({ fsm: 'scoring', limit: 5, ...(cursor ? { cursor } : {}) });
        expect(page.counts).toEqual({ running: 0, succeeded: 8, failed: 4 });
        seen.push(...page.items.map((i) => i.executionId));
        cursor = page.nextCursor;
        if (!cursor) break;
      }
      expect(seen).toEqual(histories.map((h) => h.executionId).reverse());
      const [first] = (await find({ fsm: 'scoring', errorCode: 'SCORE_FAILED', limit: 1 })).items;
      expect(first).toMatchObject({
        executionId: 'flow-11',
        status: 'failed' satisfies ExecutionStatus,
        batchId: 'b',
        finalState: 'calc',
        errorCode: 'SCORE_FAILED',
      });
    });

    it('follows histories saved again, deleted, and added after a summary (stores that cache it)', async () => {
      const other = await makeStore();
      try {
        const [first, second] = flowSampleHistories();
        if (!first || !second || !other.summarizeFlow) throw new Error('needs two samples and summarizeFlow');
        await other.save(new ExecutionHistory(structuredClone(first)));
        const running = structuredClone(second);
        running.status = 'running';
        delete running.endedAt;
        await other.save(new ExecutionHistory(running));
        const before = await other.summarizeFlow({ fsm: 'scoring' });
        expect(before.statuses).toEqual({ running: 1, succeeded: 1, failed: 0 });
        expect(before.states.find((s) => s.state === 'start')?.visits).toBe(2);
        // The running one finishes; the first is saved again as failed in `start`; a new one arrives.
        await other.save(new ExecutionHistory(structuredClone(second)));
        const redone: ExecutionHistoryData = {
          ...structuredClone(first),
          status: 'failed',
          endedAt: (first.endedAt ?? 0) + 5,
          error: { code: 'REDONE', message: 'ran again and failed' },
          steps: [
            {
              network: 'main',
              state: 'start',
              startedAt: first.startedAt,
              endedAt: first.startedAt + 1,
              error: { code: 'REDONE', message: 'x' },
            },
          ],
        };
        await other.save(new ExecutionHistory(structuredClone(redone)));
        const third = flowSampleHistories()[3] as ExecutionHistoryData;
        await other.save(new ExecutionHistory(structuredClone(third)));
        const after = await other.summarizeFlow({ fsm: 'scoring' });
        const expected = await scanFlowSummary([redone, second, third], { fsm: 'scoring' });
        expect(after).toEqual(expected);
        expect(after.errors).toEqual([{ code: 'REDONE', count: 1 }]);
        if (other.findExecutions) {
          const redone = await other.findExecutions({ errorCode: 'REDONE' });
          expect(redone.items.map((i) => i.executionId)).toEqual([first.executionId]);
          const ok = await other.findExecutions({ finalState: second.finalState ?? '' });
          expect(ok.items.map((i) => i.executionId)).toContain(second.executionId);
        }
        await other.delete(third.executionId);
        await other.delete(second.executionId);
        const left = await other.summarizeFlow({ fsm: 'scoring' });
        expect(left.executions).toBe(1);
        expect(left.arcs).toEqual([]);
        expect(left.states).toEqual([{ network: 'main', state: 'start', visits: 1, failures: 1, meanMs: 1 }]);
      } finally {
        await other.close();
      }
    });

    it('pages a search by error code or final state with a cursor, within a time range too', async () => {
      for (const filter of [
        { fsm: 'scoring', errorCode: 'SCORE_FAILED' },
        { finalState: 'ok', since: T0 + 1000, until: T0 + 9000 },
        { finalState: 'bad', status: 'succeeded' as const, batchId: 'b' },
      ] satisfies ExecutionFilter[]) {
        const reference = await scanExecutions(histories, { ...filter, limit: 100 });
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let pages = 0; pages < 10; pages++) {
          const page = await find({ ...filter, limit: 2, ...(cursor ? { cursor } : {}) });
          expect(page.counts, JSON.stringify(filter)).toEqual(reference.counts);
          seen.push(...page.items.map((i) => i.executionId));
          cursor = page.nextCursor;
          if (!cursor) break;
        }
        expect(seen, JSON.stringify(filter)).toEqual(reference.items.map((i) => i.executionId));
        expect(seen.length).toBeGreaterThan(1);
      }
    });

    it('follows late, old and swapped histories between summaries, in the flow and in the search counts', async () => {
      const other = await makeStore();
      try {
        if (!other.summarizeFlow || !other.findExecutions) throw new Error(`${name} needs both queries`);
        const samples = flowSampleHistories();
        const at = (i: number) => samples[i] as ExecutionHistoryData;
        const kept: ExecutionHistoryData[] = [];
        const save = async (h: ExecutionHistoryData) => {
          await other.save(new ExecutionHistory(structuredClone(h)));
          const i = kept.findIndex((k) => k.executionId === h.executionId);
          if (i === -1) kept.push(h);
          else kept[i] = h;
        };
        const check = async () => {
          expect(await other.summarizeFlow?.({ fsm: 'scoring' })).toEqual(
            await scanFlowSummary(kept, { fsm: 'scoring' }),
          );
          const page = await other.findExecutions?.({ fsm: 'scoring', limit: 100 });
          expect(page?.counts).toEqual((await scanExecutions(kept, { fsm: 'scoring', limit: 100 })).counts);
        };
        for (const i of [5, 6, 7]) await save(at(i));
        await check();
        // Ends before the newest summarized one (a slow clock, a late commit), within a minute of it.
        await save(at(4));
        await check();
        // Saved again with an earlier end time and another status, still within that minute.
        await save({
          ...at(6),
          status: 'failed',
          endedAt: (at(6).endedAt ?? 0) - 500,
          error: { code: 'LATE', message: 'x' },
        });
        await check();
        // One deleted and one added between two summaries: the count stays the same.
        await other.delete(at(5).executionId);
        kept.splice(
          kept.findIndex((k) => k.executionId === at(5).executionId),
          1,
        );
        await save(at(3));
        await check();
        // Ended a day before everything summarized (an imported history), then deleted again.
        const old = {
          ...at(0),
          startedAt: at(0).startedAt - 86_400_000,
          endedAt: (at(0).endedAt ?? 0) - 86_400_000,
        };
        await save(old);
        await check();
        await other.delete(old.executionId);
        kept.splice(
          kept.findIndex((k) => k.executionId === old.executionId),
          1,
        );
        await check();
      } finally {
        await other.close();
      }
    });

    it('rejects prototype keys and odd field paths, and foreign cursors, as MISUSE', async () => {
      for (const path of ['__proto__', 'a.constructor', 'a..b', "x') or 1=1 --"]) {
        const error = await find({ field: { path, value: '1' } }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(FsmError);
        expect((error as FsmError).code).toBe('MISUSE');
        const flowError = await summarize({ field: { path, value: '1' } }).catch((e: unknown) => e);
        expect((flowError as FsmError).code).toBe('MISUSE');
      }
      const error = await find({ cursor: 'not-a-cursor' }).catch((e: unknown) => e);
      expect((error as FsmError).code).toBe('MISUSE');
      for (const scanLimit of [0, -1, 1.5, Number.NaN]) {
        const bad = await find({ field: { path: 'a', value: '1' }, scanLimit }).catch((e: unknown) => e);
        expect((bad as FsmError).code, String(scanLimit)).toBe('MISUSE');
      }
      // Well-formed JSON, but no start time a store holds: MISUSE here, not a database error.
      for (const position of [
        [1.5, 'x'],
        [1e300, 'x'],
        [-1e300, 'x'],
      ]) {
        const cursor = Buffer.from(JSON.stringify(position)).toString('base64url');
        const crafted = await find({ cursor }).catch((e: unknown) => e);
        expect((crafted as FsmError).code, JSON.stringify(position)).toBe('MISUSE');
      }
    });
  });
}
