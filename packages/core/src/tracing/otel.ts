import type * as OtelApi from '@opentelemetry/api';
import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api';
import type { ExecutionObserver, StateEvent, TransitionEvent } from '../engine/execution.js';
import type { FsmErrorInfo } from '../errors/fsm-error.js';
import type { HistoryStep } from '../history/types.js';

/*
 * OpenTelemetry for every execution: a span per execution, a child span per state and per push (the
 * sub-network's states nest under the push). `@opentelemetry/api` is an optional peer: it is imported
 * lazily, once, and only used when a tracer provider is registered or a tracer is passed — without
 * it no span object is ever made. The same names and attributes serve live tracing (engine hooks)
 * and spans rebuilt from a finished history (`emitHistorySpans`, used by @fsm/bullmq).
 */

export type OtelApiModule = typeof OtelApi;

/** Span attribute names, one set for every producer. */
export const FSM_ATTR = {
  fsm: 'fsm.name',
  executionId: 'fsm.execution_id',
  batchId: 'fsm.batch_id',
  network: 'fsm.network',
  state: 'fsm.state',
  arc: 'fsm.arc',
  pushNetwork: 'fsm.push.network',
  finalState: 'fsm.final_state',
  transitions: 'fsm.transitions',
  errorCode: 'fsm.error_code',
  /** Set (true) on an execution left unfinished: its spans were ended for it (see `ExecutionSpans.abandon`). */
  abandoned: 'fsm.abandoned',
} as const;

export const SPAN_NAMES = {
  execution: (fsm: string) => `fsm.execution ${fsm}`,
  state: (network: string, state: string) => `fsm.state ${network}.${state}`,
  push: (network: string) => `fsm.push ${network}`,
} as const;

let api: Promise<OtelApiModule | undefined> | undefined;

/** `@opentelemetry/api`, or undefined when it is not installed (the optional peer is absent). */
export function loadOtelApi(): Promise<OtelApiModule | undefined> {
  api ??= import('@opentelemetry/api').then(
    (module) => module as OtelApiModule,
    (error: unknown) => {
      const code = (error as { code?: string }).code;
      // Only "not installed" means "no tracing"; a broken install is an error to see.
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return undefined;
      throw error;
    },
  );
  return api;
}

/** Whether a tracer makes real spans (the API's default no-op tracer gives invalid span contexts). */
function isRecordingTracer(otel: OtelApiModule, tracer: Tracer): boolean {
  const probe = tracer.startSpan('fsm.probe');
  const valid = otel.isSpanContextValid(probe.spanContext());
  // A real probe span is never ended, so it is never exported.
  return valid;
}

export interface TracingOptions {
  /** Use this tracer; by default the global provider's `@fsm/core` tracer, when one is registered. */
  tracer?: Tracer;
  /** `false` turns tracing off even when a provider is registered. */
  enabled?: boolean;
}

/** What an execution's span needs to know up front. */
export interface TracedExecution {
  id: string;
  fsm: string;
  batchId?: string | undefined;
  itemIndex?: number | undefined;
}

/** The outcome that ends an execution span. */
export interface TracedOutcome {
  success: boolean;
  finalState?: string;
  transitions?: number;
  batchId?: string;
  error?: FsmErrorInfo;
}

const now = () => performance.timeOrigin + performance.now();

/** Results whose spans were made live, so nobody rebuilds them from the history a second time. */
const tracedLive = new WeakSet<object>();

/** Whether this result's execution was traced live by core (then `emitHistorySpans` is not needed). */
export function wasTracedLive(result: object): boolean {
  return tracedLive.has(result);
}

/**
 * One execution's spans, driven by the engine's observer hooks. Lives as long as the execution; only
 * made when tracing is on.
 */
export class ExecutionSpans implements ExecutionObserver {
  private readonly root: Span;
  private readonly rootContext: Context;
  /** Open pushes, innermost last: the sub-network whose states nest under each. */
  private readonly pushes: { span: Span; context: Context; network: string }[] = [];
  private state: Span | undefined;
  /** When the current state was left: its span ends at the transition that names the arc. */
  private exitedAt: number | undefined;
  /** Set once the execution span has ended: later hooks (of a run abandoned mid-function) make no spans. */
  private closed = false;

