import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type Span,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { byName, tracedConfig } from '../tracing/test-support/traced-config.js';
import type { ExecutionHistory } from '../history/execution-history.js';
import type { HistorySummary } from '../history/types.js';
import type { HistoryStore } from '../interfaces/history-store.js';
import { AdvancedFSM, type FsmExecution } from './advanced-fsm.js';
import { SimpleFSM } from './simple-fsm.js';

const config = tracedConfig(['gate']);

/** `gate` waits for the test's go-ahead when a record asks for it (no timers). */
let gateOpen: (() => void) | undefined;
const functions = {
  gate: (d: { wait?: boolean }) =>
    d.wait
      ? new Promise((resolve) => {
          gateOpen = () => resolve(d);
        })
      : d,
};

/** Spans started and not yet ended: an unended span never reaches the exporter, so it is counted here. */
class OpenSpans implements SpanProcessor {
  readonly open = new Set<Span>();
  onStart(span: Span): void {
    this.open.add(span);
  }
  onEnd(span: ReadableSpan): void {
    this.open.delete(span as Span);
  }
  async forceFlush(): Promise<void> {
    return undefined;
  }
  async shutdown(): Promise<void> {
    return undefined;
  }
}

function setup() {
  const exporter = new InMemorySpanExporter();
  const started = new OpenSpans();
  const provider = new BasicTracerProvider({
    spanProcessors: [started, new SimpleSpanProcessor(exporter)],
  });
  return { exporter, started, tracing: { tracer: provider.getTracer('test') }, provider };
}

const roots = (spans: ReadableSpan[]) => spans.filter((s) => s.name.startsWith('fsm.execution'));

