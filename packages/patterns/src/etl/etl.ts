import { ETLError, type ExecutionResult, type FsmFunction, type StreamSource } from '@fsm/core';
import { openReader } from '@fsm/io';
import type { DatabaseProviderOptions } from '@fsm/resources/database';
import { FileOffsetStore, runStreamJob } from '@fsm/streaming';
import { type PatternFsm, pattern } from '../pattern.js';
import { DatabaseSink } from './database-sink.js';

export interface EtlOptions {
  name?: string;
  /** JSON Schema every extracted record must pass (the `validate` stage). */
  schema?: Record<string, unknown>;
  /** Target field ← source field (dotted paths). Fields not mapped are dropped when `mapping` is given. */
  mapping?: Record<string, string>;
  /** Type conversions applied after mapping. */
  convert?: Record<string, 'number' | 'integer' | 'string' | 'boolean' | 'date'>;
  /** An enrichment step (sync or async) run last. */
  enrich?: FsmFunction;
}

/**
 * The transform half of an ETL as an FSM: `validate` (schema) → `transform` (mapping, conversion) →
 * `enrich` → `ready`. A record that fails says at which stage (its `finalState`).
 */
export function etlPattern(options: EtlOptions = {}): PatternFsm {
  const transforms: unknown[] = [];
  if (options.mapping) {
    // `__line` (the source line, added by runEtl) rides along so a rejected record can name it.
    transforms.push({
      type: 'builtin',
      name: 'select_fields',
      params: { fields: [...new Set([...Object.values(options.mapping), '__line'])] },
    });
    transforms.push({
      type: 'builtin',
      name: 'rename_fields',
      params: {
        mapping: Object.fromEntries(Object.entries(options.mapping).map(([to, from]) => [from, to])),
      },
    });
  }
  if (options.convert)
    transforms.push({ type: 'builtin', name: 'convert_types', params: { fields: options.convert } });
  const config = {
    name: options.name ?? 'etl',
    data_mode: { default: 'copy' },
    states: [
      {
        name: 'validate',
        is_start: true,
        ...(options.schema ? { schema: options.schema } : {}),
        arcs: [{ target: 'transform' }],
      },
      { name: 'transform', transforms, arcs: [{ target: 'enrich' }] },
      { name: 'enrich', transforms: options.enrich ? ['enrich'] : [], arcs: [{ target: 'ready' }] },
      { name: 'ready', is_end: true },
    ],
  };
  return pattern(config, options.enrich ? { enrich: options.enrich } : {});
}

export interface RunEtlOptions extends EtlOptions {
  /** A CSV/JSONL/JSON file (read with @fsm/io) or any record source. */
  source: string | AsyncIterable<Record<string, unknown>> | StreamSource<Record<string, unknown>>;
  load: {
    database: DatabaseProviderOptions;
    table: string;
    key: string[];
    /** Rejected records go to this table (`line`, `stage`, `code`, `message`, `record`), keyed by line. */
    rejectsTable: string;
  };
  /** Fail the run after this many bad records, or this fraction of records (checked after `minRecords`). */
  maxErrors?: number;
  maxErrorRate?: number;
  minRecords?: number;
  /** Commit positions here so a killed run resumes where it stopped (file path + stream id). */
  checkpoint?: { path: string; streamId: string };
  chunkSize?: number;
  concurrency?: number;
  signal?: AbortSignal;
}

export interface EtlMetrics {
  extracted: number;
  loaded: number;
  rejected: number;
  resumedFrom: number;
  durationMs: number;
  recordsPerSec: number;
}

async function* numbered(
  source: AsyncIterable<Record<string, unknown>>,
): AsyncGenerator<Record<string, unknown>> {
  let line = 0;
  for await (const record of source) yield { ...record, __line: ++line };
}

/**
 * Extract → validate → transform → enrich → load, in chunks: good records are upserted into `table` one
 * transaction per chunk, bad ones into `rejectsTable` with their line, stage and error. Error thresholds
 * stop the run with an `ETLError` naming the stage and the record; with `checkpoint`, a run started again
 * after a crash continues after the last loaded chunk, and upserts make a re-sent chunk harmless.
 */
export async function runEtl(options: RunEtlOptions): Promise<EtlMetrics> {
  const fsm = await etlPattern(options).create();
  const loads = new DatabaseSink({
    database: options.load.database,
    table: options.load.table,
    key: options.load.key,
  });
  const rejects = new DatabaseSink({
    database: options.load.database,
    table: options.load.rejectsTable,
    key: ['line'],
  });
  const source =
    typeof options.source === 'string' ? openReader(options.source, { cast: true }) : options.source;
  let failures = 0;
  let seen = 0;
  let primary: unknown;
  const started = performance.now();
  const check = (result: ExecutionResult) => {
    seen++;
    if (result.success) return;
    failures++;
    const overCount = options.maxErrors !== undefined && failures > options.maxErrors;
    const overRate =
      options.maxErrorRate !== undefined &&
      seen >= (options.minRecords ?? 100) &&
      failures / seen > options.maxErrorRate;
    if (overCount || overRate) {
      throw new ETLError(
        result.finalState || 'validate',
        `${failures} bad records of ${seen} exceed the threshold (${overCount ? `maxErrors ${options.maxErrors}` : `maxErrorRate ${options.maxErrorRate}`}); last: ${result.error?.message}`,
        { record: result.data },
      );
    }
  };
  let metrics: EtlMetrics | undefined;
  try {
    const stats = await runStreamJob(fsm, numbered(source), loads, {
      chunkSize: options.chunkSize ?? 1000,
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.checkpoint
        ? { offsetStore: new FileOffsetStore(options.checkpoint.path), streamId: options.checkpoint.streamId }
        : {}),
      errorSink: rejects,
      map: (result) => {
        check(result);
        const { __line, ...record } = result.data as Record<string, unknown>;
        if (result.success) return record;
        return {
          line: __line as number,
          stage: result.finalState,
          code: result.error?.code ?? 'UNKNOWN',
          message: result.error?.message ?? '',
          record: JSON.stringify(record),
        };
      },
    });
    const durationMs = performance.now() - started;
    metrics = {
      extracted: stats.records,
      loaded: stats.succeeded,
      rejected: stats.failed,
      resumedFrom: stats.resumedFrom,
      durationMs,
      recordsPerSec: (stats.records * 1000) / durationMs,
    };
  } catch (error) {
    primary = error;
  }
  const closing = await Promise.allSettled([fsm.close(), loads.close(), rejects.close()]);
  const failed = closing.flatMap((c) => (c.status === 'rejected' ? [c.reason as unknown] : []));
  // A close failure is reported with, not instead of, the error that ended the run.
  if (primary !== undefined)
    throw failed.length > 0
      ? new AggregateError([primary, ...failed], 'the ETL run failed, and so did closing it')
      : primary;
  if (failed.length > 0) throw new AggregateError(failed, 'closing the ETL run failed');
  return metrics as EtlMetrics;
}
