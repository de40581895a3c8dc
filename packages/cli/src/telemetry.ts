import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { UsageError } from './exit-codes.js';

export interface TelemetryOptions {
  /** `--otel`: export spans over OTLP/HTTP. */
  otel?: boolean;
  /** `--otel-endpoint`: the collector (`http://host:4318`, or a full `…/v1/traces` URL). */
  otelEndpoint?: string;
}

/** The OTLP/HTTP traces URL: the OTLP convention appends `/v1/traces` to a base endpoint. */
export function tracesUrl(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (error) {
    throw new UsageError(`--otel-endpoint "${endpoint}" is not a URL`, { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--otel-endpoint "${endpoint}" must be http(s)`);
  }
  return url.pathname.endsWith('/v1/traces') ? url.href : `${url.href.replace(/\/$/, '')}/v1/traces`;
}

/**
 * Registers a global tracer provider before the FSM is made, so core traces every execution: spans go
 * to OTLP/HTTP with `--otel`, and to any extra processors (the Prometheus metrics of `fsm worker`).
 * Returns the shutdown (flushes what is buffered), or undefined when there is nothing to do.
 */
export function startTelemetry(
  options: TelemetryOptions,
  extra: SpanProcessor[] = [],
): (() => Promise<void>) | undefined {
  const processors = [...extra];
  if (options.otel) {
    const endpoint = options.otelEndpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    if (!endpoint) throw new UsageError('--otel needs --otel-endpoint <url> or OTEL_EXPORTER_OTLP_ENDPOINT');
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(endpoint) })));
  } else if (options.otelEndpoint) {
    throw new UsageError('--otel-endpoint needs --otel');
  }
  if (processors.length === 0) return undefined;
  const provider = new BasicTracerProvider({ spanProcessors: processors });
  trace.setGlobalTracerProvider(provider);
  return async () => {
    try {
      await provider.forceFlush();
      await provider.shutdown();
    } finally {
      trace.disable();
    }
  };
}