/** The span tree without ids or times: each span's name, parent's name, attributes and status. */
function shape(spans: ReadableSpan[]) {
  const names = new Map(spans.map((s) => [s.spanContext().spanId, s.name]));
  return spans
    .map((s) => ({
      name: s.name,
      parent: names.get(s.parentSpanContext?.spanId ?? '') ?? null,
      attributes: s.attributes,
      status: s.status.code,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

async function toEnd(execution: FsmExecution): Promise<number> {
  let steps = 0;
  while (!execution.done) {
    await execution.step();
    steps++;
  }
  return steps;
}

afterEach(() => {
  trace.disable();
  gateOpen = undefined;
});

describe('AdvancedFSM tracing', () => {
  it('a stepped execution is one span with the same children and attributes as SimpleFSM', async () => {
    const simple = setup();
    const simpleFsm = await SimpleFSM.create(config, { functions, tracing: simple.tracing });
    await simpleFsm.process({ n: 1 }, { executionId: 'e-1' });
    await simpleFsm.close();

    const { exporter, tracing } = setup();
    const fsm = await AdvancedFSM.create(config, { functions, tracing });
    const execution = fsm.createExecution({ n: 1 }, { executionId: 'e-1' });
    await execution.step();
    await execution.step();
    // Open while it is being stepped: only the states left so far have ended.
    expect(roots(exporter.getFinishedSpans())).toHaveLength(0);
    expect(await toEnd(execution)).toBeGreaterThan(0);
    expect(execution.result?.success).toBe(true);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1 + 2 + 7);
    expect(shape(spans)).toEqual(shape(simple.exporter.getFinishedSpans()));
    expect(roots(spans)[0]?.attributes).toMatchObject({
      'fsm.name': 'traced',
      'fsm.execution_id': 'e-1',
      'fsm.final_state': 'ok',
      'fsm.transitions': 4,
    });
    await fsm.close();
    // Closing after the end abandons nothing.
    expect(exporter.getFinishedSpans()).toHaveLength(spans.length);
  });

  it('a breakpoint pause does not end the span; running on ends it once', async () => {
    const { exporter, tracing } = setup();
    const fsm = await AdvancedFSM.create(config, { functions, tracing, breakpoints: ['x', 'check'] });
    const execution = fsm.createExecution({ n: 1 });
    expect(await execution.run()).toBeUndefined();
    expect(execution.state).toBe('x');
    expect(await execution.run()).toBeUndefined();
    expect(execution.state).toBe('check');
    const paused = exporter.getFinishedSpans();
    expect(roots(paused)).toHaveLength(0);
    // Both pushes returned before the pause at main.check; the state paused in is still open.
    expect(byName(paused, 'fsm.push deep')).toHaveLength(1);
    expect(byName(paused, 'fsm.push inner')).toHaveLength(1);
    expect(byName(paused, 'fsm.state main.check')).toHaveLength(0);
    const result = await execution.run();
    expect(result?.success).toBe(true);
    const spans = exporter.getFinishedSpans();
    expect(roots(spans)).toHaveLength(1);
    expect(byName(spans, 'fsm.state main.check')).toHaveLength(1);
    expect(spans).toHaveLength(1 + 2 + 7);
    await fsm.close();
  });

  it('a failed execution sets the error code and status on its span and on the failing state', async () => {
    const { exporter, tracing } = setup();
    const fsm = await AdvancedFSM.create(config, { functions, tracing });
    const result = await fsm.createExecution({ n: 500 }).run();
    expect(result?.error?.code).toBe('VALIDATION_FAILED');
    await fsm.close();
    const spans = exporter.getFinishedSpans();
    const [root] = roots(spans);
    expect(root?.attributes['fsm.error_code']).toBe('VALIDATION_FAILED');
    expect(root?.attributes['fsm.abandoned']).toBeUndefined();
    expect(root?.status.code).toBe(2);
    const [check] = byName(spans, 'fsm.state main.check');
    expect(check?.attributes['fsm.error_code']).toBe('VALIDATION_FAILED');
    expect(check?.status.code).toBe(2);
  });

  it('an execution left unfinished is ended as abandoned (status unset) when the FSM closes', async () => {
    const { exporter, started, tracing } = setup();
    const fsm = await AdvancedFSM.create(config, { functions, tracing, breakpoints: ['x'] });
    const paused = fsm.createExecution({ n: 1 }, { executionId: 'paused' });
    await paused.run();
    fsm.createExecution({ n: 2 }, { executionId: 'never-run' });
    expect(roots(exporter.getFinishedSpans())).toHaveLength(0);
    await fsm.close();
    const spans = exporter.getFinishedSpans();
    const ended = roots(spans);
    expect(ended.map((s) => s.attributes['fsm.execution_id']).sort()).toEqual(['never-run', 'paused']);
    for (const root of ended) {
      expect(root.attributes['fsm.abandoned']).toBe(true);
      expect(root.attributes['fsm.final_state']).toBeUndefined();
      expect(root.status.code).toBe(0);
    }
    // The paused one's open state and both open pushes ended with it.
    const x = byName(spans, 'fsm.state deep.x')[0];
    expect(x?.attributes['fsm.abandoned']).toBe(true);
    expect(byName(spans, 'fsm.push inner')).toHaveLength(1);
    expect(byName(spans, 'fsm.push deep')).toHaveLength(1);
    expect(spans).toHaveLength(2 + 2 + 3);
    expect(started.open.size).toBe(0);
  });

  it('a run still awaiting a function when the FSM closes is abandoned, and makes no spans after', async () => {
    const { exporter, started, tracing } = setup();
    const fsm = await AdvancedFSM.create(config, { functions, tracing });
    const running = fsm.createExecution({ n: 1, wait: true }).run();
    // `gate` in main.check holds the run until it is opened.
    while (!gateOpen) await Promise.resolve();
    await fsm.close();
    const atClose = exporter.getFinishedSpans().length;
    expect(roots(exporter.getFinishedSpans())[0]?.attributes['fsm.abandoned']).toBe(true);
    gateOpen();
    expect((await running)?.success).toBe(true);
    expect(exporter.getFinishedSpans()).toHaveLength(atClose);
    expect(started.open.size).toBe(0);
  });

  it('a resumed snapshot is a new span with the same execution id, ended at its end', async () => {
    const { exporter, tracing } = setup();
    const fsm = await AdvancedFSM.create(config, { functions, tracing, breakpoints: ['check'] });
    const first = fsm.createExecution({ n: 1 }, { executionId: 'snap-1' });
    await first.run();
    expect(first.state).toBe('check');
    const snapshot = first.snapshot();
    const other = await AdvancedFSM.create(config, { functions, tracing });
    const resumed = await other.resume(snapshot);
    expect((await resumed.run())?.success).toBe(true);
    const done = roots(exporter.getFinishedSpans());
    expect(done).toHaveLength(1);
    expect(done[0]?.attributes).toMatchObject({ 'fsm.execution_id': 'snap-1', 'fsm.final_state': 'ok' });
    const children = exporter
      .getFinishedSpans()
      .filter((s) => s.parentSpanContext?.spanId === done[0]?.spanContext().spanId)
      .map((s) => s.name)
      .sort();
    // Traced from where it resumes (after main.check's work, before its arc), as SimpleFSM's resume is.
    expect(children).toEqual(['fsm.state main.ok']);
    await other.close();
    await fsm.close();
    const abandoned = roots(exporter.getFinishedSpans()).filter((s) => s.attributes['fsm.abandoned']);
    expect(abandoned.map((s) => s.attributes['fsm.execution_id'])).toEqual(['snap-1']);
  });

  it('a store that cannot save the finished history fails the span, like SimpleFSM', async () => {
    const { exporter, tracing } = setup();
    const fsm = await AdvancedFSM.create(config, { functions, tracing, storage: new FailingStore() });
    const execution = fsm.createExecution({ n: 1 });
    await expect(execution.run()).rejects.toThrow('disk full');
    await fsm.close();
    const [root] = roots(exporter.getFinishedSpans());
    expect(root?.status.code).toBe(2);
    expect(root?.attributes['fsm.abandoned']).toBeUndefined();
    expect(root?.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('makes no spans when tracing is off, even with a provider registered', async () => {
    const { exporter, provider } = setup();
    trace.setGlobalTracerProvider(provider);
    const off = await AdvancedFSM.create(config, { functions, tracing: { enabled: false } });
    expect(Reflect.get(off, 'openSpans')).toBeUndefined();
    await off.createExecution({ n: 1 }).run();
    await off.close();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    // The registered provider is found when no tracer is passed.
    const on = await AdvancedFSM.create(config, { functions });
    await on.createExecution({ n: 1 }).run();
    await on.close();
    expect(roots(exporter.getFinishedSpans())).toHaveLength(1);
  });

  it('an execution dropped without finishing is ended as abandoned once collected, before close', async () => {
    const gc = (globalThis as { gc?: () => void }).gc ?? exposeGc();
    const { exporter, tracing } = setup();
    const fsm = await AdvancedFSM.create(config, { functions, tracing, breakpoints: ['x'] });
    await (async () => {
      await fsm.createExecution({ n: 1 }, { executionId: 'dropped' }).run();
    })();
    const open = Reflect.get(fsm, 'openSpans') as { size: number };
    expect(open.size).toBe(1);
    // Finalizers run in a later task after a collection; bounded, no timers.
    for (let i = 0; i < 50 && open.size > 0; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(open.size).toBe(0);
    const [root] = roots(exporter.getFinishedSpans());
    expect(root?.attributes).toMatchObject({ 'fsm.execution_id': 'dropped', 'fsm.abandoned': true });
    await fsm.close();
    expect(roots(exporter.getFinishedSpans())).toHaveLength(1);
  });
});

/** The root vitest config passes --expose-gc; a run of this file alone may not. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** A history store whose saves fail. */
class FailingStore implements HistoryStore {
  readonly specificationVersion = 'v1' as const;
  async save(_history: ExecutionHistory): Promise<void> {
    throw new Error('disk full');
  }
  async load(): Promise<undefined> {
    return undefined;
  }
  async *query(): AsyncIterable<HistorySummary> {
    // Nothing is stored.
  }
  async delete(): Promise<boolean> {
    return false;
  }
  async close(): Promise<void> {
    return undefined;
  }
}