  constructor(
    private readonly otel: OtelApiModule,
    private readonly tracer: Tracer,
    private readonly execution: TracedExecution,
  ) {
    const attributes: Attributes = {
      [FSM_ATTR.fsm]: execution.fsm,
      [FSM_ATTR.executionId]: execution.id,
    };
    if (execution.batchId !== undefined) attributes[FSM_ATTR.batchId] = execution.batchId;
    this.root = tracer.startSpan(SPAN_NAMES.execution(execution.fsm), { attributes });
    this.rootContext = otel.trace.setSpan(otel.context.active(), this.root);
  }

  private parent(): Context {
    return this.pushes.at(-1)?.context ?? this.rootContext;
  }

  private endState(at: number | undefined): void {
    this.state?.end(at);
    this.state = undefined;
    this.exitedAt = undefined;
  }

  /** Whether the execution span has ended (finished, failed or abandoned). */
  get ended(): boolean {
    return this.closed;
  }

  onStateEnter(event: StateEvent): void {
    if (this.closed) return;
    this.endState(this.exitedAt);
    // Back in an outer network: the pushes above it have returned.
    while (this.pushes.length > 0 && this.pushes.at(-1)?.network !== event.network)
      this.pushes.pop()?.span.end();
    this.state = this.tracer.startSpan(
      SPAN_NAMES.state(event.network, event.state),
      {
        attributes: {
          [FSM_ATTR.fsm]: this.execution.fsm,
          [FSM_ATTR.executionId]: this.execution.id,
          [FSM_ATTR.network]: event.network,
          [FSM_ATTR.state]: event.state,
        },
      },
      this.parent(),
    );
  }

  onStateExit(): void {
    if (this.closed) return;
    this.exitedAt = now();
  }

  onTransition(event: TransitionEvent): void {
    if (this.closed) return;
    this.state?.setAttribute(FSM_ATTR.arc, event.arc);
    this.endState(this.exitedAt);
    if (event.pushNetwork === undefined) return;
    const span = this.tracer.startSpan(
      SPAN_NAMES.push(event.pushNetwork),
      {
        attributes: {
          [FSM_ATTR.fsm]: this.execution.fsm,
          [FSM_ATTR.executionId]: this.execution.id,
          [FSM_ATTR.network]: event.network,
          [FSM_ATTR.state]: event.from,
          [FSM_ATTR.arc]: event.arc,
          [FSM_ATTR.pushNetwork]: event.pushNetwork,
        },
      },
      this.parent(),
    );
    this.pushes.push({
      span,
      context: this.otel.trace.setSpan(this.parent(), span),
      network: event.pushNetwork,
    });
  }

  onError(event: StateEvent & { error: FsmErrorInfo }): void {
    const span = this.state;
    if (!span) return;
    span.setAttribute(FSM_ATTR.errorCode, event.error.code);
    span.setStatus({ code: this.otel.SpanStatusCode.ERROR, message: event.error.message });
  }

  /** Ends every open span; the execution span gets the outcome. A second end (or one after `abandon`) does nothing. */
  end(outcome: TracedOutcome): void {
    if (this.closed) return;
    tracedLive.add(outcome);
    this.closeChildren();
    const root = this.root;
    if (outcome.finalState !== undefined) root.setAttribute(FSM_ATTR.finalState, outcome.finalState);
    if (outcome.transitions !== undefined) root.setAttribute(FSM_ATTR.transitions, outcome.transitions);
    if (outcome.batchId !== undefined && this.execution.batchId === undefined) {
      root.setAttribute(FSM_ATTR.batchId, outcome.batchId);
    }
    if (!outcome.success) {
      if (outcome.error) root.setAttribute(FSM_ATTR.errorCode, outcome.error.code);
      root.setStatus({ code: this.otel.SpanStatusCode.ERROR, message: outcome.error?.message ?? 'failed' });
    }
    root.end();
  }

  /**
   * The execution will not go on here (left paused, or dropped, when its FSM closes): every open span
   * ends now with `fsm.abandoned` and no status — it neither succeeded nor failed. A snapshot taken of it
   * may still be resumed, which is traced as a new execution span with the same execution id.
   */
  abandon(): void {
    if (this.closed) return;
    this.state?.setAttribute(FSM_ATTR.abandoned, true);
    this.closeChildren();
    this.root.setAttribute(FSM_ATTR.abandoned, true);
    this.root.end();
  }

  private closeChildren(): void {
    this.closed = true;
    this.endState(this.exitedAt);
    while (this.pushes.length > 0) this.pushes.pop()?.span.end();
  }

