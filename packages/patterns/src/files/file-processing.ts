import type { StreamSink } from '@fsm/core';
import { type FileReaderOptions, openReader, openWriter } from '@fsm/io';
import { runStreamJob } from '@fsm/streaming';
import { type PatternFsm, pattern } from '../pattern.js';
import { type AggregateSpec, Aggregator } from './aggregate.js';

export interface FileProcessingOptions {
  name?: string;
  /** JSON Schema each record must pass; failures are counted as invalid. */
  schema?: Record<string, unknown>;
  /** Keep only records where this JSONata expression holds (e.g. `amount > 10 and region = "EU"`). */
  filter?: string;
  /** Chained transforms, as config function references (builtins, expressions). */
  transforms?: unknown[];
}

/** validate → filter (kept records go to `transform`, the others end in `dropped`) → transform → `kept`. */
export function fileProcessingPattern(options: FileProcessingOptions = {}): PatternFsm {
  const config = {
    name: options.name ?? 'file_processing',
    data_mode: { default: 'copy' },
    states: [
      {
        name: 'validate',
        is_start: true,
        ...(options.schema ? { schema: options.schema } : {}),
        arcs: options.filter
          ? [
              { target: 'transform', condition: { type: 'expression', code: options.filter }, priority: 1 },
              { target: 'dropped' },
            ]
          : [{ target: 'transform' }],
      },
      { name: 'transform', transforms: options.transforms ?? [], arcs: [{ target: 'kept' }] },
      { name: 'kept', is_end: true },
      { name: 'dropped', is_end: true },
    ],
  };
  return pattern(config, {});
}

export interface ProcessFileOptions extends FileProcessingOptions {
  input: string;
  read?: FileReaderOptions;
  /** Where kept records (or the aggregate rows) are written; format by extension. */
  output: string;
  aggregate?: AggregateSpec;
  signal?: AbortSignal;
}

export interface FileProcessingStats {
  records: number;
  kept: number;
  dropped: number;
  invalid: number;
  groups?: number;
}

/** Runs the pattern over a CSV/JSONL/JSON file in constant memory, writing records or group-by rows. */
export async function processFile(options: ProcessFileOptions): Promise<FileProcessingStats> {
  const fsm = await fileProcessingPattern(options).create();
  const writer = openWriter(options.output);
  const aggregator = options.aggregate ? new Aggregator(options.aggregate) : undefined;
  const stats: FileProcessingStats = { records: 0, kept: 0, dropped: 0, invalid: 0 };
  const sink: StreamSink<Record<string, unknown>> = {
    specificationVersion: 'v1',
    async write(batch, signal) {
      const kept = batch.filter((r) => r.__state === 'kept').map(({ __state: _state, ...r }) => r);
      if (aggregator) for (const r of kept) aggregator.add(r);
      else await writer.write(kept, signal);
    },
    async close() {
      // The file writer is closed by processFile.
    },
  };
  try {
    await runStreamJob(fsm, openReader(options.input, { cast: true, ...options.read }), sink, {
      ...(options.signal ? { signal: options.signal } : {}),
      map: (result) => {
        stats.records++;
        if (!result.success) stats.invalid++;
        else if (result.finalState === 'dropped') stats.dropped++;
        else stats.kept++;
        return {
          ...(result.data as Record<string, unknown>),
          __state: result.success ? result.finalState : 'invalid',
        };
      },
    });
    if (aggregator) {
      const rows = aggregator.rows();
      stats.groups = rows.length;
      await writer.write(rows);
    }
    await writer.close();
    return stats;
  } catch (error) {
    await writer.abort();
    throw error;
  } finally {
    await fsm.close();
  }
}
