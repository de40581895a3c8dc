import type { ExecutionSpans, FsmTracing, TracedExecution, TracedOutcome } from './otel.js';

/*
 * Spans of executions that the caller drives step by step (AdvancedFSM): they stay open across pauses,
 * so one the caller never finishes must still end. Each is ended as abandoned when its FSM closes, or
 * when the object driving it is garbage-collected first — so neither the span objects nor the unended
 * spans pile up in a long-lived FSM. Made only when tracing is on.
 */
export class OpenExecutionSpans {
  private readonly open = new Set<ExecutionSpans>();
  // One callback for the FSM, not one per execution. It holds the spans, never the driving object.
  private readonly dropped = new FinalizationRegistry<ExecutionSpans>((spans) => {
    this.open.delete(spans);
    spans.abandon();
  });

  constructor(private readonly tracing: FsmTracing) {}

  /** Starts an execution span that stays open until `end`/`fail`, `abandonAll`, or `owner` is collected. */
  start(owner: object, execution: TracedExecution): ExecutionSpans {
    const spans = this.tracing.start(execution);
    this.open.add(spans);
    this.dropped.register(owner, spans, spans);
    return spans;
  }

  end(spans: ExecutionSpans, outcome: TracedOutcome): void {
    this.forget(spans);
    spans.end(outcome);
  }

  fail(spans: ExecutionSpans, error: unknown): void {
    this.forget(spans);
    spans.fail(error);
  }

  /** How many execution spans are open (started, not yet ended). */
  get size(): number {
    return this.open.size;
  }

  /** Ends every open execution span as abandoned (the FSM is closing). */
  abandonAll(): void {
    for (const spans of this.open) {
      this.forget(spans);
      spans.abandon();
    }
  }

  private forget(spans: ExecutionSpans): void {
    this.open.delete(spans);
    this.dropped.unregister(spans);
  }
}
