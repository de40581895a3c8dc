import { getField } from '@fsm/core';

export type AggregateOp = 'sum' | 'count' | 'min' | 'max' | 'avg' | 'collect';

export interface AggregateSpec {
  groupBy: string[];
  /** Output column → operation over a field (`count` needs no field). */
  metrics: Record<string, { op: AggregateOp; field?: string }>;
}

interface Accumulator {
  key: unknown[];
  values: Record<string, { sum: number; count: number; min: number; max: number; items: unknown[] }>;
}

/** Group-by with sum/count/min/max/avg/collect in one pass: memory grows with groups, not records. */
export class Aggregator {
  private readonly groups = new Map<string, Accumulator>();

  constructor(private readonly spec: AggregateSpec) {}

  add(record: unknown): void {
    const key = this.spec.groupBy.map((f) => getField(record, f) ?? null);
    const id = JSON.stringify(key);
    let group = this.groups.get(id);
    if (!group) {
      group = { key, values: {} };
      for (const name of Object.keys(this.spec.metrics))
        group.values[name] = { sum: 0, count: 0, min: Infinity, max: -Infinity, items: [] };
      this.groups.set(id, group);
    }
    for (const [name, metric] of Object.entries(this.spec.metrics)) {
      const acc = group.values[name] as Accumulator['values'][string];
      if (metric.op === 'count') {
        acc.count++;
        continue;
      }
      const value = metric.field ? getField(record, metric.field) : undefined;
      if (value === undefined || value === null) continue;
      if (metric.op === 'collect') {
        acc.items.push(value);
        continue;
      }
      const n = Number(value);
      if (Number.isNaN(n)) continue;
      acc.sum += n;
      acc.count++;
      acc.min = Math.min(acc.min, n);
      acc.max = Math.max(acc.max, n);
    }
  }

  /** One row per group, groups in first-seen order. */
  rows(): Record<string, unknown>[] {
    return [...this.groups.values()].map((group) => {
      const row: Record<string, unknown> = {};
      this.spec.groupBy.forEach((field, i) => {
        row[field] = group.key[i];
      });
      for (const [name, metric] of Object.entries(this.spec.metrics)) {
        const acc = group.values[name] as Accumulator['values'][string];
        row[name] =
          metric.op === 'count'
            ? acc.count
            : metric.op === 'collect'
              ? acc.items
              : metric.op === 'sum'
                ? acc.sum
                : metric.op === 'avg'
                  ? acc.count === 0
                    ? null
                    : acc.sum / acc.count
                  : acc.count === 0
                    ? null
                    : metric.op === 'min'
                      ? acc.min
                      : acc.max;
      }
      return row;
    });
  }
}