  /** An error thrown out of the run (not a record failure): recorded, then every span ends. */
  fail(error: unknown): void {
    if (this.closed) return;
    this.root.recordException(error instanceof Error ? error : String(error));
    this.end({
      success: false,
      error: {
        code: (error as { code?: string }).code ?? 'ERROR',
        message: String((error as Error).message ?? error),
      },
    });
  }
}

/** Makes `ExecutionSpans` for an FSM; `undefined` from `createFsmTracing` when tracing is off. */
export class FsmTracing {
  constructor(
    readonly otel: OtelApiModule,
    readonly tracer: Tracer,
  ) {}

  start(execution: TracedExecution): ExecutionSpans {
    return new ExecutionSpans(this.otel, this.tracer, execution);
  }
}

/**
 * Tracing for an FSM: with `options.tracer`, that tracer; otherwise the global provider's tracer when
 * `@opentelemetry/api` is installed and a provider is registered; else `undefined` (zero cost).
 */
export async function createFsmTracing(options: TracingOptions = {}): Promise<FsmTracing | undefined> {
  if (options.enabled === false) return undefined;
  const otel = await loadOtelApi();
  if (!otel) return undefined;
  const tracer = options.tracer ?? otel.trace.getTracer('@fsm/core');
  if (!options.tracer && !isRecordingTracer(otel, tracer)) return undefined;
  return new FsmTracing(otel, tracer);
}

/** What a finished record carries, for spans rebuilt from its history. */
export interface HistoryOutcome extends TracedOutcome {
  executionId: string;
  fsm?: string;
  startedAt: number;
  durationMs: number;
  steps: readonly HistoryStep[];
}

/**
 * The same span tree rebuilt from a finished history's timings (for work that ran elsewhere, e.g. a
 * queue worker): the execution span, a span per step, a push span around each sub-network's steps.
 */
export function emitHistorySpans(
  otel: OtelApiModule,
  tracer: Tracer,
  outcome: HistoryOutcome,
  extra: Attributes = {},
): void {
  const fsm = outcome.fsm ?? '';
  const base: Attributes = { [FSM_ATTR.fsm]: fsm, [FSM_ATTR.executionId]: outcome.executionId };
  const rootAttributes: Attributes = { ...base, ...extra };
  if (outcome.batchId !== undefined) rootAttributes[FSM_ATTR.batchId] = outcome.batchId;
  if (outcome.finalState !== undefined) rootAttributes[FSM_ATTR.finalState] = outcome.finalState;
  if (outcome.transitions !== undefined) rootAttributes[FSM_ATTR.transitions] = outcome.transitions;
  if (!outcome.success && outcome.error) rootAttributes[FSM_ATTR.errorCode] = outcome.error.code;
  const root = tracer.startSpan(SPAN_NAMES.execution(fsm), {
    startTime: outcome.startedAt,
    attributes: rootAttributes,
  });
  const visit = (steps: readonly HistoryStep[], parent: Context) => {
    for (const step of steps) {
      const attributes: Attributes = {
        ...base,
        [FSM_ATTR.network]: step.network,
        [FSM_ATTR.state]: step.state,
      };
      if (step.arc) attributes[FSM_ATTR.arc] = step.arc;
      if (step.error) attributes[FSM_ATTR.errorCode] = step.error.code;
      const span = tracer.startSpan(
        SPAN_NAMES.state(step.network, step.state),
        { startTime: step.startedAt, attributes },
        parent,
      );
      if (step.error) span.setStatus({ code: otel.SpanStatusCode.ERROR, message: step.error.message });
      span.end(step.endedAt ?? step.startedAt);
      const children = step.children;
      if (children && children.length > 0) {
        const first = children[0] as HistoryStep;
        const last = children[children.length - 1] as HistoryStep;
        const push = tracer.startSpan(
          SPAN_NAMES.push(first.network),
          {
            startTime: first.startedAt,
            attributes: {
              ...base,
              [FSM_ATTR.network]: step.network,
              [FSM_ATTR.state]: step.state,
              ...(step.arc ? { [FSM_ATTR.arc]: step.arc } : {}),
              [FSM_ATTR.pushNetwork]: first.network,
            },
          },
          parent,
        );
        visit(children, otel.trace.setSpan(parent, push));
        push.end(last.endedAt ?? last.startedAt);
      }
    }
  };
  visit(outcome.steps, otel.trace.setSpan(otel.context.active(), root));
  if (!outcome.success) {
    root.setStatus({ code: otel.SpanStatusCode.ERROR, message: outcome.error?.message ?? 'failed' });
  }
  root.end(outcome.startedAt + outcome.durationMs);
}
