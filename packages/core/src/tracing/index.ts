export {
  createFsmTracing,
  emitHistorySpans,
  ExecutionSpans,
  FSM_ATTR,
  FsmTracing,
  type HistoryOutcome,
  loadOtelApi,
  type OtelApiModule,
  SPAN_NAMES,
  type TracedExecution,
  type TracedOutcome,
  type TracingOptions,
} from './otel.js';
