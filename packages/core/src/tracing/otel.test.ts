import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { byName, tracedConfig } from './test-support/traced-config.js';
import { SimpleFSM } from '../api/simple-fsm.js';
import type { ExecutionSnapshot } from '../engine/snapshot.js';
import type { ExecutionHistory } from '../history/execution-history.js';
import type { HistorySummary } from '../history/types.js';
import type { BatchItemRecord, CheckpointStore, HistoryStore } from '../interfaces/history-store.js';
import { createFsmTracing, emitHistorySpans, loadOtelApi } from './otel.js';

const config = tracedConfig();

function setup() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, provider };
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

afterEach(() => {
  trace.disable();
});

describe('OpenTelemetry from core', () => {
  it('is off (no spans, no tracer) when no provider is registered', async () => {
    expect(await loadOtelApi()).toBeDefined();
    expect(await createFsmTracing()).toBeUndefined();
    expect(await createFsmTracing({ enabled: false })).toBeUndefined();
  });

  it('makes an execution span with a child per state and per push, nested as the sub-networks are', async () => {
    const { exporter, provider } = setup();
    const fsm = await SimpleFSM.create(config, { tracing: { tracer: provider.getTracer('test') } });
    const result = await fsm.process({ n: 1 }, { executionId: 'exec-1' });
    expect(result.success).toBe(true);
    await fsm.close();
    const spans = exporter.getFinishedSpans();
    const [root] = byName(spans, 'fsm.execution traced');
    expect(root?.attributes).toMatchObject({
      'fsm.name': 'traced',
      'fsm.execution_id': 'exec-1',
      'fsm.final_state': 'ok',
    });
    expect(root?.parentSpanContext).toBeUndefined();
    const id = root?.spanContext().spanId;
    const innerPush = byName(spans, 'fsm.push inner')[0] as ReadableSpan;
    const deepPush = byName(spans, 'fsm.push deep')[0] as ReadableSpan;
    expect(parentOf(innerPush)).toBe(id);
    expect(innerPush.attributes).toMatchObject({
      'fsm.arc': 'go_inner',
      'fsm.state': 'start',
      'fsm.push.network': 'inner',
    });
    expect(parentOf(deepPush)).toBe(innerPush.spanContext().spanId);
    const state = (name: string) => byName(spans, `fsm.state ${name}`)[0] as ReadableSpan;
    expect(parentOf(state('main.start'))).toBe(id);
    expect(state('main.start').attributes['fsm.arc']).toBe('go_inner');
    expect(parentOf(state('inner.a'))).toBe(innerPush.spanContext().spanId);
    expect(parentOf(state('deep.x'))).toBe(deepPush.spanContext().spanId);
    expect(state('deep.x').attributes).toMatchObject({
      'fsm.network': 'deep',
      'fsm.state': 'x',
      'fsm.arc': 'x->y',
    });
    expect(parentOf(state('inner.b'))).toBe(innerPush.spanContext().spanId);
    // Back in main after both pushes returned.
    expect(parentOf(state('main.check'))).toBe(id);
    expect(parentOf(state('main.ok'))).toBe(id);
    // One execution, two pushes, seven states.
    expect(spans).toHaveLength(1 + 2 + 7);
    for (const span of spans) expect(span.ended).toBe(true);
  });

  it('marks the failing state and the execution with the error code and batch id', async () => {
    const { exporter, provider } = setup();
    trace.setGlobalTracerProvider(provider);
    // No tracer passed: the registered provider is found.
    const fsm = await SimpleFSM.create(config);
    await fsm.processBatch([{ n: 1 }, { n: 500 }]);
    await fsm.close();
    const spans = exporter.getFinishedSpans();
    const roots = byName(spans, 'fsm.execution traced');
    expect(roots).toHaveLength(2);
    const failed = roots.find((s) => s.attributes['fsm.error_code'] === 'VALIDATION_FAILED');
    expect(failed?.status.code).toBe(2);
    expect(typeof failed?.attributes['fsm.batch_id']).toBe('string');
    const check = byName(spans, 'fsm.state main.check').find(
      (s) => parentOf(s) === failed?.spanContext().spanId,
    );
    expect(check?.attributes['fsm.error_code']).toBe('VALIDATION_FAILED');
    expect(check?.status.code).toBe(2);
  });

  it('traces a resumed execution too', async () => {
    const { exporter, provider } = setup();
    const store = new CheckpointMemory();
    const slowConfig = {
      name: 'slow',
      states: [
        { name: 'a', is_start: true, transforms: ['slow'] },
        { name: 'b', transforms: ['slow'] },
        { name: 'c', is_end: true },
      ],
      arcs: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c' },
      ],
    };
    const options = {
      storage: store,
      checkpoint: 'every-step' as const,
      functions: { slow: async (d: unknown) => (await new Promise((r) => setTimeout(r, 30)), d) },
      tracing: { tracer: provider.getTracer('test') },
    };
    const fsm = await SimpleFSM.create(slowConfig, options);
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 45);
    const first = await fsm.process({ n: 1 }, { executionId: 'r-1', signal: stop.signal });
    expect(first.error?.code).toBe('ABORTED');
    const resumed = await fsm.resume('r-1');
    expect(resumed.success).toBe(true);
    await fsm.close();
    const roots = byName(exporter.getFinishedSpans(), 'fsm.execution slow');
    expect(roots).toHaveLength(2);
    expect(roots[1]?.attributes).toMatchObject({ 'fsm.execution_id': 'r-1', 'fsm.final_state': 'c' });
    const states = exporter
      .getFinishedSpans()
      .filter((s) => parentOf(s) === roots[1]?.spanContext().spanId)
      .map((s) => s.name);
    expect(states).toContain('fsm.state main.c');
  });

  it('rebuilds the same span tree from a finished history (what @fsm/bullmq emits)', async () => {
    const { exporter, provider } = setup();
    const fsm = await SimpleFSM.create(config, { history: true, tracing: { enabled: false } });
    const result = await fsm.process({ n: 1 }, { executionId: 'exec-2' });
    await fsm.close();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    const otel = await loadOtelApi();
    if (!otel || !result.history) throw new Error('needs the API and a history');
    emitHistorySpans(otel, provider.getTracer('test'), {
      ...result,
      fsm: 'traced',
      startedAt: result.history.startedAt,
      durationMs: result.durationMs,
      steps: result.history.steps,
    });
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual(
      [
        'fsm.execution traced',
        'fsm.push deep',
        'fsm.push inner',
        'fsm.state deep.x',
        'fsm.state deep.y',
        'fsm.state inner.a',
        'fsm.state inner.b',
        'fsm.state main.check',
        'fsm.state main.ok',
        'fsm.state main.start',
      ].sort(),
    );
    const deepX = byName(spans, 'fsm.state deep.x')[0];
    const deepPush = byName(spans, 'fsm.push deep')[0];
    expect(parentOf(deepX as ReadableSpan)).toBe(deepPush?.spanContext().spanId);
  });
});

