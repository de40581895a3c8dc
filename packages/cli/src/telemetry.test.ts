import { request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimpleFSM } from '@fsm/core';
import { ResourceManager } from '@fsm/resources';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from './commands/run.js';
import { FsmMetrics, serveMetrics } from './metrics.js';
import { startTelemetry, tracesUrl } from './telemetry.js';

const dir = mkdtempSync(join(tmpdir(), 'fsm-cli-otel-'));
const config = join(dir, 'pipeline.yaml');
writeFileSync(
  config,
  `name: traced_pipeline
main_network: main
networks:
  - name: main
    states:
      - name: start
        is_start: true
        arcs:
          - { name: score, target: decide, target_network: scoring, return_state: decide }
      - name: decide
        validators: [{ type: expression, code: "n < 100" }]
        arcs: [{ target: done }]
      - { name: done, is_end: true }
  - name: scoring
    states:
      - { name: calc, is_start: true, arcs: [{ target: scored }] }
      - { name: scored, is_end: true }
`,
);

interface OtlpSpan {
  name: string;
  spanId: string;
  parentSpanId?: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}

/** A tiny OTLP/HTTP receiver: accepts POST /v1/traces (JSON) and keeps every span. */
let receiver: Server;
let receiverUrl: string;
const received: OtlpSpan[] = [];
const paths: string[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      paths.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      if (req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
      };
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) received.push(...ss.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

afterEach(() => {
  trace.disable();
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => receiver.close((e) => (e ? reject(e) : resolve())));
  rmSync(dir, { recursive: true, force: true });
});

const attr = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : String(value.intValue));
};

describe('fsm run --otel', () => {
  it('exports a span per execution, state and push to an OTLP/HTTP receiver', async () => {
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, `${[1, 2, 500].map((n) => JSON.stringify({ n })).join('\n')}\n`);
    const code = await runCommand(config, {
      input,
      output: join(dir, 'out.jsonl'),
      concurrency: '1',
      progress: false,
      json: true,
      otel: true,
      otelEndpoint: receiverUrl,
    });
    expect(code).toBe(1); // one record fails validation
    expect(readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
    expect(paths.every((p) => p.startsWith('POST /v1/traces application/json'))).toBe(true);
    const executions = received.filter((s) => s.name === 'fsm.execution traced_pipeline');
    expect(executions).toHaveLength(3);
    const failed = executions.filter((s) => attr(s, 'fsm.error_code') === 'VALIDATION_FAILED');
    expect(failed).toHaveLength(1);
    const pushes = received.filter((s) => s.name === 'fsm.push scoring');
    expect(pushes).toHaveLength(3);
    expect(attr(pushes[0] as OtlpSpan, 'fsm.arc')).toBe('score');
    const calc = received.filter((s) => s.name === 'fsm.state scoring.calc');
    expect(calc.map((s) => s.parentSpanId).sort()).toEqual(pushes.map((s) => s.spanId).sort());
    for (const s of received) expect(attr(s, 'fsm.name')).toBe('traced_pipeline');
  });

  it('needs an endpoint, and a URL', () => {
    const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    try {
      expect(() => startTelemetry({ otel: true })).toThrow(/--otel-endpoint/);
      expect(() => startTelemetry({ otelEndpoint: 'http://x' })).toThrow(/needs --otel/);
      expect(() => tracesUrl('not a url')).toThrow(/not a URL/);
    } finally {
      if (saved !== undefined) process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
    }
    expect(tracesUrl('http://collector:4318')).toBe('http://collector:4318/v1/traces');
    expect(tracesUrl('http://collector:4318/v1/traces')).toBe('http://collector:4318/v1/traces');
  });
});

describe('worker metrics', () => {
  it('serves records by outcome, failures by code, state durations and pool gauges in the Prometheus format', async () => {
    const resources = new ResourceManager();
    let made = 0;
    resources.register('db', {
      specificationVersion: 'v1',
      type: 'custom',
      name: 'db',
      create: async () => ({ id: ++made }),
      destroy: async () => undefined,
      close: async () => undefined,
    });
    const metrics = new FsmMetrics(resources);
    const provider = new BasicTracerProvider({ spanProcessors: [metrics] });
    trace.setGlobalTracerProvider(provider);
    const fsm = await SimpleFSM.create(config);
    await fsm.processBatch([{ n: 1 }, { n: 2 }, { n: 300 }]);
    await fsm.close();
    await resources.acquire('db', 'owner-1');
    const served = await serveMetrics(metrics.registry, 0);
    try {
      const res = await fetch(served.url);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      expect(text).toContain('fsm_records_processed_total{fsm="traced_pipeline",outcome="succeeded"} 2');
      expect(text).toContain('fsm_records_processed_total{fsm="traced_pipeline",outcome="failed"} 1');
      expect(text).toContain('fsm_records_failed_total{fsm="traced_pipeline",code="VALIDATION_FAILED"} 1');
      expect(text).toMatch(
        /fsm_state_duration_seconds_count\{fsm="traced_pipeline",network="scoring",state="calc"\} 3/,
      );
      expect(text).toContain('fsm_resource_pool_in_use{resource="db"} 1');
      expect(text).toContain('fsm_resource_pool_created{resource="db"} 1');
      expect((await fetch(served.url.replace('/metrics', '/other'))).status).toBe(404);
      // A page that points its own name at 127.0.0.1 (DNS rebinding) reads nothing.
      const rebound = await new Promise<number | undefined>((resolve, reject) => {
        const url = new URL(served.url);
        request({ host: url.hostname, port: url.port, path: '/metrics', headers: { host: 'evil.example' } })
          .on('response', (response) => {
            response.resume();
            resolve(response.statusCode);
          })
          .on('error', reject)
          .end();
      });
      expect(rebound).toBe(403);
    } finally {
      await served.close();
      await resources.releaseAll('owner-1');
      await resources.close();
      await provider.shutdown();
    }
  });
});
