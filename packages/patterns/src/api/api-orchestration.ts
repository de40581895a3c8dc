import { type FsmFunction, type FunctionContext, getField, setField } from '@fsm/core';
import { HttpClient } from '@fsm/resources/http';
import { type PatternFsm, pattern } from '../pattern.js';
import { RecoveryPolicy } from '../recovery/recovery-policy.js';
import { RateLimiter } from './rate-limiter.js';

export interface ApiStep {
  name: string;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path with `{{field}}` placeholders from the record (or from the item, with `forEach`). */
  path: string;
  /** Field whose value is sent as the JSON body. */
  body?: string;
  /** Call only when this JSONata expression holds; otherwise the step is skipped. */
  when?: string;
  /** Fan-out: call once per element of this array field, `concurrency` at a time; results in order (fan-in). */
  forEach?: string;
  concurrency?: number;
  /** Where the (mapped) response goes. */
  target: string;
  /** Response mapping: output field ← path into the response body. Without it the whole body is kept. */
  map?: Record<string, string>;
}

export interface ApiOrchestrationOptions {
  name?: string;
  baseUrl: string;
  headers?: Record<string, string>;
  steps: ApiStep[];
  /** Requests per second over all steps. */
  rateLimitPerSec?: number;
  /** A circuit per step (endpoint): opens after `threshold` consecutive failures for `resetMs`. */
  circuitBreaker?: { threshold: number; resetMs: number };
  timeoutMs?: number;
  retries?: number;
}

const fill = (template: string, data: unknown) =>
  template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, path: string) =>
    encodeURIComponent(String(getField(data, path) ?? '')),
  );

function mapResponse(body: unknown, map: Record<string, string> | undefined): unknown {
  if (!map) return body;
  const out: Record<string, unknown> = {};
  for (const [to, from] of Object.entries(map)) setField(out, to, getField(body, from));
  return out;
}

async function inOrder<T, R>(items: T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T);
      }
    }),
  );
  return results;
}

/**
 * API orchestration: steps called in sequence, each one conditional (`when`), fanned out over an array
 * (`forEach` with bounded concurrency, results kept in order), its response mapped into the record — all
 * under one rate limit and a circuit breaker per endpoint (`CircuitBreakerError` with the wait time).
 */
export function apiOrchestrationPattern(
  options: ApiOrchestrationOptions,
): PatternFsm & { circuits: Map<string, RecoveryPolicy> } {
  const client = new HttpClient({
    baseUrl: options.baseUrl,
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    retries: options.retries ?? 0,
    resource: options.name ?? 'api',
  });
  const limiter = options.rateLimitPerSec ? new RateLimiter(options.rateLimitPerSec) : undefined;
  const circuits = new Map<string, RecoveryPolicy>();
  for (const step of options.steps)
    circuits.set(
      step.name,
      new RecoveryPolicy({
        name: step.name,
        ...(options.circuitBreaker ? { circuitBreaker: options.circuitBreaker } : {}),
      }),
    );

  const functions: Record<string, FsmFunction> = {};
  const states = options.steps.map((step, i) => {
    const next = options.steps[i + 1];
    const after = next ? next.name : 'done';
    const call = async (source: unknown, signal: AbortSignal) => {
      await limiter?.acquire(signal);
      return (circuits.get(step.name) as RecoveryPolicy).execute(async (inner) => {
        const body = step.body ? getField(source, step.body) : undefined;
        const response = await client.request({
          method: step.method ?? 'GET',
          path: fill(step.path, source),
          ...(body !== undefined ? { body } : {}),
          signal: AbortSignal.any([signal, inner]),
        });
        return mapResponse(response.body, step.map);
      }, signal);
    };
    functions[`call_${step.name}`] = async (data: Record<string, unknown>, ctx: FunctionContext) => {
      const out = { ...data };
      if (step.forEach) {
        const items = getField(data, step.forEach);
        const list = Array.isArray(items) ? items : [];
        setField(
          out,
          step.target,
          await inOrder(list, step.concurrency ?? 4, (item) => call({ ...data, item }, ctx.signal)),
        );
      } else {
        setField(out, step.target, await call(data, ctx.signal));
      }
      return out;
    };
    const nextStep = next;
    const arcs = nextStep?.when
      ? [
          { target: nextStep.name, condition: { type: 'expression', code: nextStep.when }, priority: 2 },
          { target: options.steps[i + 2]?.name ?? 'done', priority: 1 },
        ]
      : [{ target: after }];
    return { name: step.name, transforms: [`call_${step.name}`], arcs };
  });
  const first = options.steps[0];
  const start = first?.when
    ? {
        name: 'start',
        is_start: true,
        arcs: [
          { target: first.name, condition: { type: 'expression', code: first.when }, priority: 2 },
          { target: options.steps[1]?.name ?? 'done', priority: 1 },
        ],
      }
    : { name: 'start', is_start: true, arcs: [{ target: first?.name ?? 'done' }] };
  const config = {
    name: options.name ?? 'api_orchestration',
    states: [start, ...states, { name: 'done', is_end: true }],
  };
  return { ...pattern(config, functions), circuits };
}