/** Histories and checkpoints in memory as JSON: enough for a resume. */
class CheckpointMemory implements HistoryStore, CheckpointStore {
  readonly specificationVersion = 'v1' as const;
  private readonly histories = new Map<string, string>();
  private readonly checkpoints = new Map<string, string>();
  async save(h: ExecutionHistory) {
    this.histories.set(h.executionId, JSON.stringify(h));
  }
  async load(id: string) {
    const json = this.histories.get(id);
    const { ExecutionHistory } = await import('../history/execution-history.js');
    return json ? ExecutionHistory.fromJSON(json) : undefined;
  }
  async *query(): AsyncIterable<HistorySummary> {
    // Not listed by this test.
  }
  async delete(id: string) {
    return this.histories.delete(id);
  }
  async close() {
    return undefined;
  }
  async saveCheckpoint(s: ExecutionSnapshot) {
    this.checkpoints.set(s.executionId, JSON.stringify(s));
  }
  async loadCheckpoint(id: string) {
    const json = this.checkpoints.get(id);
    return json ? (JSON.parse(json) as ExecutionSnapshot) : undefined;
  }
  async deleteCheckpoint(id: string) {
    return this.checkpoints.delete(id);
  }
  async saveBatchItems(_batchId: string, _items: BatchItemRecord[]) {
    // No batches in this test.
  }
  async loadBatchItems(_batchId: string): Promise<BatchItemRecord[]> {
    return [];
  }
}
