import type { ExecutionResult, HistoryStep } from '@fsm/core';
import { SpanStatusCode, context, trace } from '@opentelemetry/api';

const tracer = () => trace.getTracer('@fsm/bullmq');

/**
 * One span per record and one per state it visited (from the history's timings). With no OTel SDK
 * registered the API's no-op tracer makes this free.
 */
export function emitRecordSpans(
  queue: string,
  batchId: string,
  result: ExecutionResult,
  startedAt: number,
): void {
  const span = tracer().startSpan('fsm.record', {
    startTime: startedAt,
    attributes: {
      'fsm.queue': queue,
      'fsm.batch_id': batchId,
      'fsm.execution_id': result.executionId,
      'fsm.final_state': result.finalState,
      'fsm.transitions': result.transitions,
    },
  });
  const parent = trace.setSpan(context.active(), span);
  const visit = (steps: readonly HistoryStep[]) => {
    for (const step of steps) {
      const child = tracer().startSpan(
        `fsm.state ${step.state}`,
        {
          startTime: step.startedAt,
          attributes: {
            'fsm.network': step.network,
            'fsm.state': step.state,
            ...(step.arc ? { 'fsm.arc': step.arc } : {}),
          },
        },
        parent,
      );
      if (step.error) child.setStatus({ code: SpanStatusCode.ERROR, message: step.error.message });
      if (step.children) visit(step.children);
      child.end(step.endedAt ?? step.startedAt);
    }
  };
  visit(result.history?.steps ?? []);
  if (!result.success)
    span.setStatus({ code: SpanStatusCode.ERROR, message: result.error?.message ?? 'failed' });
  span.end(startedAt + result.durationMs);
}
