import { emitHistorySpans, type ExecutionResult, wasTracedLive } from '@fsm/core';
import * as otel from '@opentelemetry/api';

const tracer = () => otel.trace.getTracer('@fsm/bullmq');

/**
 * The spans of a record a worker finished, rebuilt from its history with core's `emitHistorySpans` —
 * the same names and attributes as core's live tracing (execution, a span per state and per push),
 * plus the queue. Skipped when core already traced the execution live. With no OTel SDK registered
 * the API's no-op tracer makes this free.
 */
export function emitRecordSpans(
  queue: string,
  batchId: string,
  result: ExecutionResult,
  startedAt: number,
): void {
  if (wasTracedLive(result)) return;
  emitHistorySpans(
    otel,
    tracer(),
    {
      ...result,
      batchId: result.batchId ?? batchId,
      ...(result.history ? { fsm: result.history.fsm } : {}),
      startedAt,
      durationMs: result.durationMs,
      steps: result.history?.steps ?? [],
    },
    { 'fsm.queue': queue },
  );
}
