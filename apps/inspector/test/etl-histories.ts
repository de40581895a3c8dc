import type { ExecutionHistoryData, HistoryStep } from '@fsm/core';

/**
 * Histories of the etl-demo (apps/etl-demo/etl.yaml) shaped exactly as the engine records them —
 * arc names, the `price` push into `pricing` with its steps nested under `children` — so a store of
 * 10 000 executions is written in seconds instead of running the demo 10 000 times. Every 20th record
 * fails validation in `extract`; every 50th fails in `load` with a driver error as its cause.
 */
export interface EtlExpectations {
  /** Records per arc: `network/state/arc` → count. */
  arcs: Map<string, number>;
  failedValidation: number;
  failedLoad: number;
}

const REGIONS = ['EU', 'US', 'APAC'] as const;
const TAX = { EU: 0.2, US: 0.07, APAC: 0.1 } as const;
const round = (n: number) => Math.round(n * 100) / 100;

export function etlHistories(
  count: number,
  batchId: string,
  t0: number,
): { histories: ExecutionHistoryData[]; expected: EtlExpectations } {
  const arcs = new Map<string, number>();
  const took = (id: string) => arcs.set(id, (arcs.get(id) ?? 0) + 1);
  let failedValidation = 0;
  let failedLoad = 0;
  const histories: ExecutionHistoryData[] = [];
  for (let i = 0; i < count; i++) {
    const region = REGIONS[i % 3] as (typeof REGIONS)[number];
    const input = {
      order_id: `A-${String(i % 10_000).padStart(4, '0')}`,
      customer: `cust-${i % 97}`,
      amount: 50 + ((i * 7919) % 1500) + 0.456,
      region,
    };
    const startedAt = t0 + i * 10;
    let at = startedAt;
    const step = (network: string, state: string, data: unknown, ms: number, arc?: string): HistoryStep => {
      const s: HistoryStep = { network, state, startedAt: at, endedAt: at + ms, data: structuredClone(data) };
      if (arc) s.arc = arc;
      at += ms;
      return s;
    };
    const history: ExecutionHistoryData = {
      executionId: `${batchId}:${i}`,
      fsm: 'orders_etl',
      status: 'succeeded',
      startedAt,
      input,
      batchId,
      itemIndex: i,
      steps: [],
    };
    if (i % 20 === 7) {
      failedValidation++;
      const error = {
        code: 'VALIDATION_FAILED',
        message: `record does not match the schema of state "extract": /amount must be >= 0`,
        state: 'extract',
        network: 'main',
      };
      history.steps.push({ ...step('main', 'extract', input, 1), error });
      history.status = 'failed';
      history.error = error;
      history.finalState = 'extract';
      history.endedAt = at;
      histories.push(history);
      continue;
    }
    history.steps.push(step('main', 'extract', input, 1, 'extract->normalize'));
    took('main/extract/extract->normalize');
    const normalized = { ...input, amount: round(input.amount) };
    const normalize = step('main', 'normalize', normalized, 1, 'price');
    took('main/normalize/price');
    const taxed = { amount: normalized.amount, region, tax: round(normalized.amount * TAX[region]) };
    const totalled = { ...taxed, total: round(taxed.amount + taxed.tax) };
    at = normalize.startedAt;
    normalize.children = [
      step('pricing', 'tax', taxed, 1, 'tax->total'),
      step('pricing', 'total', totalled, 1, 'total->priced'),
      step('pricing', 'priced', totalled, 0),
    ];
    took('pricing/tax/tax->total');
    took('pricing/total/total->priced');
    normalize.endedAt = at;
    history.steps.push(normalize);
    const priced = { ...normalized, tax: totalled.tax, total: totalled.total };
    const route = priced.total > 1000 ? 'high_value' : region === 'US' ? 'domestic' : 'default';
    const channel = route === 'high_value' ? 'review' : route === 'domestic' ? 'express' : 'standard';
    history.steps.push(step('main', 'route', priced, 1, route));
    took(`main/route/${route}`);
    const routed = { ...priced, channel };
    history.steps.push(step('main', channel, routed, 1, `${channel}->load`));
    took(`main/${channel}/${channel}->load`);
    if (i % 50 === 13) {
      failedLoad++;
      const error = {
        code: 'RESOURCE_UNAVAILABLE',
        message: 'db_upsert into orders failed on resource "warehouse"',
        state: 'load',
        network: 'main',
        cause: { name: 'SqliteError', message: 'database is locked', code: 'SQLITE_BUSY' },
      };
      history.steps.push({ ...step('main', 'load', routed, 12), error });
      history.status = 'failed';
      history.error = error;
      history.finalState = 'load';
    } else {
      history.steps.push(step('main', 'load', routed, 3, 'load->loaded'));
      took('main/load/load->loaded');
      history.steps.push(step('main', 'loaded', routed, 0));
      history.finalState = 'loaded';
      history.output = {
        data: routed,
        path: ['extract', 'normalize', 'tax', 'total', 'priced', 'route', channel, 'load', 'loaded'],
        transitions: 8,
      };
    }
    history.endedAt = at;
    histories.push(history);
  }
  return { histories, expected: { arcs, failedValidation, failedLoad } };
}
