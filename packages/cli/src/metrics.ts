import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FSM_ATTR, isLoopbackHostHeader, isLoopbackName } from '@fsm/core';
import type { ResourceManager } from '@fsm/resources';
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const seconds = (span: ReadableSpan) => span.duration[0] + span.duration[1] / 1e9;
const text = (value: unknown) => (typeof value === 'string' ? value : '');

/** Pool metrics of @fsm/resources, one gauge each, labelled by resource. */
const POOL_GAUGES = [
  ['inUse', 'fsm_resource_pool_in_use', 'handles lent out'],
  ['idle', 'fsm_resource_pool_idle', 'handles waiting in the pool'],
  ['waiting', 'fsm_resource_pool_waiting', 'acquires waiting for a handle'],
  ['created', 'fsm_resource_pool_created', 'handles created so far'],
  ['destroyed', 'fsm_resource_pool_destroyed', 'handles destroyed so far'],
  ['acquisitions', 'fsm_resource_pool_acquisitions', 'acquires so far'],
  ['timeouts', 'fsm_resource_pool_timeouts', 'acquires that timed out'],
  ['failures', 'fsm_resource_pool_failures', 'create/validate/destroy failures'],
  ['avgAcquireMs', 'fsm_resource_pool_acquire_ms_avg', 'mean acquire wait (ms)'],
  ['maxAcquireMs', 'fsm_resource_pool_acquire_ms_max', 'longest acquire wait (ms)'],
] as const;

/**
 * Prometheus metrics of a worker, read from core's spans (one span per execution and state, see
 * @fsm/core's tracing): records processed by outcome, failed by error code, time per state as a
 * histogram; plus the pools of the worker's resource manager, read at scrape time.
 */
export class FsmMetrics implements SpanProcessor {
  readonly registry = new Registry();
  private readonly processed = new Counter({
    name: 'fsm_records_processed_total',
    help: 'Records finished, by FSM and outcome',
    labelNames: ['fsm', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly failed = new Counter({
    name: 'fsm_records_failed_total',
    help: 'Records that failed, by FSM and error code',
    labelNames: ['fsm', 'code'] as const,
    registers: [this.registry],
  });
  private readonly stateSeconds = new Histogram({
    name: 'fsm_state_duration_seconds',
    help: 'Time spent in a state, by FSM, network and state',
    labelNames: ['fsm', 'network', 'state'] as const,
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [this.registry],
  });

  constructor(resources?: ResourceManager) {
    if (!resources) return;
    for (const [key, name, help] of POOL_GAUGES) {
      new Gauge({
        name,
        help: `${help}, by resource`,
        labelNames: ['resource'] as const,
        registers: [this.registry],
        collect() {
          this.reset();
          for (const [resource, metrics] of Object.entries(resources.metrics())) {
            this.set({ resource }, metrics[key]);
          }
        },
      });
    }
  }

  onStart(_span: Span, _context: Context): void {
    // Nothing to count until a span ends.
  }

  onEnd(span: ReadableSpan): void {
    const fsm = text(span.attributes[FSM_ATTR.fsm]);
    if (span.name.startsWith('fsm.state ')) {
      this.stateSeconds.observe(
        {
          fsm,
          network: text(span.attributes[FSM_ATTR.network]),
          state: text(span.attributes[FSM_ATTR.state]),
        },
        seconds(span),
      );
    } else if (span.name.startsWith('fsm.execution ')) {
      const code = text(span.attributes[FSM_ATTR.errorCode]);
      // Status code 2 is ERROR in the OTel API.
      const failed = span.status.code === 2;
      this.processed.inc({ fsm, outcome: failed ? 'failed' : 'succeeded' });
      if (failed) this.failed.inc({ fsm, code: code || 'UNKNOWN' });
    }
  }

  // Counters live in the registry: nothing buffered, nothing to flush or shut down.
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** `GET /metrics` in the Prometheus text format; anything else is 404. */
export async function serveMetrics(
  registry: Registry,
  port: number,
  host = '127.0.0.1',
): Promise<{ url: string; close(): Promise<void> }> {
  // Bound to loopback, answer only requests addressed to it (a rebinding web page reads nothing).
  const loopbackOnly = isLoopbackName(host);
  const server: Server = createServer((req, res) => {
    if (loopbackOnly && !isLoopbackHostHeader(req.headers.host)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden: not addressed to this host\n');
      return;
    }
    if (req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}/metrics`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
